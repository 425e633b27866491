"""Lecture 3: the MLP language model of Bengio et al. (2003).

Each of the block_size previous characters is looked up in an embedding table C; the concatenated
embeddings go through one tanh hidden layer, then a linear layer gives the next character's logits.

    X (B, T) -> C[X] (B, T, E) -> view (B, T*E) -> tanh(@ W1 + b1) (B, H) -> @ W2 + b2 (B, V)

The initialisation is lecture 4's fix, not lecture 3's plain randn: W1 scaled by the tanh gain
5/3 over sqrt(fan_in) keeps tanh out of saturation, and a near-zero output layer starts the model
at the uniform distribution (loss ln 27 = 3.30) instead of confidently wrong (loss ~27).
"""

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_embd: int, n_hidden: int, generator: torch.Generator):
        super().__init__()
        fan_in = block_size * n_embd

        def randn(*shape):
            return torch.randn(*shape, generator=generator)

        self.C = nn.Parameter(randn(vocab_size, n_embd))
        self.W1 = nn.Parameter(randn(fan_in, n_hidden) * (5 / 3) / fan_in**0.5)
        self.b1 = nn.Parameter(randn(n_hidden) * 0.01)
        self.W2 = nn.Parameter(randn(n_hidden, vocab_size) * 0.01)
        self.b2 = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        emb = self.C[X]  # (B, T, E)
        h = torch.tanh(emb.view(len(X), -1) @ self.W1 + self.b1)  # (B, H)
        return h @ self.W2 + self.b2  # (B, V) logits
