"""nanoGPT's checkpoints, both ways: sample from one of theirs, export one of ours for their sample.py.

    python sample.py --out_dir=nanoGPT/out-shakespeare-char          # their ckpt.pt (+ data/<dataset>/meta.pkl)
    python -m nanogpt.nanogpt_format --out_dir=out/shakespeare-char --to=nanoGPT/out-ours   # ours -> theirs

A nanoGPT checkpoint is a dict: `model` (the state dict; `_orig_mod.` before every name when it was
compiled), `model_args` (block_size, vocab_size, n_layer, n_head, n_embd, dropout, bias), `config` (the
training keys, among them `dataset`), `optimizer`, `iter_num`, `best_val_loss`. Its parameter names are
ours. A char model's vocabulary is in `data/<dataset>/meta.pkl` (stoi, itos, vocab_size) beside nanoGPT's
code; without one, the model speaks GPT-2 BPE. nanoGPT's GPT uses the exact GELU, so a model of ours with
GPT-2's tanh GELU (from_pretrained) cannot be exported exactly and is refused.
"""

import argparse
import pickle
from pathlib import Path

import torch

from nanogpt.checkpoint import load_checkpoint
from nanogpt.data import Tokenizer
from nanogpt.model import GPT, GPTConfig
from zero_to_hero import UserError, run_main
from zero_to_hero.files import atomic_path

MODEL_ARGS = ("n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size", "dropout")


class _PlainUnpickler(pickle.Unpickler):
    """meta.pkl holds dicts, strings and ints only: refuse anything that would import code."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"meta.pkl refers to {module}.{name}; only plain data is accepted")


def read_meta_pkl(path) -> Tokenizer:
    """A char tokenizer from nanoGPT's meta.pkl (itos: {id: character})."""
    try:
        with open(path, "rb") as f:
            meta = _PlainUnpickler(f).load()
        itos = meta["itos"]
        chars = "".join(itos[i] for i in range(len(itos)))
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError) as e:
        raise UserError(f"{path} is not nanoGPT's meta.pkl ({type(e).__name__}: {e})") from None
    return Tokenizer("char", chars)


def find_meta(checkpoint: dict, out_dir, meta: str = "") -> Path | None:
    """meta.pkl: the one given, else beside the checkpoint, else nanoGPT's data/<dataset>/meta.pkl (from the cwd)."""
    if meta:
        if not Path(meta).is_file():
            raise UserError(f"meta file {meta} not found")
        return Path(meta)
    dataset = (checkpoint.get("config") or {}).get("dataset")
    for path in [Path(out_dir) / "meta.pkl"] + ([Path("data") / dataset / "meta.pkl"] if dataset else []):
        if path.is_file():
            return path
    return None


def model_from_nanogpt(checkpoint: dict, out_dir=".", meta: str = "") -> tuple[GPT, Tokenizer]:
    args = checkpoint["model_args"]
    missing = [k for k in MODEL_ARGS if k not in args and k != "dropout"]
    if missing:
        raise UserError(f"nanoGPT checkpoint in {out_dir} lacks model_args {', '.join(missing)}")
    model = GPT(GPTConfig(**{k: args[k] for k in MODEL_ARGS if k != "dropout"}))
    state = {k.removeprefix("_orig_mod."): v for k, v in checkpoint["model"].items()}
    state = {k: v for k, v in state.items() if not k.endswith(".attn.bias")}  # causal-mask buffers (no flash)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise UserError(f"the nanoGPT checkpoint in {out_dir} does not fit its model_args ({str(e)[:200]})") from None
    meta_path = find_meta(checkpoint, out_dir, meta)
    tokenizer = read_meta_pkl(meta_path) if meta_path else Tokenizer("gpt2")
    if meta_path is None and tokenizer.vocab_size > args["vocab_size"]:  # nanoGPT would assume GPT-2 BPE too
        dataset = (checkpoint.get("config") or {}).get("dataset")
        looked = [str(Path(out_dir) / "meta.pkl")] + ([str(Path("data") / dataset / "meta.pkl")] if dataset else [])
        raise UserError(
            f"no meta.pkl found (looked for {' and '.join(looked)}): without one the model would speak GPT-2 BPE "
            f"({tokenizer.vocab_size:,} tokens), but it has {args['vocab_size']:,}, a character vocabulary; give "
            "--meta=path/to/meta.pkl (nanoGPT writes it to data/<dataset>/meta.pkl)"
        )
    if tokenizer.vocab_size > args["vocab_size"]:
        raise UserError(f"{meta_path}: {tokenizer.vocab_size} characters, but the model has {args['vocab_size']}")
    return model, tokenizer


def export(out_dir, to) -> Path:
    """Our out_dir/ckpt.pt -> `to`/ckpt.pt in nanoGPT's format (+ meta.pkl for a char model)."""
    checkpoint = load_checkpoint(out_dir)
    if checkpoint["model_kind"] != "gpt":
        raise UserError("only GPT checkpoints export to nanoGPT (it has no bigram model)")
    args = checkpoint["model_args"]
    if args.get("gelu_approximate", "none") != "none":
        raise UserError("this model uses GPT-2's tanh GELU; nanoGPT's GPT has the exact one, so it cannot be exported")
    # nanoGPT's GPT is GPT-2's architecture: a model with a later upgrade would load there as another model (or,
    # without wpe, not at all). The optimizer does not matter: only the weights are exported.
    defaults = GPTConfig()
    upgraded = [f"{k}={v!r}" for k, v in args.items() if k not in (*MODEL_ARGS, "gelu_approximate")
                and hasattr(defaults, k) and v != getattr(defaults, k)]  # fmt: skip
    if upgraded:
        raise UserError(f"this model has {', '.join(upgraded)}; nanoGPT's GPT is GPT-2's, so it cannot be exported")
    tokenizer = checkpoint["tokenizer"]
    dataset = Path(checkpoint["config"].get("dataset", "ours")).stem
    theirs = {
        "model": checkpoint["model"],
        "model_args": {k: args.get(k, 0.0) for k in MODEL_ARGS},
        "iter_num": checkpoint.get("iter_num", 0),
        "best_val_loss": checkpoint.get("best_val_loss", float("inf")),
        "config": {**checkpoint["config"], "dataset": dataset},
    }
    folder = Path(to)
    with atomic_path(folder / "ckpt.pt") as tmp:
        torch.save(theirs, tmp)
    if tokenizer["encoding"] == "char":
        itos = dict(enumerate(tokenizer["itos"]))
        meta = {"vocab_size": len(itos), "itos": itos, "stoi": {ch: i for i, ch in itos.items()}}
        with atomic_path(folder / "meta.pkl") as tmp:
            tmp.write_bytes(pickle.dumps(meta))
    return folder / "ckpt.pt"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", required=True, help="our run's folder (ckpt.pt)")
    parser.add_argument("--to", required=True, help="folder for nanoGPT's ckpt.pt (and meta.pkl)")
    args = parser.parse_args(argv)
    path = export(args.out_dir, args.to)
    extra = " and meta.pkl (copy it to nanoGPT's data/<dataset>/)" if (Path(args.to) / "meta.pkl").exists() else ""
    print(f"wrote {path}{extra}: python sample.py --out_dir={args.to} in nanoGPT's folder")


if __name__ == "__main__":
    run_main(main)
