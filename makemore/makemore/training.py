"""One minibatch training loop for every stage, plus the learning-rate schedule, finder and evaluation.

A stage supplies a `train_step(Xb, Yb, lr) -> loss` function (a TrainStep): forward, gradients (by autograd, or by hand
in manual_backprop.py), parameter update. The loop around it samples minibatches, sets the learning
rate, times the steps and logs progress, so each stage's file is only about its model.
"""

import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from zero_to_hero.progress import progress_line

TrainStep = Callable[[torch.Tensor, torch.Tensor, float], float]  # (Xb, Yb, lr) -> loss: one update


def step_decay(lr: float, steps: int, decay_at: float = 0.75, factor: float = 0.1) -> Callable[[int], float]:
    """`lr` for the first `decay_at` of training, then `lr * factor` (the lectures' 0.1 -> 0.01)."""
    return lambda i: lr if i < decay_at * steps else lr * factor


def train(
    train_step: TrainStep,
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    lr_at: Callable[[int], float],
    generator: torch.Generator,
    log_every: int = 0,
    log: Callable[[str], None] = print,
) -> list[float]:
    """Run `steps` SGD steps on random minibatches of (X, Y); returns the loss of every step.

    batch_size <= 0 (or >= len(X)) means full-batch gradient descent. Minibatch indices come from
    the CPU `generator`, so a seed gives the same run on any device.
    """
    n = len(X)
    full_batch = batch_size <= 0 or batch_size >= n
    losses = []
    last = time.perf_counter()
    last_done = 0
    for i in range(steps):
        if full_batch:
            Xb, Yb = X, Y
        else:
            ix = torch.randint(0, n, (batch_size,), generator=generator).to(X.device)
            Xb, Yb = X[ix], Y[ix]  # (B, block_size), (B,)
        lr = lr_at(i)
        losses.append(train_step(Xb, Yb, lr))
        if log_every and (i % log_every == 0 or i == steps - 1):
            now, done = time.perf_counter(), i + 1
            seconds_per_step = max(now - last, 1e-9) / (done - last_done)  # over the last interval
            rate = len(Xb) / seconds_per_step
            log(
                progress_line(
                    done, steps, seconds_per_step=seconds_per_step, rate=rate, unit="examples", loss=losses[-1], lr=lr
                )
            )
            last, last_done = now, done
    return losses


def sgd_step(model: torch.nn.Module, l2: float = 0.0, on_update: Callable | None = None) -> TrainStep:
    """Autograd's step: cross-entropy (+ l2 * mean of squared weights), backward, p -= lr * grad.

    `on_update(model, lr)` is called after backward and before the update (diagnostics use it to
    measure update:data ratios).
    """
    params = list(model.parameters())

    def train_step(Xb: torch.Tensor, Yb: torch.Tensor, lr: float) -> float:
        model.train()
        logits = model(Xb)  # (B, vocab_size)
        loss = F.cross_entropy(logits, Yb)
        if l2:
            loss = loss + l2 * sum((p**2).mean() for p in params if p.dim() == 2)
        for p in params:
            p.grad = None
        loss.backward()
        if on_update is not None:
            on_update(model, lr)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss.item()

    return train_step


@torch.no_grad()
def evaluate(logits_fn: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, Y: torch.Tensor) -> float:
    """Mean cross-entropy (nats per character) of a whole split; nan for an empty split."""
    if len(X) == 0:
        return math.nan
    return F.cross_entropy(logits_fn(X).float(), Y).item()


def find_lr(
    make_train_step: Callable[[], TrainStep],
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    batch_size: int,
    generator: torch.Generator,
    lr_min: float = 1e-3,
    lr_max: float = 1.0,
    steps: int = 1000,
) -> tuple[list[float], list[float]]:
    """The learning-rate finder of lecture 3: train a fresh model with an exponentially growing lr.

    Returns (lrs, losses): loss falls while the lr is useful and blows up once it is too large;
    a good lr sits in the valley just before the rise.
    """
    lrs = torch.logspace(math.log10(lr_min), math.log10(lr_max), steps).tolist()
    losses = train(
        make_train_step(), X, Y, steps=steps, batch_size=batch_size, lr_at=lambda i: lrs[i], generator=generator
    )
    return lrs, losses


def smooth(values: list[float], window: int) -> list[float]:
    """Means of consecutive non-overlapping windows: a readable loss curve from noisy minibatch losses."""
    window = max(1, window)
    return [sum(values[i : i + window]) / len(values[i : i + window]) for i in range(0, len(values), window)]
