"""The WaveNet paper's efficient form of the hierarchy: causal dilated convolutions over a whole word.

The hierarchical model fuses positions (0,1), (2,3), ... then (01,23), ... for one context. A
convolution with kernel 2 and dilation 1, 2, 4, ... does the same fusions at *every* position at
once, so one pass over a word predicts each of its characters, and the pairs that overlapping
contexts share are computed once instead of once per context.

    level 1 (dilation 1): h1[t] = tanh(BN([e[t-1], e[t]] @ W1))     each position with its neighbour
    level 2 (dilation 2): h2[t] = tanh(BN([h1[t-2], h1[t]] @ W2))    ... with the pair two steps back
    level 3 (dilation 4): h3[t] = tanh(BN([h2[t-4], h2[t]] @ W3))    receptive field 8 = block size

The kernel-2 convolution is FlattenConsecutive's concatenation followed by the very same Linear,
so a DilatedWaveNet is the hierarchical model's layers with each FlattenConsecutive(2) at level k
swapped for DilatedPairs(2**k): with shared weights, both give the same predictions (eval mode).
"""

import torch

from wavenet.layers import BatchNorm1d, FlattenConsecutive, Module, Sequential
from wavenet.model import Config, hierarchical


class DilatedPairs(Module):
    """The input of a causal convolution with kernel 2: (B, T, C) -> (B, T - d, 2C), [x[t - d], x[t]]."""

    def __init__(self, dilation: int):
        self.dilation = dilation

    def __call__(self, x):
        d = self.dilation
        return torch.cat([x[:, :-d], x[:, d:]], dim=-1)  # no padding: the output starts once t - d exists


class DilatedWaveNet(Sequential):
    """inputs (B, block_size - 1 + T) -> logits (B, T, vocab): position t predicts from inputs t .. t+block_size-1."""

    def __init__(self, config: Config, generator: torch.Generator | None = None):
        super().__init__(dilate(hierarchical(config, generator).layers))  # the same initialisation
        self.block_size = config.block_size

    @classmethod
    def from_hierarchical(cls, model: Sequential) -> "DilatedWaveNet":
        """A dilated view of a hierarchical model: the same layer objects, so the same parameters."""
        self = cls.__new__(cls)
        Sequential.__init__(self, dilate(model.layers))
        self.block_size = 2 ** sum(isinstance(layer, DilatedPairs) for layer in self.layers)
        self.training = model.training
        return self

    def __call__(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """With targets (B, T), -1 after each word's end, training BatchNorm counts only real positions.

        Padding after a short word never reaches a real position (the convolutions are causal),
        but it would pull the batch statistics towards contexts that don't exist.
        """
        T = idx.shape[1] - (self.block_size - 1)
        n_real = None if targets is None else (targets >= 0).sum(1)  # (B,) predictions per word
        x = idx
        for layer in self.layers:
            if isinstance(layer, BatchNorm1d) and self.training and n_real is not None:
                # a position at this level is real if its window ends inside the word
                real = torch.arange(x.shape[1], device=x.device) < (n_real + x.shape[1] - T)[:, None]  # (B, T')
                out = torch.zeros_like(x)
                out[real] = layer(x[real])  # (N, C): statistics over the real positions only
                x = out
            else:
                x = layer(x)
        return x


def dilate(layers: list[Module]) -> list[Module]:
    """The same layers, with the k-th FlattenConsecutive(2) (k = 0, 1, ...) replaced by DilatedPairs(2**k)."""
    out, level = [], 0
    for layer in layers:
        if isinstance(layer, FlattenConsecutive):
            if layer.n != 2:
                raise ValueError(f"only FlattenConsecutive(2) has a kernel-2 convolution form, got n={layer.n}")
            layer, level = DilatedPairs(2**level), level + 1
        out.append(layer)
    return out
