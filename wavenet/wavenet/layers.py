"""Our own torch.nn-like layers, in the lecture's spirit: each is a few lines of tensor code.

A layer is called like a function, lists its parameters(), and switches between training
(BatchNorm uses the batch's statistics) and evaluation (it uses the running ones).
Shapes: B = batch, T = time (positions), C = channels.
"""

import torch


class Module:
    training = True

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def parameters(self) -> list[torch.Tensor]:
        return []

    def buffers(self) -> list[torch.Tensor]:
        """State that is not trained by gradients but saved with the model (running statistics)."""
        return []

    def children(self) -> list["Module"]:
        return []

    def train(self, mode: bool = True) -> "Module":
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def to(self, device) -> "Module":
        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.detach().to(device).requires_grad_(value.requires_grad))
        for child in self.children():
            child.to(device)
        return self


class Embedding(Module):
    def __init__(self, num_embeddings: int, embedding_dim: int, generator=None):
        self.weight = torch.randn(num_embeddings, embedding_dim, generator=generator).requires_grad_()

    def __call__(self, idx):
        return self.weight[idx]  # (B, T) -> (B, T, C)

    def parameters(self):
        return [self.weight]


class FlattenConsecutive(Module):
    """Fuse n neighbouring positions into one: (B, T, C) -> (B, T // n, C * n); T == n leaves (B, C * n)."""

    def __init__(self, n: int):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        if T % self.n:
            raise ValueError(f"FlattenConsecutive({self.n}) needs T divisible by {self.n}, got T={T}")
        x = x.reshape(B, T // self.n, C * self.n)  # channels of positions 2i and 2i+1 side by side
        return x.squeeze(1) if x.shape[1] == 1 else x


class Linear(Module):
    """x @ W + b, with W stored (fan_in, fan_out); W ~ N(0, 1/fan_in) keeps activations at unit scale."""

    def __init__(self, fan_in: int, fan_out: int, bias: bool = True, generator=None):
        self.weight = (torch.randn(fan_in, fan_out, generator=generator) / fan_in**0.5).requires_grad_()
        self.bias = torch.zeros(fan_out).requires_grad_() if bias else None

    def __call__(self, x):
        out = x @ self.weight
        return out + self.bias if self.bias is not None else out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d(Module):
    """Normalise each channel over the batch (and time, for (B, T, C) input), then scale and shift.

    Training uses the batch's mean and biased variance, and moves the running estimates
    (with the unbiased variance, as torch.nn does) that evaluation uses instead.
    """

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1):
        self.eps, self.momentum = eps, momentum
        self.weight = torch.ones(dim).requires_grad_()  # gamma
        self.bias = torch.zeros(dim).requires_grad_()  # beta
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            dims = tuple(range(x.ndim - 1))  # (0,) for (B, C); (0, 1) for (B, T, C): one statistic per channel
            mean = x.mean(dims)  # (C,)
            centered = x - mean
            var = (centered * centered).mean(dims)  # biased, as torch.nn normalises (and faster than var_mean)
            with torch.no_grad():
                n = x.numel() // x.shape[-1]
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * (n / max(n - 1, 1)), self.momentum)  # unbiased, as torch.nn keeps
        else:
            centered, var = x - self.running_mean, self.running_var
        return centered * torch.rsqrt(var + self.eps) * self.weight + self.bias

    def parameters(self):
        return [self.weight, self.bias]

    def buffers(self):
        return [self.running_mean, self.running_var]


class Tanh(Module):
    def __call__(self, x):
        return torch.tanh(x)


class Sequential(Module):
    def __init__(self, layers: list[Module]):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def children(self):
        return self.layers

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def buffers(self):
        return [b for layer in self.layers for b in layer.buffers()]
