"""Reading a checkpoint: one place that turns every way a file can be wrong into one clear line.

    checkpoint = load_checkpoint(out_dir / "ckpt.pt", hint="train one first: python train.py")

Always `weights_only=True` (a checkpoint is tensors and plain values; unpickling arbitrary objects would run
arbitrary code) and always onto the CPU: `load_state_dict` / `.to(device)` move the weights where the model
is, and random-number-generator states must stay CPU tensors. Writing goes through `files.atomic_path`.
Each package checks the structure of the dict it gets back (which parts it needs) itself.
"""

import pickle
import zipfile
from pathlib import Path

import torch

from zero_to_hero.errors import UserError

# what torch.load raises for a truncated, foreign, corrupt or unreadable file (it depends on where it breaks)
UNREADABLE = (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile)


def load_checkpoint(path, *, hint: str = "") -> dict:
    """The dict saved at `path`; a missing file, a folder, an unreadable file or anything but a non-empty dict
    is a UserError naming the path and the problem, followed by `hint` (what to do about it)."""
    path = Path(path)
    tail = f"; {hint}" if hint else ""
    if path.is_dir():
        raise UserError(f"checkpoint {path} is a folder, not a file{tail}")
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}{tail}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except UNREADABLE as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"checkpoint {path} is corrupt or not a checkpoint ({reason[:120]}){tail}") from None
    if not isinstance(checkpoint, dict) or not checkpoint:
        raise UserError(f"checkpoint {path} holds a {type(checkpoint).__name__}, not a dict of weights{tail}")
    return checkpoint
