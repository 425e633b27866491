"""micrograd: a scalar autograd engine, a tiny neural network library on top, and graph drawings."""

from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]
