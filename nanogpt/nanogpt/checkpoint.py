"""Checkpoints: written atomically (temp file + rename), read with weights_only=True.

A checkpoint is a dict of tensors and plain Python values: the model's weights and its constructor
arguments, the tokenizer (so sample.py decodes with the checkpoint's own vocabulary), and — for
resuming — the optimizer, the iteration, the best val loss and the random-number generators' states.
"""

import contextlib
import dataclasses
from pathlib import Path

import torch

from nanogpt.bigram import BigramLanguageModel
from nanogpt.config import KEYS
from nanogpt.data import Tokenizer
from nanogpt.model import GPT, GPTConfig
from zero_to_hero import UserError
from zero_to_hero import checkpoints as shared_checkpoints
from zero_to_hero.files import atomic_path

FILENAME = "ckpt.pt"


# what each part of a checkpoint must be; resuming also needs the training state
STRUCTURE = {"model": dict, "model_kind": str, "model_args": dict, "tokenizer": dict, "config": dict}
RESUME_STRUCTURE = {"optimizer": dict, "iter_num": int, "best_val_loss": float, "train_seconds": float, "rng": dict}

# The config keys a resumed run keeps from its checkpoint: the model (its kind and its architecture, i.e. every
# GPTConfig field that is also a config key, but dropout, which may change), its data and its optimizer. Asking
# for other values of RESUME_FIXED is an error; data_dir is kept unless another is asked for (the data, moved).
ARCHITECTURE_KEYS = tuple(f.name for f in dataclasses.fields(GPTConfig) if f.name in KEYS and f.name != "dropout")
RESUME_FIXED = ("model", *ARCHITECTURE_KEYS, "dataset", "encoding", *[k for k in ("optimizer",) if k in KEYS])
RESUME_KEEPS = (*RESUME_FIXED, "data_dir")
# what every resumable checkpoint's config has held; a key added since (an architecture switch, the optimizer)
# that an older checkpoint lacks was, for it, the default: GPTConfig's, or the config's
ALWAYS_SAVED = (
    "model", "n_layer", "n_head", "n_embd", "bias", "block_size", "vocab_size", "dataset", "encoding", "data_dir",
)  # fmt: skip
MODEL_DEFAULTS = {f.name: f.default for f in dataclasses.fields(GPTConfig)}


def save_checkpoint(checkpoint: dict, out_dir, filename: str = FILENAME) -> Path:
    path = Path(out_dir) / filename
    try:
        with atomic_path(path) as tmp:  # a crash mid-save leaves the previous checkpoint intact
            torch.save(checkpoint, tmp)
    except (OSError, RuntimeError) as e:  # no space left, quota, a folder gone...: torch raises either
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e).strip().splitlines()[0]
        kept = "the previous one is kept" if path.is_file() else "nothing was written"
        raise UserError(f"could not write checkpoint {path} ({reason}); {kept}. Free some space and resume") from None
    return path


def is_nanogpt_checkpoint(checkpoint: dict) -> bool:
    """Written by nanoGPT's train.py (see nanogpt_format.py): its weights and model_args, no model_kind."""
    return "model_args" in checkpoint and "model" in checkpoint and "model_kind" not in checkpoint


def _check_structure(checkpoint: dict, path: Path, for_resume: bool) -> None:
    """Every part of the right kind, the config complete, the model_args able to build a model."""
    expected = {**STRUCTURE, **(RESUME_STRUCTURE if for_resume else {})}
    missing = sorted(set(expected) - set(checkpoint))
    if missing:
        raise UserError(f"checkpoint {path} lacks {', '.join(missing)}; it was not written by nanogpt's train.py")
    for key, kind in expected.items():
        value = checkpoint[key]
        if not (isinstance(value, kind) or (kind is float and isinstance(value, int))):
            raise UserError(
                f"checkpoint {path}: {key!r} is a {type(value).__name__}, not a {kind.__name__}; train again"
            )
    if not for_resume:
        return  # sampling needs only the model and its tokenizer
    lacking = [k for k in ALWAYS_SAVED if k not in checkpoint["config"]]
    if lacking:
        raise UserError(f"checkpoint {path}: its config lacks {', '.join(lacking)}; it cannot be resumed")
    if "sampler" not in checkpoint["rng"]:
        raise UserError(f"checkpoint {path}: its rng lacks the sampler's state; it cannot be resumed")


def with_later_keys(config: dict) -> dict:
    """A checkpoint's config with the kept keys it predates (RESUME_KEEPS beyond ALWAYS_SAVED) at the values
    that describe it: the model's defaults (GPTConfig's), else the config's (the optimizer: AdamW)."""
    missing = [k for k in RESUME_KEEPS if k not in config]
    return {**{k: MODEL_DEFAULTS.get(k, KEYS[k].default) for k in missing}, **config}


def load_checkpoint(out_dir, device="cpu", filename: str = FILENAME, for_resume: bool = False) -> dict:
    """The checkpoint in out_dir, every tensor on the CPU whatever `device` (kept for callers; ignored):
    the random-number generators' states must be CPU byte tensors (set_rng_state rejects GPU ones), and
    load_state_dict / .to(device) move weights and optimizer state to where the model is. For a resume,
    its config also holds the keys added since it was written (with_later_keys)."""
    path = Path(out_dir) / filename
    checkpoint = shared_checkpoints.load_checkpoint(path, hint=f"train one first (python train.py --out_dir={out_dir})")
    if is_nanogpt_checkpoint(checkpoint) and not for_resume:
        return checkpoint  # nanoGPT's format: sample.py reads it
    _check_structure(checkpoint, path, for_resume)
    if for_resume:
        checkpoint["config"] = with_later_keys(checkpoint["config"])
    return checkpoint


def build_model(kind: str, model_args: dict):
    if kind == "bigram":
        return BigramLanguageModel(model_args["vocab_size"])
    return GPT(GPTConfig(**model_args))


@contextlib.contextmanager
def fitting_its_config(path=None):
    """Around building a model from a checkpoint and loading its states: what torch raises when the weights,
    the optimizer state or the model_args do not fit together becomes one UserError line."""
    try:
        yield
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        reason = str(e).strip().splitlines()[0]
        where = f"checkpoint {path}" if path else "checkpoint"
        raise UserError(f"{where} does not match its own config ({reason}); train again") from None


def model_from_checkpoint(checkpoint: dict):
    """(model, tokenizer) rebuilt from a checkpoint, weights loaded; a mismatch between the weights and the
    model_args is a UserError."""
    with fitting_its_config():
        model = build_model(checkpoint["model_kind"], checkpoint["model_args"])
        model.load_state_dict(checkpoint["model"])
        tokenizer = Tokenizer.from_meta(checkpoint["tokenizer"])
    return model, tokenizer
