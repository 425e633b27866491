"""SequenceMLP (Bengio et al. 2003) for whole sequences: at every position, embed the last block_size characters,
concatenate them, one tanh layer.

The lecture-3 model (makemore/mlp.py) reads one fixed window per example; this one reads a whole padded word
and predicts at every position at once, so it builds each position's window itself.
"""

import torch
import torch.nn.functional as F
from torch import nn

from makemore.zoo.config import ModelConfig


class SequenceMLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.block_size = config.block_size  # the window: here the whole word, as long as the longest + 1
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
        T = idx.size(1)
        windows = []
        for back in reversed(range(self.block_size)):  # oldest character first, the current one last
            # shifted[:, t] = idx[:, t - back]: the character `back` steps before t, blank before the start
            windows.append(F.pad(idx, (back, 0), value=self.blank)[:, :T])  # (B, T)
        context = torch.stack(windows, dim=-1)  # (B, T, block_size): the ids each position sees
        emb = self.wte(context).flatten(2)  # (B, T, block_size * n_embd): their embeddings side by side
        return self.mlp(emb)  # (B, T, V)
