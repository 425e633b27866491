"""Training and evaluation for every form of the model: the data as tensors, batches, the loss, the SGD loop, the
learning-rate schedule, evaluation and BatchNorm calibration.

The hierarchical and flat models learn from random (context, next character) examples; the dilated model
from random whole words, predicting every character of each. Both report the same number: the mean
cross-entropy per predicted character (each letter and each word's end '.').
"""

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from wavenet.data import Vocab, build_windows, padded_sequences
from wavenet.dilated import DilatedWaveNet
from wavenet.layers import BatchNorm1d, Module
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
