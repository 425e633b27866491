"""Lecture 6: a hierarchical WaveNet-style character model from our own layers, its dilated form, the flat baseline."""

from wavenet.data import Vocab, build_windows, load_words, padded_sequences, split_words
from wavenet.dilated import DilatedPairs, DilatedWaveNet
from wavenet.layers import BatchNorm1d, Embedding, FlattenConsecutive, Linear, Module, Sequential, Tanh
from wavenet.model import MODELS, Config, flat, hierarchical

__all__ = [
    "BatchNorm1d",
    "Config",
    "DilatedPairs",
    "DilatedWaveNet",
    "Embedding",
    "FlattenConsecutive",
    "Linear",
    "MODELS",
    "Module",
    "Sequential",
    "Tanh",
    "Vocab",
    "build_windows",
    "flat",
    "hierarchical",
    "load_words",
    "padded_sequences",
    "split_words",
]
