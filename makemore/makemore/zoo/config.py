"""The one configuration every zoo model is built from."""

from dataclasses import dataclass


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
