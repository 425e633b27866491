"""Training configuration: defaults, then a config file, then --key=value overrides (nanoGPT's style).

    cfg = load_config("configs/shakespeare_char_cpu.py", ["--max_iters=500", "--dropout=0.1"])

A config file is Python that assigns some of the keys below (`n_layer = 6`). Every value is checked
against the key's type; an unknown key or a bad value is a UserError that lists the valid keys.
"""

import argparse
import contextlib
import dataclasses
import math
import runpy
from dataclasses import dataclass, field
from pathlib import Path

from nanogpt.model import CHOICES
from zero_to_hero import UserError
from zero_to_hero.device import threads_option


def _key(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    # I/O
    out_dir: str = _key("out/shakespeare-char", "folder for ckpt.pt and metrics.json")
    init_from: str = _key("scratch", "scratch, resume (out_dir/ckpt.pt), or OpenAI's gpt2, gpt2-medium, -large, -xl")
    overwrite: bool = _key(False, "train from scratch into an out_dir that holds a checkpoint, replacing it")
    eval_interval: int = _key(250, "evaluate train/val loss (and maybe checkpoint) every this many iterations")
    eval_iters: int = _key(50, "batches per split in each evaluation")
    log_interval: int = _key(50, "print a progress line every this many iterations")
    always_save_checkpoint: bool = _key(False, "checkpoint at every evaluation, not only when val loss improves")
    seed: int = _key(1337, "seed for the model init, the batch sampler and dropout")
    pretrained_dir: str = _key("", "init_from=gpt2*: a Hugging Face GPT-2 folder (default: the Hugging Face cache)")
    checkpoint_interval: int = _key(0, "also write ckpt.pt (the last) every this many iterations and best.pt (0 = off)")
    eval_only: bool = _key(False, "evaluate once and exit (nanoGPT's eval_gpt2 configs)")
    hellaswag_interval: int = _key(0, "HellaSwag accuracy every this many iterations (0 = off; GPT-2 BPE models)")
    hellaswag_limit: int = _key(0, "HellaSwag examples per evaluation (0 = all 10,042)")
    hellaswag_file: str = _key("hellaswag", "the 'hellaswag' data set, or a hellaswag_val.jsonl / text file")
    sample_interval: int = _key(0, "print (and log) samples every this many iterations, rank 0 (0 = off)")
    sample_prompt: str = _key("\n", "the fixed prompt of the periodic samples")
    sample_count: int = _key(4, "samples per sample_interval")
    sample_tokens: int = _key(32, "new tokens per periodic sample")
    wandb_log: bool = _key(False, "log to Weights & Biases (needs `pip install wandb`)")
    wandb_project: str = _key("nanogpt", "Weights & Biases project")
    wandb_run_name: str = _key("run", "Weights & Biases run name")
    # data
    dataset: str = _key("tinyshakespeare", "a zero_to_hero data set name or a path to a UTF-8 text file")
    encoding: str = _key("char", "'char' (vocabulary from the text) or 'gpt2' (tiktoken BPE)")
    data_dir: str = _key("out/data", "where prepared token files go (one subfolder per dataset and encoding)")
    batch_size: int = _key(12, "sequences per micro-batch")
    block_size: int = _key(64, "context length in tokens")
    gradient_accumulation_steps: int = _key(1, "micro-batches summed into one optimizer step")
    total_batch_size: int = _key(0, "tokens per optimizer step, all ranks (0 = batch_size*block_size*grad. acc.)")
    # model
    model: str = _key("gpt", "'gpt' or 'bigram' (the lecture's baseline)")
    n_layer: int = _key(4, "transformer blocks")
    n_head: int = _key(4, "attention heads per block")
    n_embd: int = _key(128, "embedding width")
    dropout: float = _key(0.0, "dropout probability (0 for small data, ~0.1-0.2 when overfitting)")
    bias: bool = _key(False, "biases in Linear and LayerNorm layers")
    vocab_size: int = _key(0, "0 = the tokenizer's; more pads the embedding (GPT-2: 50304, a multiple of 64)")
    # the model after GPT-2 (README "Beyond GPT-2"; the defaults are GPT-2's)
    pos_emb: str = _key("learned", "positions: 'learned' (a wpe table, GPT-2) or 'rope' (rotary, in attention)")
    norm: str = _key("layernorm", "'layernorm' (GPT-2) or 'rmsnorm' (RMSNorm without parameters)")
    qk_norm: bool = _key(False, "RMSNorm of each head's queries and keys before attention")
    mlp_act: str = _key("gelu", "the MLP's nonlinearity: 'gelu' (GPT-2) or 'relu2' (ReLU squared)")
    tie_weights: bool = _key(True, "one matrix for the token embedding and the output head (GPT-2)")
    zero_init: bool = _key(False, "zero-initialize the residual output projections (and an untied head)")
    logit_softcap: float = _key(0.0, "> 0: logits = cap * tanh(logits / cap) (0 = off)")
    # optimizer: AdamW (or Muon for the hidden matrices), linear warmup then cosine decay to min_lr
    optimizer: str = _key("adamw", "'adamw', or 'muon': Muon for the blocks' matrices, AdamW for the rest")
    learning_rate: float = _key(1e-3, "peak learning rate (AdamW)")
    muon_lr: float = _key(0.02, "optimizer=muon: the Muon matrices' peak learning rate (same schedule)")
    muon_momentum: float = _key(0.95, "optimizer=muon: Muon's (Nesterov) momentum")
    max_iters: int = _key(2000, "optimizer steps in total")
    weight_decay: float = _key(0.1, "AdamW weight decay (matrices only; biases, norms and wpe are not decayed)")
    beta1: float = _key(0.9, "AdamW beta1")
    beta2: float = _key(0.99, "AdamW beta2")
    grad_clip: float = _key(1.0, "clip the global gradient norm to this (0 = off)")
    decay_lr: bool = _key(True, "warmup, then cosine decay (False = the constant learning_rate, no warmup, as nanoGPT)")
    warmup_iters: int = _key(100, "linear warmup steps")
    lr_decay_iters: int = _key(2000, "step at which the cosine reaches min_lr (usually = max_iters)")
    min_lr: float = _key(1e-4, "final learning rate (usually learning_rate / 10)")
    # system
    device: str = _key("auto", "auto, cpu, cuda, cuda:N or mps")
    dtype: str = _key("auto", "auto, float32, bfloat16 or float16 (auto: bf16 on CUDA that has it, else fp32)")
    compile: bool = _key(False, "torch.compile the model (pays on GPUs; on a CPU ~3.5% after ~30 s of compiling)")
    threads: str = _key("auto", "torch CPU threads: a number, or auto (the cores no other process keeps busy)")
    backend: str = _key("auto", "torch.distributed backend under torchrun: auto (nccl on CUDA, else gloo), nccl, gloo")
    peak_flops: float = _key(0.0, "the GPU's peak FLOP/s for the MFU figure (0 = look its name up in nanogpt/mfu.py)")


INIT_FROM = ("scratch", "resume", "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")
_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
KEYS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def valid_keys() -> str:
    return ", ".join(KEYS)


def _check(key: str, value, source: str, from_text: bool = False):
    """value (parsed from command-line text if from_text), of the key's type; a wrong type is a UserError."""
    if key not in KEYS:
        raise UserError(f"unknown config key {key!r} (from {source}); valid keys: {valid_keys()}")
    kind = KEYS[key].type
    if from_text and kind is not str:
        text = value.strip()
        if kind is bool:
            value = {"true": True, "1": True, "false": False, "0": False}.get(text.lower(), text)
        else:
            try:
                value = kind(text)
            except ValueError:
                pass  # reported below
    if kind is float and type(value) is int:
        value = float(value)
    if type(value) is not kind:
        raise UserError(f"config key {key!r} (from {source}) needs {_TYPE_NAMES[kind]}, got {value!r}")
    return value


def load_config_file(path) -> dict:
    """The keys a Python config file assigns (names starting with _ and imports are ignored)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {str(path)!r} not found")
    try:
        namespace = runpy.run_path(str(path))
    except Exception as e:  # a config file is user code: show its error in one line
        raise UserError(f"config file {path} failed: {type(e).__name__}: {e}") from None
    except SystemExit as e:  # sys.exit() in a config file would otherwise end the run silently, status 0
        raise UserError(f"config file {path} called sys.exit({e.code!r}); a config file only assigns keys") from None
    values = {k: v for k, v in namespace.items() if not k.startswith("_") and not callable(v)}
    values = {k: v for k, v in values.items() if type(v).__name__ != "module"}
    return {k: _check(k, v, str(path)) for k, v in values.items()}


def parse_overrides(args: list[str]) -> dict:
    """['--max_iters=100', ...] -> {'max_iters': 100, ...}, checked."""
    values = {}
    for arg in args:
        if not arg.startswith("--") or "=" not in arg:
            raise UserError(f"expected --key=value, got {arg!r}; valid keys: {valid_keys()}")
        key, value = arg[2:].split("=", 1)
        values[key] = _check(key, value, "the command line", from_text=True)
    return values


def load_config(config_file=None, overrides: list[str] | dict = ()) -> TrainConfig:
    """Defaults <- config file <- overrides: --key=value strings, or a dict (its str values are parsed as text)."""
    values = load_config_file(config_file) if config_file else {}
    if isinstance(overrides, dict):
        values.update({k: _check(k, v, "the command line", from_text=isinstance(v, str)) for k, v in overrides.items()})
    else:
        values.update(parse_overrides(list(overrides)))
    cfg = TrainConfig(**values)
    validate(cfg)
    return cfg


def validate(cfg: TrainConfig) -> None:
    """Values that have the right type but make no sense."""
    positive = ["eval_interval", "eval_iters", "log_interval", "batch_size", "block_size", "sample_count"]
    positive += ["gradient_accumulation_steps", "n_layer", "n_head", "n_embd"]
    for key in positive:
        if getattr(cfg, key) <= 0:
            raise UserError(f"config key {key!r} must be positive, got {getattr(cfg, key)}")
    non_negative = ["max_iters", "warmup_iters", "lr_decay_iters", "vocab_size", "peak_flops", "total_batch_size"]
    non_negative += ["checkpoint_interval", "hellaswag_interval", "hellaswag_limit", "sample_interval", "sample_tokens"]
    for key in non_negative:
        if getattr(cfg, key) < 0:
            raise UserError(f"config key {key!r} must be >= 0, got {getattr(cfg, key)}")
    choices = {"init_from": INIT_FROM, "model": ("gpt", "bigram"), "encoding": ("char", "gpt2")}
    choices["backend"] = ("auto", "nccl", "gloo")
    choices.update(CHOICES, optimizer=("adamw", "muon"))
    for key, allowed in choices.items():
        if getattr(cfg, key) not in allowed:
            raise UserError(f"config key {key!r} must be one of {', '.join(allowed)}, got {getattr(cfg, key)!r}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise UserError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.n_embd % cfg.n_head:
        raise UserError(f"n_embd ({cfg.n_embd}) must be a multiple of n_head ({cfg.n_head})")
    for key in [f.name for f in dataclasses.fields(cfg) if f.type is float]:
        if not math.isfinite(getattr(cfg, key)):
            raise UserError(f"config key {key!r} must be a finite number, got {getattr(cfg, key)}")
    if cfg.learning_rate <= 0 or cfg.min_lr < 0:
        raise UserError("learning_rate must be > 0 and min_lr >= 0")
    for key in ("weight_decay", "grad_clip", "logit_softcap"):
        if getattr(cfg, key) < 0:
            raise UserError(f"config key {key!r} must be >= 0, got {getattr(cfg, key)}")
    if cfg.muon_lr <= 0:
        raise UserError(f"muon_lr must be > 0, got {cfg.muon_lr}")
    if cfg.pos_emb == "rope" and (cfg.n_embd // cfg.n_head) % 2:
        raise UserError(f"pos_emb='rope' needs an even head size (n_embd / n_head), got {cfg.n_embd // cfg.n_head}")
    for key in ("beta1", "beta2", "muon_momentum"):
        if not 0.0 <= getattr(cfg, key) < 1.0:
            raise UserError(f"config key {key!r} must be in [0, 1), got {getattr(cfg, key)}")
    threads_option(cfg.threads)  # 'auto' or a number >= 1, checked; 'auto' is measured once, when the run starts
    # total_batch_size must split into whole micro-batches (per process: distributed.split_batch)
    accumulation_steps(cfg)


# keys that only matter when another key says so: {key: (what they need, is it there?)}
GPT_ONLY = ("n_layer", "n_head", "n_embd", "dropout", "bias", "pos_emb", "norm", "qk_norm", "mlp_act", "tie_weights")
GPT_ONLY += ("zero_init", "logit_softcap")
NEEDS = {
    key: (needs, holds)
    for keys, needs, holds in [
        (GPT_ONLY, "--model=gpt", lambda cfg: cfg.model == "gpt"),
        (("muon_lr", "muon_momentum"), "--optimizer=muon", lambda cfg: cfg.optimizer == "muon"),
        (("warmup_iters", "lr_decay_iters", "min_lr"), "--decay_lr=True", lambda cfg: cfg.decay_lr),
        (("hellaswag_limit", "hellaswag_file"), "--hellaswag_interval", lambda cfg: cfg.hellaswag_interval),
        (("sample_prompt", "sample_count", "sample_tokens"), "--sample_interval", lambda cfg: cfg.sample_interval),
        (("wandb_project", "wandb_run_name"), "--wandb_log=True", lambda cfg: cfg.wandb_log),
    ]
    for key in keys
}


def inert_keys_note(cfg: TrainConfig, given: set[str] | None) -> str | None:
    """One line naming the keys the user set (given; None = every key off its default) that do nothing in this
    combination (--muon_lr without --optimizer=muon, RoPE with the bigram ...), or None."""
    if given is None:
        given = {k for k, f in KEYS.items() if getattr(cfg, k) != f.default}
    inert = {}
    for key in sorted(given & NEEDS.keys()):
        needs, holds = NEEDS[key]
        if not holds(cfg):
            inert.setdefault(needs, []).append(key)
    if not inert:
        return None
    parts = [f"{', '.join('--' + k for k in keys)} without {needs}" for needs, keys in inert.items()]
    return f"note: {'; '.join(parts)}: no effect in this run"


def accumulation_steps(cfg: TrainConfig, world_size: int = 1) -> int:
    """Micro-steps per optimizer step of the whole world: total_batch_size / (batch_size * block_size) when
    total_batch_size is set (build-nanogpt's way), else gradient_accumulation_steps."""
    if not cfg.total_batch_size:
        return cfg.gradient_accumulation_steps
    micro = cfg.batch_size * cfg.block_size
    steps = cfg.total_batch_size // micro
    if cfg.total_batch_size % micro or steps % world_size:
        raise UserError(
            f"total_batch_size ({cfg.total_batch_size:,}) must be a multiple of batch_size * block_size * processes "
            f"({cfg.batch_size} * {cfg.block_size} * {world_size} = {micro * world_size:,})"
        )
    return steps


def add_config_arguments(parser: argparse.ArgumentParser, default_config_file=None) -> None:
    """A positional config file and one --key=value flag per config key (so --help lists them all). Each flag's
    help shows the value a run without it uses: default_config_file's where it sets the key, else the default."""
    parser.allow_abbrev = False  # --n_lay=2 must not silently mean --n_layer=2
    parser.add_argument("config", nargs="?", help="a config file (default: one chosen for the device)")
    defaults = {}
    if default_config_file is not None:
        with contextlib.suppress(UserError):
            defaults = load_config_file(default_config_file)
    for name, f in KEYS.items():
        value = defaults.get(name, f.default)
        text = f"{f.metadata['help']} ({value!r})".replace("%", "%%")  # argparse formats help with %
        parser.add_argument(f"--{name}", metavar=f.type.__name__.upper(), help=text)
    if defaults:
        parser.epilog = f"Defaults in parentheses: this device's config, {default_config_file}, then the built-in ones."


def config_from_args(parser: argparse.ArgumentParser, argv, default_config_file):
    """(TrainConfig, config file, parsed args): the file (or default_config_file(device)), then the flags given."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        raise UserError(f"unknown arguments {' '.join(unknown)}; valid keys: {valid_keys()}")
    overrides = {k: getattr(args, k) for k in KEYS if getattr(args, k) is not None}  # text, checked by _check
    config_file = args.config or default_config_file(overrides.get("device", "auto"))
    return load_config(config_file, overrides), config_file, args


def given_keys(args: argparse.Namespace) -> set[str]:
    """The keys the user set: by a --key=value flag or in a config file named on the command line."""
    keys = {k for k in KEYS if getattr(args, k, None) is not None}
    return keys | set(load_config_file(args.config)) if args.config else keys
