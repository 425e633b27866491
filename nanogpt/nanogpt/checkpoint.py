"""Checkpoints: written atomically (temp file + rename), read with weights_only=True.

A checkpoint is a dict of tensors and plain Python values: the model's weights and its constructor
arguments, the tokenizer (so sample.py decodes with the checkpoint's own vocabulary), and — for
resuming — the optimizer, the iteration, the best val loss and the random-number generators' states.
"""

import pickle
import zipfile
from pathlib import Path

import torch

from nanogpt.bigram import BigramLanguageModel
from nanogpt.data import Tokenizer
from nanogpt.model import GPT, GPTConfig
from zero_to_hero import UserError
from zero_to_hero.files import atomic_path

FILENAME = "ckpt.pt"


def save_checkpoint(checkpoint: dict, out_dir, filename: str = FILENAME) -> Path:
    path = Path(out_dir) / filename
    with atomic_path(path) as tmp:  # a crash mid-save leaves the previous checkpoint intact
        torch.save(checkpoint, tmp)
    return path


def load_checkpoint(out_dir, device="cpu", filename: str = FILENAME) -> dict:
    """The checkpoint in out_dir, every tensor on the CPU whatever `device` (kept for callers; ignored):
    the random-number generators' states must be CPU byte tensors (set_rng_state rejects GPU ones), and
    load_state_dict / .to(device) move weights and optimizer state to where the model is."""
    path = Path(out_dir) / filename
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}; train one first (python train.py --out_dir={out_dir})")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile) as e:
        raise UserError(f"checkpoint {path} is corrupt or not a checkpoint ({type(e).__name__}); train again") from None
    keys = set(checkpoint) if isinstance(checkpoint, dict) else set()
    if {"model", "model_args"} <= keys and "model_kind" not in keys:
        return checkpoint  # nanoGPT's format (see nanogpt_format.py): sample.py reads it
    missing = {"model", "model_kind", "model_args", "tokenizer", "config"} - keys
    if missing:
        raise UserError(f"checkpoint {path} lacks {', '.join(sorted(missing))}; it was not written by nanogpt")
    return checkpoint


def build_model(kind: str, model_args: dict):
    if kind == "bigram":
        return BigramLanguageModel(model_args["vocab_size"])
    return GPT(GPTConfig(**model_args))


def model_from_checkpoint(checkpoint: dict):
    """(model, tokenizer) rebuilt from a checkpoint, weights loaded."""
    model = build_model(checkpoint["model_kind"], checkpoint["model_args"])
    model.load_state_dict(checkpoint["model"])
    return model, Tokenizer.from_meta(checkpoint["tokenizer"])
