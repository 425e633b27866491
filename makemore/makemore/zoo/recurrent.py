"""Recurrent models: one cell applied left to right, carrying a state. RNN, GRU and LSTM differ only in the cell.

The cells use torch.nn.RNNCell / GRUCell / LSTMCell's equations and weight layout (x2h = weight_ih,
h2h = weight_hh, gates in torch's order), so the tests can check them against torch.
"""

import torch
from torch import nn

from makemore.zoo.config import ModelConfig


class RNNCell(nn.Module):
    """h' = tanh(W_x x + W_h h): the vanilla (Elman) cell."""

    n_states = 1

    def __init__(self, n_in: int, n_hidden: int):
        super().__init__()
        self.x2h = nn.Linear(n_in, n_hidden)
        self.h2h = nn.Linear(n_hidden, n_hidden)

    def forward(self, x, state):
        (h,) = state
        return (torch.tanh(self.x2h(x) + self.h2h(h)),)


class GRUCell(nn.Module):
    """Gates decide how much of the state to overwrite, so gradients can pass through many steps unchanged."""

    n_states = 1

    def __init__(self, n_in: int, n_hidden: int):
        super().__init__()
        self.x2h = nn.Linear(n_in, 3 * n_hidden)  # reset, update, candidate
        self.h2h = nn.Linear(n_hidden, 3 * n_hidden)

    def forward(self, x, state):
        (h,) = state
        xr, xz, xn = self.x2h(x).chunk(3, dim=-1)
        hr, hz, hn = self.h2h(h).chunk(3, dim=-1)
        r = torch.sigmoid(xr + hr)  # reset: how much of the old state the candidate may use
        z = torch.sigmoid(xz + hz)  # update: 1 keeps the old state, 0 takes the candidate
        candidate = torch.tanh(xn + r * hn)
        return ((1 - z) * candidate + z * h,)


class LSTMCell(nn.Module):
    """A separate memory cell c, changed only by gated addition: the LSTM's highway for gradients."""

    n_states = 2

    def __init__(self, n_in: int, n_hidden: int):
        super().__init__()
        self.x2h = nn.Linear(n_in, 4 * n_hidden)  # input, forget, candidate, output
        self.h2h = nn.Linear(n_hidden, 4 * n_hidden)

    def forward(self, x, state):
        h, c = state
        i, f, g, o = (self.x2h(x) + self.h2h(h)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class Recurrent(nn.Module):
    def __init__(self, config: ModelConfig, cell: type[nn.Module]):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.cell = cell(config.n_embd, config.n_embd2)
        self.start = nn.Parameter(torch.zeros(cell.n_states, 1, config.n_embd2))  # a learned initial state
        self.lm_head = nn.Linear(config.n_embd2, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.shape
        emb = self.wte(idx)  # (B, T, n_embd)
        state = tuple(s.expand(B, -1) for s in self.start)  # each (B, n_embd2)
        hidden = []
        for t in range(T):  # one step at a time: position t only ever sees the state built from 0..t
            state = self.cell(emb[:, t], state)
            hidden.append(state[0])
        return self.lm_head(torch.stack(hidden, dim=1))  # (B, T, n_embd2) -> (B, T, V)
