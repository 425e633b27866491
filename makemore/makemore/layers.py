"""Lecture 4: our own layers (Linear, BatchNorm1d, Tanh, ...) and the deep MLP built from them.

The math of every layer is written out here; torch.nn.Module only does the bookkeeping
(parameter registration, train/eval mode, .to(device), state_dict), so the layers behave like
torch.nn's and can be tested against them.
"""

import torch
from torch import nn

TANH_GAIN = 5 / 3  # tanh squashes its input; this gain keeps activations at unit scale through depth


class Linear(nn.Module):
    """x @ W (+ b). W (fan_in, fan_out) ~ N(0, 1) * gain / sqrt(fan_in): Kaiming init, unit-variance outputs."""

    def __init__(self, fan_in: int, fan_out: int, generator: torch.Generator, bias: bool = True, gain: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_in, fan_out, generator=generator) * gain / fan_in**0.5)
        self.bias = nn.Parameter(torch.zeros(fan_out)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.weight  # (B, fan_out)
        return out if self.bias is None else out + self.bias


class BatchNorm1d(nn.Module):
    """Normalise each feature over the batch, then scale and shift: gamma * (x - mean) / sqrt(var + eps) + beta.

    Training mode uses the batch's statistics and updates running estimates with `momentum`; eval mode
    uses the running estimates, so one example's output no longer depends on the rest of its batch.
    As in torch.nn.BatchNorm1d, normalisation uses the biased batch variance (divide by n) while
    the running variance is updated with the unbiased one (divide by n - 1).
    """

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x (B, dim)
        if self.training:
            if len(x) < 2:
                raise ValueError("BatchNorm1d in training mode needs a batch of at least 2 examples")
            mean = x.mean(0)  # (dim,)
            var = x.var(0, unbiased=False)  # (dim,)
            with torch.no_grad():
                unbiased = var * len(x) / (len(x) - 1)
                self.running_mean.lerp_(mean, self.momentum)  # (1 - m) * running + m * batch
                self.running_var.lerp_(unbiased, self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        xhat = (x - mean) / torch.sqrt(var + self.eps)
        return self.gamma * xhat + self.beta


class Tanh(nn.Module):
    """tanh, keeping its last output in `.out` for the diagnostics (activation and gradient histograms)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.out = torch.tanh(x)
        return self.out


class Embedding(nn.Module):
    """A (vocab_size, n_embd) table of learned vectors, one per character."""

    def __init__(self, vocab_size: int, n_embd: int, generator: torch.Generator):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(vocab_size, n_embd, generator=generator))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.weight[idx]  # (B, T) -> (B, T, n_embd)


class Flatten(nn.Module):
    """(B, T, C) -> (B, T*C): the embeddings of the context side by side."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(len(x), -1)


def bn_mlp(
    vocab_size: int,
    block_size: int,
    generator: torch.Generator,
    n_embd: int = 10,
    n_hidden: int = 100,
    n_layers: int = 5,
    momentum: float = 0.1,
) -> nn.Sequential:
    """Embedding -> Flatten -> n_layers x (Linear -> BatchNorm1d -> Tanh) -> Linear -> BatchNorm1d.

    The Linear layers have no bias (BatchNorm's beta replaces it). The last BatchNorm's gamma
    starts at 0.1 so the initial logits are small: the model starts near the uniform distribution.
    """
    layers = [Embedding(vocab_size, n_embd, generator), Flatten()]
    fan_in = block_size * n_embd
    for _ in range(n_layers):
        layers += [
            Linear(fan_in, n_hidden, generator, bias=False, gain=TANH_GAIN),
            BatchNorm1d(n_hidden, momentum=momentum),
            Tanh(),
        ]
        fan_in = n_hidden
    layers += [Linear(fan_in, vocab_size, generator, bias=False), BatchNorm1d(vocab_size, momentum=momentum)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1
    return nn.Sequential(*layers)
