"""Checkpoints: written to a temporary file and renamed into place, read back with weights_only=True."""

import pickle
from pathlib import Path

import torch

from zero_to_hero import UserError
from zero_to_hero.files import atomic_path


def save(obj: dict, path: Path) -> None:
    """A crash mid-write leaves the old checkpoint (or none), never half a file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load(path: Path) -> dict:
    """Tensors, numbers, strings, lists and dicts only: weights_only refuses arbitrary pickled code."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}; train first (without --resume/--sample-only) or fix --out-dir")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, ValueError, OSError) as e:
        raise UserError(f"{path} is not a readable checkpoint ({type(e).__name__}); delete it and train again") from e
    if not isinstance(obj, dict) or "model" not in obj:
        raise UserError(f"{path} is not a makemore checkpoint; delete it and train again")
    return obj
