"""Bag of words: each position sees the plain average of everything up to it — attention with equal weights.

The average is written the way attention is: a (T, T) matrix of scores, the future masked to -inf, a softmax
over each row, then weights @ x. All scores are equal (zero), so row t puts 1/(t+1) on positions 0..t; a
Transformer (transformer.py) computes the scores from the data instead. The same numbers come from
x.cumsum(1) / (1, 2, ..., T), which the tests check.
"""

import torch
import torch.nn.functional as F
from torch import nn

from makemore.zoo.config import ModelConfig


def causal_mean(x: torch.Tensor) -> torch.Tensor:
    """out[:, t] = mean(x[:, :t+1]), as masked attention with equal scores: no future position leaks in."""
    T = x.size(1)
    scores = torch.zeros(T, T, device=x.device, dtype=x.dtype)  # every position equally interesting
    future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
    weights = F.softmax(scores.masked_fill(future, float("-inf")), dim=-1)  # (T, T), row t: 1/(t+1) on 0..t
    return weights @ x  # (T, T) @ (B, T, C) -> (B, T, C)


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
