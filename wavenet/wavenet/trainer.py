"""Training, evaluation and sampling for every form of the model.

The hierarchical and flat models learn from random (context, next character) examples; the dilated model
from random whole words, predicting every character of each. Both report the same number: the mean
cross-entropy per predicted character (each letter and each word's end '.').
"""

import time
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from wavenet.data import Vocab, build_windows, padded_sequences
from wavenet.dilated import DilatedWaveNet
from wavenet.layers import BatchNorm1d, Module
from wavenet.model import MODELS, Config, flat, hierarchical
from zero_to_hero import UserError
from zero_to_hero.checkpoints import load_checkpoint
from zero_to_hero.files import atomic_path
from zero_to_hero.progress import progress_line


@dataclass
class Split:
    """Hierarchical: x (N, block_size), y (N,). Dilated: x (words, block_size - 1 + T), y (words, T), -1 = none."""

    x: torch.Tensor
    y: torch.Tensor

    def to(self, device) -> "Split":
        return Split(self.x.to(device), self.y.to(device))


def make_split(words: list[str], vocab: Vocab, block_size: int, kind: str) -> Split:
    if kind == "dilated":
        return Split(*padded_sequences(words, vocab, block_size))
    return Split(*build_windows(words, vocab, block_size))


def loss_of(model: Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real targets; (B, V) vs (B,) or (B, T, V) vs (B, T)."""
    logits = model(x, y) if isinstance(model, DilatedWaveNet) else model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1)


def get_batch(split: Split, batch_size: int, generator: torch.Generator, block_size: int):
    """batch_size random examples (hierarchical) or words (dilated), the latter cut to the longest word."""
    ix = torch.randint(len(split.x), (batch_size,), generator=generator).to(split.x.device)
    x, y = split.x[ix], split.y[ix]
    if y.ndim == 2:
        T = int((y >= 0).sum(1).max())  # positions past every word's end are pure padding
        x, y = x[:, : block_size - 1 + T], y[:, :T]
    return x, y


@torch.no_grad()
def evaluate(model: Module, split: Split, chunk: int = 4096) -> float:
    """Mean loss per predicted character over a whole split, in evaluation mode (running BatchNorm stats)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(split.x), chunk):
        x, y = split.x[i : i + chunk], split.y[i : i + chunk]
        n = int((y >= 0).sum())
        total += loss_of(model, x, y).item() * n
        count += n
    model.train(was_training)
    return total / count


@torch.no_grad()
def sample(model: Module, vocab: Vocab, block_size: int, n: int, generator: torch.Generator, max_len=64):
    """n words, one character at a time from a context of block_size, until each draws the end '.'."""
    was_training = model.training
    model.eval()
    device = model.parameters()[0].device
    context = torch.zeros(n, block_size, dtype=torch.long, device=device)
    out = torch.zeros(n, 0, dtype=torch.long, device=device)
    for _ in range(max_len):
        logits = model(context).reshape(n, -1)  # (n, V); the dilated model gives (n, 1, V)
        nxt = torch.multinomial(F.softmax(logits, dim=-1).cpu(), 1, generator=generator).to(device)  # (n, 1)
        out = torch.cat([out, nxt], dim=1)
        context = torch.cat([context[:, 1:], nxt], dim=1)
        if bool((out == 0).any(1).all()):
            break
    model.train(was_training)
    words = []
    for row in out.tolist():
        words.append(vocab.decode(row[: row.index(0)] if 0 in row else row))
    return words


@torch.no_grad()
def calibrate_batchnorm(model: Module, split: Split) -> None:
    """Set every BatchNorm's running statistics to those of the whole training split (lecture 3's calibration).

    The running estimates follow the last few dozen batches of 32; one training-mode pass over all
    the data with momentum 1 replaces them by exact statistics, at each level given the ones below.
    """
    norms = [layer for layer in model.layers if isinstance(layer, BatchNorm1d)]
    was_training, momenta = model.training, [norm.momentum for norm in norms]
    model.train()
    for norm in norms:
        norm.momentum = 1.0
    if isinstance(model, DilatedWaveNet):
        model(split.x, split.y)  # statistics over the real positions only
    else:
        model(split.x)
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    model.train(was_training)


def lr_at(step: int, steps: int, lr: float) -> float:
    """The lecture's schedule: lr for the first 3/4 of the steps, then lr / 10 (0.1 -> 0.01 at 150k of 200k)."""
    return lr if step < int(0.75 * steps) else lr / 10


def train(model, split, steps, batch_size, lr, generator, block_size, log=print, log_every=10_000):
    """Plain SGD; returns the loss of every step and the number of predicted characters seen.

    log (None: silent) gets one progress line every log_every steps: mean loss, lr, speed and the time left.
    """
    params = model.parameters()
    losses, tokens = [], 0
    last = time.perf_counter()
    last_step, last_tokens = 0, 0
    for step in range(steps):
        x, y = get_batch(split, batch_size, generator, block_size)
        loss = loss_of(model, x, y)
        for p in params:
            p.grad = None
        loss.backward()
        step_lr = lr_at(step, steps, lr)
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-step_lr)
        losses.append(loss.item())
        tokens += int((y >= 0).sum())
        if log is not None and ((step + 1) % log_every == 0 or step + 1 == steps):
            now = time.perf_counter()
            dt, done = now - last, step + 1 - last_step
            loss_mean = sum(losses[-done:]) / done
            rate = (tokens - last_tokens) / dt  # predicted characters per second
            log(progress_line(step + 1, steps, loss=loss_mean, lr=step_lr, seconds_per_step=dt / done, rate=rate))
            last, last_step, last_tokens = now, step + 1, tokens
    return losses, tokens


def mean_per(losses: list[float], every: int) -> list[float]:
    """The loss curve the lecture plots: the mean of each run of `every` steps (a last partial run too)."""
    return [sum(chunk) / len(chunk) for chunk in (losses[i : i + every] for i in range(0, len(losses), every))]


def plot_losses(losses: list[float], path, every: int = 1000, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = mean_per(losses, every)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([every * (i + 1) for i in range(len(curve))], curve)
    ax.set_xlabel("step")
    ax.set_ylabel(f"train loss (mean per {every} steps)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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


def build_model(kind: str, config: Config, generator: torch.Generator | None = None) -> Module:
    """A freshly initialised model of `kind`; the block size is checked against it (flat takes any)."""
    if kind not in MODELS:
        raise UserError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")
    config = replace(config, model=kind)  # the block-size rule depends on the model
    if kind == "flat":
        return flat(config, generator)
    return DilatedWaveNet(config, generator) if kind == "dilated" else hierarchical(config, generator)
