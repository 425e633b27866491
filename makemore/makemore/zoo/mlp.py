"""MLP (Bengio et al. 2003): embed the last block_size characters, concatenate, one tanh layer."""

import torch
import torch.nn.functional as F
from torch import nn

from makemore.zoo.config import ModelConfig


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.block_size = config.block_size
        # Positions before the start of the sequence get their own "blank" token (id vocab_size),
        # so the model can tell "nothing here yet" apart from the '.' that starts every word.
        self.blank = config.vocab_size
        self.wte = nn.Embedding(config.vocab_size + 1, config.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(config.block_size * config.n_embd, config.n_embd2),
            nn.Tanh(),
            nn.Linear(config.n_embd2, config.vocab_size),
        )

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        padded = F.pad(idx, (self.block_size - 1, 0), value=self.blank)  # (B, block_size - 1 + T)
        context = padded.unfold(1, self.block_size, 1)  # (B, T, block_size): the tokens up to and including t
        emb = self.wte(context).flatten(2)  # (B, T, block_size * n_embd)
        return self.mlp(emb)  # (B, T, V)
