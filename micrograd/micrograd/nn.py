"""A tiny neural network library on top of Value: Neuron, Layer, MLP (the API of the original micrograd)."""

import random

from micrograd.engine import Value

# Neuron(nin, nonlin=...) takes True (ReLU, the original's default), False (linear) or a name.
NONLINEARITIES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}


class Module:
    """Anything with parameters: zero_grad() resets their gradients before the next backward()."""

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        return []


class Neuron(Module):
    """out = nonlinearity(w . x + b), weights uniform in [-1, 1] from Python's `random`, bias 0."""

    def __init__(self, nin, nonlin=True):
        if isinstance(nonlin, bool):
            nonlin = "relu" if nonlin else "linear"
        if nonlin not in NONLINEARITIES:
            raise ValueError(f"unknown nonlinearity {nonlin!r}; choose one of {', '.join(NONLINEARITIES)}")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} takes {len(self.w)} inputs, got {len(x)}")
        # b + w0*x0 + w1*x1 + ...: one n-ary + node over the products, added in this order (as the
        # original's sum() did, one binary + at a time, so the result is the same float)
        act = Value.sum([self.b] + [wi * xi for wi, xi in zip(self.w, x, strict=True)])
        if self.nonlin == "linear":
            return act
        return getattr(act, self.nonlin)()  # act.relu(), act.tanh() or act.sigmoid()

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{NONLINEARITIES[self.nonlin]}Neuron({len(self.w)})"


class Layer(Module):
    """nout independent neurons reading the same inputs; returns a list (a single Value if nout == 1)."""

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        first = self.neurons[0]
        return f"Layer({len(first.w)} -> {len(self.neurons)}, {NONLINEARITIES[first.nonlin]})"


class MLP(Module):
    """Layers of sizes nin -> nouts[0] -> ... -> nouts[-1]: ReLU between layers, linear at the end."""

    def __init__(self, nin, nouts):
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP({', '.join(repr(layer) for layer in self.layers)})"
