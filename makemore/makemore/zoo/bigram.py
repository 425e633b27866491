"""Bigram: the next character depends on the current one only — a (V, V) table of logits."""

import torch
from torch import nn

from makemore.zoo.config import ModelConfig


class Bigram(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        # Row i holds the logits of the character that follows i. Zeros = uniform before training,
        # and it is a real parameter: the loss gradient flows into the rows that are looked up.
        self.logits = nn.Parameter(torch.zeros(config.vocab_size, config.vocab_size))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.logits[idx]  # (B, T) -> (B, T, V)
