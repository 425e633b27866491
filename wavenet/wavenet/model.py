"""The lecture's hierarchical model: characters are fused in pairs, level by level.

    ........ -> (..)(..)(..)(..) -> (....)(....) -> (........) -> logits for the next character

With block size 8 that is log2(8) = 3 levels of FlattenConsecutive(2) -> Linear -> BatchNorm1d -> Tanh.
"""

from dataclasses import asdict, dataclass

import torch

from wavenet.layers import BatchNorm1d, Embedding, FlattenConsecutive, Linear, Sequential, Tanh
from zero_to_hero import UserError


@dataclass(frozen=True)
class Config:
    vocab_size: int = 27
    block_size: int = 8  # characters of context; a power of two, halved at every level
    n_embd: int = 24
    n_hidden: int = 128

    def __post_init__(self):
        b = self.block_size  # halving level by level must end at exactly one position
        if b < 2 or b & (b - 1):
            raise UserError(f"block size must be a power of two >= 2 (2, 4, 8, 16, ...), got {b}")

    @property
    def levels(self) -> int:
        return self.block_size.bit_length() - 1  # log2(block_size)

    def to_dict(self) -> dict:
        return asdict(self)


def hierarchical(config: Config, generator: torch.Generator | None = None) -> Sequential:
    """Embedding, then one FlattenConsecutive(2)/Linear/BatchNorm1d/Tanh level per halving, then the head."""
    layers = [Embedding(config.vocab_size, config.n_embd, generator=generator)]
    width = config.n_embd
    for _ in range(config.levels):
        layers += [
            FlattenConsecutive(2),  # (B, T, C) -> (B, T/2, 2C)
            Linear(2 * width, config.n_hidden, bias=False, generator=generator),  # BatchNorm's shift is the bias
            BatchNorm1d(config.n_hidden),
            Tanh(),
        ]
        width = config.n_hidden
    head = Linear(width, config.vocab_size, generator=generator)
    with torch.no_grad():
        head.weight *= 0.1  # start with near-uniform predictions: a first loss near log(vocab_size)
    return Sequential(layers + [head])
