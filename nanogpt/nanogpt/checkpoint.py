"""Checkpoints: written atomically (temp file + rename), read with weights_only=True.

A checkpoint is a dict of tensors and plain Python values (`run_state`): the model's weights and its
constructor arguments, the tokenizer (so sample.py decodes with the checkpoint's own vocabulary), and — for
resuming — the optimizer, the iteration, the best val loss, the evaluations so far and the random-number
generators' states. The trainer's resume rules live here too: which keys a resumed run keeps (`resume_config`)
and which random streams each rank continues (`rank_rng_state`).
"""

import contextlib
import dataclasses
import os
from pathlib import Path

import torch

from nanogpt.bigram import BigramLanguageModel
from nanogpt.config import KEYS, TrainConfig
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
RESUME_NOT_NOTED = ("init_from", "overwrite", "device", "threads", "eval_only")  # how to run, not what: unmentioned
TRAINED = ("ckpt.pt", "best.pt")


def trained_files(out_dir) -> list[str]:
    """The trained checkpoints out_dir holds (ckpt.pt, best.pt)."""
    return [name for name in TRAINED if (Path(out_dir) / name).is_file()]


def refuse_to_train_over(out_dir, trained: list[str]) -> None:
    raise UserError(
        f"{out_dir} already holds a trained {' and '.join(trained)}; continue it with "
        "--init_from=resume, replace it with --overwrite=True, or choose another --out_dir"
    )


def resume_config(cfg: TrainConfig, saved: dict, given: set[str] | None) -> tuple[TrainConfig, dict]:
    """(the resumed run's config, {key: (checkpoint's value, asked-for value)}): the checkpoint's model, data and
    optimizer keys (RESUME_KEEPS; a data_dir asked for is used). The changes are those among the keys the user
    set (all keys when given is None); asking for other values of RESUME_FIXED is a UserError."""
    keys = KEYS.keys() if given is None else given
    changes = {k: (saved[k], getattr(cfg, k)) for k in sorted(keys) if k in saved and saved[k] != getattr(cfg, k)}
    fixed = {k: v for k, v in changes.items() if k in RESUME_FIXED}
    if fixed:
        listed = ", ".join(f"{k}={new!r} (checkpoint: {old!r})" for k, (old, new) in fixed.items())
        raise UserError(
            f"cannot resume with {listed}: the model and data stay the checkpoint's; drop those flags, "
            "or train anew into another out_dir (or with --overwrite=True)"
        )
    changes = {k: v for k, v in changes.items() if k not in RESUME_NOT_NOTED}
    kept = [k for k in RESUME_KEEPS if k not in changes]
    return dataclasses.replace(cfg, **{k: saved[k] for k in kept}), changes


def rng_state(device: torch.device) -> dict:
    """This process's dropout generators: the CPU one, and the current GPU's where training runs on CUDA."""
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def rank_rng_state(rng: dict, world, log=print) -> dict | None:
    """The dropout streams this rank continues: its own where the checkpoint holds one per rank of this world
    size, the single process's for a world of 1; None (reseeded per rank) for another world size."""
    ranks = rng.get("ranks")
    if ranks is not None and len(ranks) == world.size:
        return ranks[world.rank]
    if world.size == 1:
        return {"torch": rng["torch"], **({"cuda": rng["cuda"]} if "cuda" in rng else {})}
    log(f"the checkpoint's dropout streams are not for {world.size} processes: they restart from seeds")
    return None


def restore(run, saved: dict, changes: dict) -> dict | None:
    """A training run (nanogpt.trainer.Run) where the checkpoint `saved` left it: model, optimizer, counters,
    evaluations, the sampler; returns this rank's dropout streams, to set once the model is wrapped (None: the
    checkpoint has none for this world size)."""
    with fitting_its_config(run.out_dir / FILENAME):
        run.raw_model.load_state_dict(saved["model"])
        run.optimizer.load_state_dict(saved["optimizer"])
    run.iter_num, run.best_val_loss, run.train_seconds = (
        saved["iter_num"],
        saved["best_val_loss"],
        saved["train_seconds"],
    )
    run.evals, run.hellaswag_results = list(saved.get("evals", [])), list(saved.get("hellaswag", []))
    run.train_batches.set_state(saved["rng"]["sampler"].cpu())
    run.log(f"{'evaluating' if run.cfg.eval_only else 'resumed from'} {run.out_dir / FILENAME} at iter {run.iter_num}")
    if changes:
        run.log(f"changed since the checkpoint: {', '.join(f'{k} {a!r} -> {b!r}' for k, (a, b) in changes.items())}")
    return rank_rng_state(saved["rng"], run.world, run.log)


def run_state(run, rank_states: list[dict]) -> dict:
    """What a checkpoint holds of a training run (nanogpt.trainer.Run); rank_states: every rank's rng_state."""
    return {
        "model": run.raw_model.state_dict(),
        "model_kind": run.model_kind,
        "model_args": run.model_args,
        "tokenizer": run.tokenizer.meta(),
        "optimizer": run.optimizer.state_dict(),
        "iter_num": run.iter_num,
        "best_val_loss": run.best_val_loss,
        "train_seconds": run.train_seconds,
        "evals": run.evals,  # so that a resumed run's metrics.json lists every evaluation of the run
        "hellaswag": run.hellaswag_results,
        # "torch" (and "cuda") are rank 0's; "ranks" holds every rank's, so each continues its own stream
        "rng": {"sampler": run.train_batches.state(), **rank_states[0], "ranks": rank_states},
        "config": dataclasses.asdict(run.cfg),
    }


def save_checkpoint(saved: dict, out_dir, filename: str = FILENAME) -> Path:
    path = Path(out_dir) / filename
    try:
        with atomic_path(path) as tmp:  # a crash mid-save leaves the previous checkpoint intact
            torch.save(saved, tmp)
    except (OSError, RuntimeError) as e:  # no space left, quota, a folder gone...: torch raises either
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e).strip().splitlines()[0]
        kept = "the previous one is kept" if path.is_file() else "nothing was written"
        raise UserError(f"could not write checkpoint {path} ({reason}); {kept}. Free some space and resume") from None
    return path


def is_nanogpt_checkpoint(saved: dict) -> bool:
    """Written by nanoGPT's train.py (see nanogpt_format.py): its weights and model_args, no model_kind."""
    return "model_args" in saved and "model" in saved and "model_kind" not in saved


def _check_structure(saved: dict, path: Path, for_resume: bool) -> None:
    """Every part of the right kind, the config complete, the model_args able to build a model."""
    expected = {**STRUCTURE, **(RESUME_STRUCTURE if for_resume else {})}
    missing = sorted(set(expected) - set(saved))
    if missing:
        raise UserError(f"checkpoint {path} lacks {', '.join(missing)}; it was not written by nanogpt's train.py")
    for key, kind in expected.items():
        value = saved[key]
        if not (isinstance(value, kind) or (kind is float and isinstance(value, int))):
            raise UserError(
                f"checkpoint {path}: {key!r} is a {type(value).__name__}, not a {kind.__name__}; train again"
            )
    if not for_resume:
        return  # sampling needs only the model and its tokenizer
    lacking = [k for k in ALWAYS_SAVED if k not in saved["config"]]
    if lacking:
        raise UserError(f"checkpoint {path}: its config lacks {', '.join(lacking)}; it cannot be resumed")
    if "sampler" not in saved["rng"]:
        raise UserError(f"checkpoint {path}: its rng lacks the sampler's state; it cannot be resumed")


def with_later_keys(config: dict) -> dict:
    """A checkpoint's config with the kept keys it predates (RESUME_KEEPS beyond ALWAYS_SAVED) at the values
    that describe it: the model's defaults (GPTConfig's), else the config's (the optimizer: AdamW)."""
    missing = [k for k in RESUME_KEEPS if k not in config]
    return {**{k: MODEL_DEFAULTS.get(k, KEYS[k].default) for k in missing}, **config}


def load_checkpoint(out_dir, filename: str = FILENAME, for_resume: bool = False) -> dict:
    """The checkpoint in out_dir, every tensor on the CPU whatever device the run uses: the random-number
    generators' states must be CPU byte tensors (set_rng_state rejects GPU ones), and load_state_dict /
    .to(device) move weights and optimizer state to where the model is. For a resume, its config also holds
    the keys added since it was written (with_later_keys)."""
    path = Path(out_dir) / filename
    saved = shared_checkpoints.load_checkpoint(path, hint=f"train one first (python train.py --out_dir={out_dir})")
    if is_nanogpt_checkpoint(saved) and not for_resume:
        return saved  # nanoGPT's format: sample.py reads it
    _check_structure(saved, path, for_resume)
    if for_resume:
        saved["config"] = with_later_keys(saved["config"])
    return saved


def model_args_from_config(cfg: TrainConfig, tokenizer_vocab_size: int) -> dict:
    """The model's constructor arguments: for a GPT every GPTConfig field that is also a config key (a new
    architecture switch needs no edit here), for the bigram its table size; the vocabulary is at least the
    tokenizer's (more pads the embedding; the padding rows are never targets)."""
    if 0 < cfg.vocab_size < tokenizer_vocab_size:
        raise UserError(f"vocab_size {cfg.vocab_size} is smaller than the tokenizer's {tokenizer_vocab_size}")
    vocab_size = max(cfg.vocab_size, tokenizer_vocab_size)
    if cfg.model != "gpt":
        return {"vocab_size": vocab_size, "block_size": cfg.block_size}
    args = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(GPTConfig) if f.name in KEYS}
    return {**args, "vocab_size": vocab_size}


def estimated_params(kind: str, model_args: dict) -> int:
    """The parameter count of build_model(kind, model_args), from the arguments alone (nothing is allocated):
    per block 12 C^2 (attention 4 C^2, MLP 8 C^2) plus its biases and norms, the embeddings, an untied head."""
    vocab = model_args["vocab_size"]
    if kind == "bigram":
        return vocab * vocab
    args = {**MODEL_DEFAULTS, **model_args}
    C, L, bias, norms = args["n_embd"], args["n_layer"], args["bias"], args["norm"] == "layernorm"
    block = 12 * C * C + (9 * C if bias else 0) + (2 * C * (2 if bias else 1) if norms else 0)  # and 2 norms
    embeddings = vocab * C + (args["block_size"] * C if args["pos_emb"] == "learned" else 0)
    head = 0 if args["tie_weights"] else vocab * C
    return L * block + embeddings + head + (C * (2 if bias else 1) if norms else 0)  # the final norm


def device_memory(device: torch.device) -> int | None:
    """The device's memory in bytes: a CUDA GPU's, the machine's RAM for the CPU; None where unknown (MPS)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    if device.type == "cpu" and hasattr(os, "sysconf"):
        with contextlib.suppress(ValueError, OSError):
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return None


def check_model_fits(kind: str, model_args: dict, device: torch.device) -> None:
    """Refuse, before any allocation, a model whose weights, gradients and AdamW state (16 bytes a parameter in
    fp32) exceed the device's memory (device_memory): a 10**12-layer config would otherwise build layers for
    minutes."""
    memory_bytes = device_memory(device)
    params = estimated_params(kind, model_args)
    needed = 16 * params
    if memory_bytes and needed > memory_bytes:
        raise UserError(
            f"the model would have ~{params:,.3g} parameters: ~{needed / 2**30:,.3g} GiB for its weights, gradients "
            f"and AdamW state, more than the {memory_bytes / 2**30:,.1f} GiB of {device}; choose a smaller "
            "n_layer / n_embd"
        )


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


def model_from_checkpoint(saved: dict):
    """(model, tokenizer) rebuilt from a checkpoint's contents, weights loaded; a mismatch between the weights and
    the model_args is a UserError."""
    with fitting_its_config():
        model = build_model(saved["model_kind"], saved["model_args"])
        model.load_state_dict(saved["model"])
        tokenizer = Tokenizer.from_meta(saved["tokenizer"])
    return model, tokenizer
