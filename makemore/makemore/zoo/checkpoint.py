"""The zoo's checkpoints: what they hold, written atomically, read through zero_to_hero.checkpoints.

    best.pt  header + model weights + step, test loss              (--sample-only)
    last.pt  header + weights + optimizer + batch sampler + step... (--resume)

The header (type, sizes, vocabulary, seed) rebuilds the model and tells whether a checkpoint belongs to the run
at hand.
"""

from dataclasses import asdict
from pathlib import Path

import torch

from makemore.zoo.config import ModelConfig
from makemore.zoo.dataset import SequenceData
from zero_to_hero import UserError
from zero_to_hero.checkpoints import load_checkpoint
from zero_to_hero.files import atomic_path

HINT = "train one first (without --resume/--sample-only), or fix --out-dir"


def save(obj: dict, path: Path) -> None:
    """A crash mid-write leaves the old checkpoint (or none), never half a file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load(path: Path) -> dict:
    """A checkpoint of ours: a dict with the model's weights and its header."""
    ckpt = load_checkpoint(path, hint=HINT)  # missing, a folder, corrupt, not a dict: one line already
    missing = [key for key in ("model", "type", "config", "itos", "seed") if key not in ckpt]
    if missing:
        raise UserError(f"{path} is not a makemore checkpoint (no {', '.join(missing)}); delete it and train again")
    return ckpt


def header(model_type: str, config: ModelConfig, data: SequenceData, seed: int) -> dict:
    """What a checkpoint needs to rebuild its model and to check it belongs to the data at hand."""
    return {"type": model_type, "config": asdict(config), "itos": list(data.vocab.itos), "seed": seed}


def check_header(ckpt: dict, expected: dict, path: Path) -> None:
    for key, value in expected.items():
        if ckpt.get(key) != value:
            raise UserError(
                f"{path} was trained with {key} = {ckpt.get(key)!r}, but this run has {value!r}; "
                "use the same flags and --input, or another --out-dir"
            )
