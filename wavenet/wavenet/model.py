"""The lecture's hierarchical model: characters are fused in pairs, level by level.

    ........ -> (..)(..)(..)(..) -> (....)(....) -> (........) -> logits for the next character

With block size 8 that is log2(8) = 3 levels of FlattenConsecutive(2) -> Linear -> BatchNorm1d -> Tanh.
The lecture's starting point, lecture 5's MLP, is `flat`: the whole context squashed into one Linear.

Block sizes: the flat model takes any context of 1 or more characters. The hierarchical and dilated
models halve the context at every level until one position is left, so theirs is a power of two
(2, 4, 8, 16, ...); any other is a UserError that names the flat model. (Padding a context of 3 to
4 with '.' would only give a block-size-4 model that never sees its first character.)
"""

from dataclasses import asdict, dataclass, replace

import torch

from wavenet.layers import BatchNorm1d, Embedding, FlattenConsecutive, Linear, Sequential, Tanh
from zero_to_hero import UserError

MODELS = ("hierarchical", "dilated", "flat")


@dataclass(frozen=True)
class Config:
    vocab_size: int = 27
    block_size: int = 8  # characters of context; a power of two, halved at every level (flat: any >= 1)
    n_embd: int = 24
    n_hidden: int = 128
    model: str = "hierarchical"  # one of MODELS

    def __post_init__(self):
        if self.model not in MODELS:
            raise UserError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        b = self.block_size
        if self.model == "flat":
            if b < 1:
                raise UserError(f"block size must be at least 1, got {b}")
        elif b < 2 or b & (b - 1):  # halving level by level must end at exactly one position
            raise UserError(
                f"block size must be a power of two >= 2 (2, 4, 8, 16, ...) for the {self.model} model, got {b}; "
                "--model flat takes any block size"
            )

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


def flat(config: Config, generator: torch.Generator | None = None) -> Sequential:
    """Lecture 5's MLP, the lecture's baseline: Embedding, the whole context flattened into one Linear, the head.

    (B, block_size) -> (B, block_size, n_embd) -> (B, block_size * n_embd) -> (B, n_hidden) -> (B, vocab_size)
    """
    layers = [
        Embedding(config.vocab_size, config.n_embd, generator=generator),
        FlattenConsecutive(config.block_size),  # all positions at once: (B, T, C) -> (B, T * C)
        Linear(config.block_size * config.n_embd, config.n_hidden, bias=False, generator=generator),
        BatchNorm1d(config.n_hidden),
        Tanh(),
    ]
    head = Linear(config.n_hidden, config.vocab_size, generator=generator)
    with torch.no_grad():
        head.weight *= 0.1
    return Sequential(layers + [head])


def build_model(kind: str, config: Config, generator: torch.Generator | None = None) -> Sequential:
    """A freshly initialised model of `kind`; the block size is checked against it (flat takes any)."""
    from wavenet.dilated import DilatedWaveNet  # here, not at the top: dilated.py builds on this module

    if kind not in MODELS:
        raise UserError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")
    config = replace(config, model=kind)  # the block-size rule depends on the model
    if kind == "flat":
        return flat(config, generator)
    return DilatedWaveNet(config, generator) if kind == "dilated" else hierarchical(config, generator)
