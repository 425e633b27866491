"""Bag of words: each position sees the plain average of everything up to it (attention with equal weights)."""

import torch
from torch import nn

from makemore.zoo.config import ModelConfig


def causal_mean(x: torch.Tensor) -> torch.Tensor:
    """out[:, t] = mean(x[:, :t+1]): a running sum divided by the count, so no future position leaks in."""
    T = x.size(1)
    counts = torch.arange(1, T + 1, device=x.device, dtype=x.dtype).view(1, T, 1)
    return x.cumsum(dim=1) / counts  # (B, T, C)


class BoW(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)  # the average alone would lose the order
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, config.n_embd2), nn.Tanh(), nn.Linear(config.n_embd2, config.n_embd)
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.size(1)
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, n_embd)
        x = x + causal_mean(x)  # residual: keep the current token, add the bag of the context
        x = x + self.mlp(x)
        return self.lm_head(x)  # (B, T, V)
