"""Every model of the zoo, simplest first as the original makemore's --type lists them (bigram|mlp|rnn|gru|bow|
transformer; LSTM is ours), then MODELS and build_model, which `python -m makemore --type` picks from.

Every model maps token ids (B, T) to next-token logits (B, T, V), and the output at position t depends on the
inputs 0..t only: that is all the training loop and the sampler (training.py) need to know.

    type         what predicts the next character                          sizes it uses
    bigram       the current character alone (a table)                     -
    mlp          the last block_size characters, concatenated              n_embd, n_embd2
    rnn/gru/lstm a state carried left to right                             n_embd, n_embd2
    bow          the average of everything so far                          n_embd, n_embd2
    transformer  causal self-attention over everything so far              n_layer, n_embd, n_head
"""

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from zero_to_hero import UserError

# ------------------------------------------------------------------------------------------------------------------
# The one configuration every zoo model is built from.


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int  # characters + '.', from the data
    # block_size: the most characters of context a model reads, as in the lecture stages; here it is set from the
    # data to the longest word + 1 (its leading '.'), so every model can see the whole word so far
    block_size: int
    n_layer: int = 4  # transformer blocks
    n_embd: int = 64  # token embedding width
    n_embd2: int = 64  # hidden width of the MLP, the recurrent state and the BoW's MLP
    n_head: int = 4  # attention heads (transformer)
    dropout: float = 0.0  # transformer: zeroes this fraction of attention weights and residual updates in training


# ------------------------------------------------------------------------------------------------------------------
# Bigram: the next character depends on the current one only — a (V, V) table of logits.


class Bigram(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        # Row i holds the logits of the character that follows i. Zeros = uniform before training,
        # and it is a real parameter: the loss gradient flows into the rows that are looked up.
        self.logits = nn.Parameter(torch.zeros(config.vocab_size, config.vocab_size))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.logits[idx]  # (B, T) -> (B, T, V)


# ------------------------------------------------------------------------------------------------------------------
# SequenceMLP (Bengio et al. 2003) for whole sequences: at every position, embed the last block_size characters,
# concatenate them, one tanh layer.
#
# The lecture-3 model (makemore/mlp.py) reads one fixed window per example; this one reads a whole padded word
# and predicts at every position at once, so it builds each position's window itself.


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


# ------------------------------------------------------------------------------------------------------------------
# Recurrent models: one cell applied left to right, carrying a state. RNN, GRU and LSTM differ only in the cell.
#
# The cells use torch.nn.RNNCell / GRUCell / LSTMCell's equations and weight layout (x2h = weight_ih,
# h2h = weight_hh, gates in torch's order), so the tests can check them against torch.


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


# ------------------------------------------------------------------------------------------------------------------
# Bag of words: each position sees the plain average of everything up to it — attention with equal weights.
#
# The average is written the way attention is: a (T, T) matrix of scores, the future masked to -inf, a softmax
# over each row, then weights @ x. All scores are equal (zero), so row t puts 1/(t+1) on positions 0..t; a
# Transformer (below) computes the scores from the data instead. The same numbers come from
# x.cumsum(1) / (1, 2, ..., T), which the tests check.


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


# ------------------------------------------------------------------------------------------------------------------
# Transformer (GPT-style): causal multi-head self-attention and an MLP per block, pre-LayerNorm, residuals.


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)  # queries, keys, values of all heads at once
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # each (B, T, C)
        q, k, v = (z.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for z in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )  # softmax(q k^T / sqrt(hs), future masked) v
        y = y.transpose(1, 2).reshape(B, T, C)  # heads side by side again
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(), nn.Linear(4 * config.n_embd, config.n_embd)
        )
        self.dropout = nn.Dropout(config.dropout)  # regularizes: a 200k-parameter model overfits 32k names

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.attn(self.ln_1(x)))  # tokens exchange information
        return x + self.dropout(self.mlp(self.ln_2(x)))  # each token thinks on its own


class Transformer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd ({config.n_embd}) must be divisible by n_head ({config.n_head})")
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.size(1)
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, n_embd)
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))  # (B, T, V)


# ------------------------------------------------------------------------------------------------------------------
# The zoo: --type names a model here.

MODELS = {
    "bigram": Bigram,
    "mlp": SequenceMLP,
    "rnn": partial(Recurrent, cell=RNNCell),
    "gru": partial(Recurrent, cell=GRUCell),
    "lstm": partial(Recurrent, cell=LSTMCell),
    "bow": BoW,
    "transformer": Transformer,
}


def build_model(model_type: str, config: ModelConfig) -> nn.Module:
    """A fresh model; an unknown type or a size that cannot work is a UserError."""
    if model_type not in MODELS:
        raise UserError(f"unknown model type {model_type!r}; choose one of {', '.join(MODELS)}")
    for name in ("n_layer", "n_embd", "n_embd2", "n_head"):
        if getattr(config, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(config, name)}")
    if model_type == "transformer" and config.n_embd % config.n_head:
        raise UserError(f"--n-embd ({config.n_embd}) must be divisible by --n-head ({config.n_head})")
    return MODELS[model_type](config)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
