"""Saving a trained model to model.pt and loading it back (sample.py), checked against the model its config
describes."""

import torch

from wavenet.data import Vocab
from wavenet.layers import Module
from wavenet.model import Config, build_model
from zero_to_hero import UserError
from zero_to_hero.checkpoints import load_checkpoint
from zero_to_hero.files import atomic_path


def save_model(model: Module, config: Config, kind: str, vocab: Vocab, path) -> None:
    """Tensors in the order parameters() and buffers() list them; written to a temporary file, then renamed."""
    state = {
        "kind": kind,
        "config": config.to_dict(),
        "chars": "".join(vocab.itos),
        "parameters": [p.detach().cpu() for p in model.parameters()],
        "buffers": [b.cpu() for b in model.buffers()],
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_model(path, hint: str = "train one with train.py") -> tuple[Module, Vocab, str]:
    """The model that save_model wrote (in eval mode, its Config as `model.config`), its vocabulary and kind.
    A missing or unreadable file (followed by `hint`), or one that holds something else than save_model's dict,
    is a UserError."""
    state = load_checkpoint(path, hint=hint)
    try:
        kind, config, vocab = state["kind"], Config(**state["config"]), Vocab(tuple(state["chars"]))
        if len(vocab) != config.vocab_size:
            raise ValueError(f"{len(vocab)} characters for a vocabulary of {config.vocab_size}")
        model = build_model(kind, config)
        tensors = list(state["parameters"]) + list(state["buffers"])
        mine = model.parameters() + model.buffers()
        if len(tensors) != len(mine) or any(a.shape != b.shape for a, b in zip(mine, tensors, strict=False)):
            raise ValueError("its tensors do not fit the model its config describes")
    except (KeyError, TypeError, ValueError, AttributeError, UserError) as e:  # a dict, but not save_model's
        raise UserError(f"{path} is not a wavenet checkpoint ({type(e).__name__}: {e})") from None
    with torch.no_grad():
        for tensor, saved in zip(mine, tensors, strict=True):
            tensor.copy_(saved)
    model.config = config
    return model.eval(), vocab, kind
