# %% [markdown]
# # Lecture 1: building micrograd — backpropagation, spelled out
#
# We replay the lecture in its order: derivatives by nudging inputs, a `Value` that remembers how it was
# made, backpropagation by hand and then automatically, a neuron, PyTorch for comparison, a tiny MLP and
# its training loop, and the two-moons demo. Whatever we build inline is then checked against this
# package (`micrograd.engine`, `micrograd.nn`, `micrograd.moons`).
#
# Run it from `micrograd/`: `python lectures/01_micrograd.py` (full, a few seconds),
# `python lectures/01_micrograd.py --fast` (fewer moons steps, for tests), or open this file as a notebook
# (`pip install jupytext`, then open it in Jupyter or VS Code; or
# `python -m zero_to_hero.notebooks lectures/01_micrograd.py`). Figures and graph drawings land in
# `out/lectures/01/`; in a notebook they also show in their cells (the drawings need graphviz's `dot`).

# %%
import math
import random

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import micrograd
from micrograd.viz import draw_dot, trace
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("01")
moons_steps = lecture.steps(full=100, fast=20)  # SGD steps of the two-moons demo at the end
grid_points = lecture.steps(full=60, fast=25)  # decision-boundary plot resolution (points per axis)
random.seed(1337)
np.random.seed(1337)


# %% [markdown]
# ## Derivative of a simple function with one input
#
# A derivative answers: if I push x up by a tiny h, how much does f(x) move, per unit of h? We can measure
# that directly, no calculus needed. For f(x) = 3x² − 4x + 5 at x = 3 the answer is 6x − 4 = 14.


# %%
def f(x):
    return 3 * x**2 - 4 * x + 5


xs = np.arange(-5, 5, 0.25)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(xs, f(xs))
ax.set(xlabel="x", ylabel="f(x)", title="f(x) = 3x² − 4x + 5")
ax.grid(True)
lecture.savefig(fig, "f.png")
plt.close(fig)

print("f(3) =", f(3.0))
for h in (0.001, 0.000001):
    print(f"h = {h:g}: (f(3 + h) - f(3)) / h = {(f(3.0 + h) - f(3.0)) / h:.6f}")
slope = (f(3.0 + 0.000001) - f(3.0)) / 0.000001
print(f"at x = 2/3 the slope is ~0: {(f(2 / 3 + 0.000001) - f(2 / 3)) / 0.000001:.2e}")
lecture.result("slope", slope, lecture=14)

# %% [markdown]
# ## Derivative of a function with multiple inputs
#
# With d = a·b + c we nudge one input at a time. The slope with respect to a is b (= −3), with respect
# to b it is a (= 2), and c passes straight through (slope 1).

# %%
h = 0.0001
a, b, c = 2.0, -3.0, 10.0
d1 = a * b + c
slopes = {
    "a": ((a + h) * b + c - d1) / h,
    "b": (a * (b + h) + c - d1) / h,
    "c": (a * b + (c + h) - d1) / h,
}
print("d =", d1)
for name, value in slopes.items():
    print(f"slope of d with respect to {name}: {value:.6f}")
lecture.result("slope_a", slopes["a"], lecture=-3)
lecture.result("slope_b", slopes["b"], lecture=2)
lecture.result("slope_c", slopes["c"], lecture=1)

# %% [markdown]
# ## Starting the core Value object of micrograd and its visualization
#
# Neural networks are big expressions. To differentiate them we need each number to remember which
# numbers and which operation produced it: that is `Value`. We start with only `+` and `*` and a `grad`
# field that stays 0 until we fill it. `_backward` does nothing yet; it gets a job a few sections below.


# %%
class Value:
    """A scalar that remembers its inputs (`_prev`) and the operation (`_op`) that made it."""

    def __init__(self, data, children=(), op="", label=""):
        self.data = data
        self.grad = 0.0  # d(final output) / d(this value): 0 until we backpropagate
        self._prev = tuple(children)
        self._op = op
        self.label = label
        self._backward = lambda: None  # a leaf has nothing behind it to pass a gradient to

    def __repr__(self):
        return f"Value(data={self.data})"

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        return Value(self.data * other.data, (self, other), "*")


a = Value(2.0, label="a")
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
f = Value(-2.0, label="f")
L = d * f
L.label = "L"
print(L, "made by", L._op, "from", L._prev)
lecture.result("L", L.data, lecture=-8.0)

# %% [markdown]
# ## Manual backpropagation example #1: simple expression
#
# Now the gradient of L with respect to every node, walking backwards from L. Each step uses only the
# *local* derivative of one operation, multiplied by the gradient already known above it: the chain rule.
# A `+` hands its gradient unchanged to both inputs; a `*` hands each input the *other* input's value
# times the gradient.

# %%
L.grad = 1.0  # dL/dL
f.grad = d.data * L.grad  # L = d * f, so dL/df = d
d.grad = f.data * L.grad  #             and dL/dd = f
c.grad = 1.0 * d.grad  # d = e + c: dd/dc = 1, so dL/dc = dL/dd
e.grad = 1.0 * d.grad  #            dd/de = 1
a.grad = b.data * e.grad  # e = a * b: de/da = b, so dL/da = b * dL/de
b.grad = a.data * e.grad  #            de/db = a
for v in (L, f, d, c, e, a, b):
    print(f"{v.label}.grad = {v.grad}")
# the package's draw_dot reads only data, grad, label, _op and _prev, so it draws our inline Value too:
# a box per number, a circle per operation, inputs on the left (in a notebook the drawing shows below the cell;
# as a script it is saved as out/lectures/01/L_graph.png)
lecture.savegraph(draw_dot(L), "L_graph.png", docs=True)

# %% [markdown]
# Check each leaf numerically: nudge it by h, recompute L from scratch, divide the change by h.


# %%
def L_of(a, b, c, f):
    return (a * b + c) * f


h = 0.001
leaves = {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0}
by_hand = {"a": a.grad, "b": b.grad, "c": c.grad, "f": f.grad}
for name in leaves:
    nudged = {**leaves, name: leaves[name] + h}
    numeric = (L_of(**nudged) - L_of(**leaves)) / h
    print(f"dL/d{name}: by hand {by_hand[name]:+.4f}, by nudging {numeric:+.6f}")
    assert abs(numeric - by_hand[name]) < 1e-6
lecture.result("dL_da", a.grad, lecture=6.0)
lecture.result("dL_db", b.grad, lecture=-4.0)

# %% [markdown]
# The package builds the same graph, and its `backward()` finds the same gradients.

# %%
pa, pb, pc, pf = (micrograd.Value(x) for x in (2.0, -3.0, 10.0, -2.0))
pL = (pa * pb + pc) * pf
pL.backward()
assert (pL.data, pa.grad, pb.grad, pc.grad, pf.grad) == (L.data, a.grad, b.grad, c.grad, f.grad)
print("micrograd.Value agrees:", pa.grad, pb.grad, pc.grad, pf.grad)

# %% [markdown]
# ## Preview of a single optimization step
#
# A gradient points uphill. Moving every leaf a little (0.01 × its gradient) in that direction must
# raise L, from −8 towards 0. Training is this, repeated, with a minus sign to go downhill on a loss.

# %%
for leaf in (a, b, c, f):
    leaf.data += 0.01 * leaf.grad
e = a * b
d = e + c
L = d * f
print("L after one step uphill:", L.data)
lecture.result("L_nudged", L.data, lecture=-7.286496, fmt=".6f")

# %% [markdown]
# ## Manual backpropagation example #2: a neuron
#
# A neuron weighs its inputs, adds a bias and squashes the sum with tanh. The bias 6.88137... is chosen so
# that n = 0.8814 and o = tanh(n) = 1/√2 ≈ 0.7071, which makes the gradients round numbers.

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
grid = np.arange(-5, 5, 0.2)
ax.plot(grid, np.tanh(grid))
ax.set(xlabel="n", ylabel="tanh(n)", title="tanh squashes to (−1, 1)")
ax.grid(True)
lecture.savefig(fig, "tanh.png")
plt.close(fig)


def tanh(self):
    return Value(math.tanh(self.data), (self,), "tanh")


Value.tanh = tanh  # in the video the class is edited in place; here we attach each new method


def neuron():
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), every node labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    return x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n


x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = neuron()
o = n.tanh()
o.label = "o"
print(f"n = {n.data:.4f}, o = {o.data:.4f}")
lecture.result("o", o.data, lecture=0.7071)

# %% [markdown]
# By hand again. The only new local derivative is tanh's: d tanh(n)/dn = 1 − tanh(n)² = 1 − o², which
# is 0.5 here.

# %%
o.grad = 1.0
n.grad = (1 - o.data**2) * o.grad  # o = tanh(n)
x1w1x2w2.grad = n.grad  # n = x1w1x2w2 + b: a + passes the gradient on
b.grad = n.grad
x1w1.grad = x1w1x2w2.grad
x2w2.grad = x1w1x2w2.grad
x1.grad = w1.data * x1w1.grad  # x1w1 = x1 * w1
w1.grad = x1.data * x1w1.grad
x2.grad = w2.data * x2w2.grad  # x2w2 = x2 * w2
w2.grad = x2.data * x2w2.grad
neuron_by_hand = {v.label: v.grad for v in (o, n, x1w1x2w2, b, x1w1, x2w2, x1, w1, x2, w2)}
for label, grad in neuron_by_hand.items():
    print(f"{label:>14}.grad = {grad:+.4f}")
lecture.savegraph(draw_dot(o), "neuron_graph.png")

# %% [markdown]
# w2's gradient is 0 because x2 = 0: however we change w2, x2·w2 stays 0, so o cannot notice.
#
# ## Implementing the backward function for each operation
#
# Doing this by hand does not scale. Each operation knows its own local derivative, so we let it store a
# small `_backward` closure that, once the output's grad is known, adds (local derivative × output grad)
# into its inputs' grads. We redefine `+`, `*` and `tanh` with it.


# %%
def add(self, other):
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


def mul(self, other):
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


def tanh(self):
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


Value.__add__, Value.__mul__, Value.tanh = add, mul, tanh

# %% [markdown]
# Now we only set o.grad = 1 and call `_backward` on each node, from o back to the leaves.

# %%
x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = neuron()
o = n.tanh()
o.label = "o"
o.grad = 1.0
o._backward()
n._backward()
b._backward()  # a leaf: does nothing
x1w1x2w2._backward()
x2w2._backward()
x1w1._backward()
for v in (o, n, x1w1x2w2, b, x1w1, x2w2, x1, w1, x2, w2):
    assert v.grad == neuron_by_hand[v.label], v.label
print("node-by-node _backward() gives the gradients we found by hand")

# %% [markdown]
# ## Implementing the backward function for a whole expression graph
#
# A node may call `_backward` only after every node that uses it has finished, or its grad is incomplete.
# A topological order (each node after its inputs) gives that when walked in reverse. `backward()`
# builds it, seeds the output's grad with 1 and runs every `_backward`.


# %%
def backward(self):
    topo, visited = [], set()

    def build_topo(v):  # depth first: a node joins `topo` after all its inputs
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(self)
    self.grad = 1.0
    for v in reversed(topo):
        v._backward()


Value.backward = backward

x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = neuron()
o = n.tanh()
o.backward()
for name, v in (("x1", x1), ("w1", w1), ("x2", x2), ("w2", w2), ("b", b), ("n", n)):
    print(f"{name}.grad = {v.grad:+.4f}")
lecture.result("x1_grad", x1.grad, lecture=-1.5)
lecture.result("w1_grad", w1.grad, lecture=1.0)
lecture.result("x2_grad", x2.grad, lecture=0.5)
lecture.result("w2_grad", w2.grad, lecture=0.0)

# %% [markdown]
# The package's `Value.backward()` does the same walk (`Value._build_topo`, with an explicit stack instead of
# recursion, so very deep graphs work, and "visited" kept as a mark on each node, which is faster than a set)
# and lands on the same numbers.

# %%
px1, px2, pw1, pw2, pb = (micrograd.Value(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
po = (px1 * pw1 + px2 * pw2 + pb).tanh()
po.backward()
ours = [o.data, x1.grad, w1.grad, x2.grad, w2.grad, b.grad]
package = [po.data, px1.grad, pw1.grad, px2.grad, pw2.grad, pb.grad]
assert np.allclose(ours, package, rtol=0, atol=1e-15), (ours, package)
print("micrograd.Value:", [round(g, 4) for g in package])

# %% [markdown]
# ## Fixing a backprop bug when one node is used multiple times
#
# If a `_backward` *sets* its inputs' grads (`=`) instead of adding to them (`+=`), a value used twice
# keeps only the last contribution. In b = a + a, db/da = 2, but the overwriting version says 1. Gradients
# arriving along different paths must be summed, which is why every `_backward` uses `+=`.


# %%
def add_overwriting(self, other):
    """`+` with the bug: the second write to a.grad replaces the first instead of adding to it."""
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad = out.grad
        other.grad = out.grad

    out._backward = _backward
    return out


a = Value(3.0, label="a")
b = add_overwriting(a, a)
b.backward()
overwritten = a.grad
a = Value(3.0, label="a")
b = a + a
b.label = "b"
b.backward()
print(f"b = a + a: da with `=` {overwritten}, with `+=` {a.grad}")
pa = micrograd.Value(3.0)
(pa + pa).backward()
assert pa.grad == a.grad == 2.0
lecture.result("a_plus_a_grad", a.grad, lecture=2.0)
lecture.result("a_plus_a_overwrite", overwritten, lecture=1.0)

# a used in two branches: f = (a*b) * (a+b), df/da = b(a+b) + ab = -3, df/db = a(a+b) + ab = -8
a, b = Value(-2.0, label="a"), Value(3.0, label="b")
f = (a * b) * (a + b)
f.backward()
print(f"f = (a*b)*(a+b): a.grad = {a.grad}, b.grad = {b.grad}")
assert (a.grad, b.grad) == (-3.0, -8.0)

# %% [markdown]
# ## Breaking up a tanh, exercising with more operations
#
# tanh(n) = (e²ⁿ − 1)/(e²ⁿ + 1). Building it from `exp`, `**`, `/`, `-` and `+` needs those operations,
# each with its own local derivative, and plain numbers mixed with Values (`2 * n`, `e - 1`). Any split
# of a function into pieces gives the same gradient, as long as each piece's derivative is right.


# %%
def as_value(x):
    return x if isinstance(x, Value) else Value(x)


def add(self, other):
    other = as_value(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


def mul(self, other):
    other = as_value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


def power(self, k):  # k is a plain number
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad  # d e^x / dx = e^x, which is out itself

    out._backward = _backward
    return out


Value.__add__, Value.__mul__, Value.__pow__, Value.exp = add, mul, power, exp
Value.__radd__ = lambda self, other: self + other  # 2 + v
Value.__rmul__ = lambda self, other: self * other  # 2 * v
Value.__neg__ = lambda self: self * -1
Value.__sub__ = lambda self, other: self + (-other)
Value.__truediv__ = lambda self, other: self * as_value(other) ** -1  # a / b = a * b^-1

x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = neuron()
e = (2 * n).exp()
o = (e - 1) / (e + 1)
o.backward()
from_exp = [o.data, x1.grad, w1.grad, x2.grad, w2.grad, b.grad]
print("tanh from exp: o =", round(o.data, 4), "grads x1, w1, x2, w2, b:", [round(g, 4) for g in from_exp[1:]])
assert np.allclose(from_exp, ours, rtol=0, atol=1e-12)
lecture.result("o_from_exp", o.data, lecture=0.7071)

pn = px1 * pw1 + px2 * pw2 + pb  # the package has the same operations
for v in (px1, px2, pw1, pw2, pb):
    v.grad = 0.0
pe = (2 * pn).exp()
po = (pe - 1) / (pe + 1)
po.backward()
assert np.allclose([po.data, px1.grad, pw1.grad, px2.grad, pw2.grad, pb.grad], from_exp, rtol=0, atol=1e-12)
print("micrograd.Value gives the same from exp, /, - and +")

# %% [markdown]
# ## Doing the same thing but in PyTorch: comparison
#
# PyTorch does exactly this, on tensors instead of single numbers. In float64 with `requires_grad=True`,
# the same neuron gives the same output and gradients. (The lecture printed o = 0.7071066904: it made its
# tensors with `torch.Tensor([...])`, which is float32, and only then converted to float64, so b had
# already lost digits. We show both.)

# %%
try:
    import torch
except ImportError:  # the package does not need PyTorch; only this comparison does
    torch = None
    print("PyTorch is not installed (pip install torch): comparison skipped")

if torch is not None:

    def leaf(v):
        return torch.tensor([v], dtype=torch.float64, requires_grad=True)

    tx1, tx2, tw1, tw2, tb = (leaf(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
    to = torch.tanh(tx1 * tw1 + tx2 * tw2 + tb)
    to.backward()
    torch_grads = [to.item(), tx1.grad.item(), tw1.grad.item(), tx2.grad.item(), tw2.grad.item(), tb.grad.item()]
    print(f"torch: o = {to.item():.10f}; grads x1, w1, x2, w2, b = {[round(g, 10) for g in torch_grads[1:]]}")
    assert np.allclose(torch_grads, ours, rtol=0, atol=1e-15)
    lecture.result("torch_o", to.item(), lecture=0.7071066904050358, fmt=".10f")

    bias_via_float32 = torch.tensor([6.8813735870195432], dtype=torch.float32).double()
    o_float32_bias = torch.tanh(2.0 * -3.0 + 0.0 * 1.0 + bias_via_float32).item()
    print(f"with the bias rounded to float32 first, as in the lecture: o = {o_float32_bias:.16f}")
    lecture.result("torch_o_float32_bias", o_float32_bias, lecture=0.7071066904050358, fmt=".10f")

# %% [markdown]
# ## Building out a neural net library (multi-layer perceptron) in micrograd
#
# A neuron is tanh(w·x + b) with random weights; a layer is a list of neurons that read the same inputs;
# an MLP feeds each layer's outputs to the next. With our Value that is a few lines. The lecture's MLP
# uses tanh everywhere, including the output, and a random bias.


# %%
class Neuron:
    def __init__(self, nin):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x):
        act = self.b
        for wi, xi in zip(self.w, x, strict=True):
            act = act + wi * xi  # b + w0*x0 + w1*x1 + ...
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


random.seed(1337)
net = MLP(3, [4, 4, 1])
print("MLP(3, [4, 4, 1]) on [2.0, 3.0, -1.0]:", net([2.0, 3.0, -1.0]))

# %% [markdown]
# `micrograd.nn` has the same three classes (plus `Module.zero_grad()`). Its `Neuron` takes the
# nonlinearity as an argument, so layers of tanh neurons given our weights compute exactly what ours
# compute. (Its `MLP` uses ReLU between layers and a linear output, the choice of the moons demo below.)

# %%
from micrograd import nn


def package_copy(net):
    """The same network in micrograd.nn Layers of tanh neurons, with net's weights."""
    layers = [nn.Layer(len(layer.neurons[0].w), len(layer.neurons), nonlin="tanh") for layer in net.layers]
    package_params = [p for layer in layers for p in layer.parameters()]
    for theirs, mine in zip(package_params, net.parameters(), strict=True):
        theirs.data = mine.data
    return layers


def package_forward(layers, x):
    for layer in layers:
        x = layer(x)
    return x


package_net = package_copy(net)
assert package_forward(package_net, [2.0, 3.0, -1.0]).data == net([2.0, 3.0, -1.0]).data
print("micrograd.nn gives the same output:", package_forward(package_net, [2.0, 3.0, -1.0]).data)
print("the package's own MLP(3, [4, 4, 1]):", nn.MLP(3, [4, 4, 1]))

# %% [markdown]
# ## Creating a tiny dataset, writing the loss function
#
# Four inputs and the outputs we want for them. The loss is one number that is 0 only when every
# prediction hits its target: the sum of squared differences (mean squared error without the mean).

# %%
xs = [
    [2.0, 3.0, -1.0],
    [3.0, -1.0, 0.5],
    [0.5, 1.0, 1.0],
    [1.0, 1.0, -1.0],
]
ys = [1.0, -1.0, -1.0, 1.0]
ypred = [net(x) for x in xs]
loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True))
print("predictions:", [round(y.data, 4) for y in ypred], "loss:", round(loss.data, 4))
lecture.result("initial_loss", loss.data, lecture="-")

# %% [markdown]
# ## Collecting all of the parameters of the neural net
#
# `loss.backward()` fills a gradient for every weight and bias. Those are what we change: 3·4+4, 4·4+4
# and 4·1+1 numbers, 41 in all.

# %%
loss.backward()
params = net.parameters()
print(f"{len(params)} parameters; the first weight {params[0].data:+.4f} has gradient {params[0].grad:+.4f}")
lecture.result("parameters", len(params), lecture=41)

# %% [markdown]
# The loss is one expression too, only a big one: four forward passes through the MLP, four squared
# differences, one sum. Drawn like the neuron above, every one of its nodes carries the gradient that
# `loss.backward()` just filled in: the 41 parameters are among the leaves, next to the inputs and targets.

# %%
print(f"the loss graph has {len(trace(loss)[0])} nodes")
lecture.savegraph(draw_dot(loss), "mlp_loss_graph.png")

# %% [markdown]
# ## Doing gradient descent optimization manually, training the network
#
# Forward, backward, nudge every parameter a little *against* its gradient, repeat. We train two copies
# of the same initial network for 20 steps at learning rate 0.1: one resets the gradients before each
# backward pass, the other forgets to, as the lecture first did. `+=` in every `_backward` means stale
# gradients from earlier steps are added to the new ones: each step pushes with the sum of all the
# gradients so far, ever larger steps. On four points that even looks good (the lecture's first run also
# "converged" suspiciously fast): the weights blow up, every tanh saturates at exactly ±1 and the loss hits 0.
# That is luck on a toy problem, not learning; on anything real the growing steps overshoot.


# %%
def train(net, steps, zero_grad, learning_rate=0.1):
    losses = []
    for _ in range(steps):
        ypred = [net(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True))
        if zero_grad:
            for p in net.parameters():
                p.grad = 0.0
        loss.backward()
        for p in net.parameters():
            p.data += -learning_rate * p.grad
        losses.append(loss.data)
    return losses


random.seed(1337)
net_zeroed = MLP(3, [4, 4, 1])
random.seed(1337)
net_forgot = MLP(3, [4, 4, 1])
layers_zeroed, layers_forgot = package_copy(net_zeroed), package_copy(net_forgot)
with_zero_grad = train(net_zeroed, 20, zero_grad=True)
without_zero_grad = train(net_forgot, 20, zero_grad=False)
print("step | loss with zero_grad | loss without")
for k, (good, bad) in enumerate(zip(with_zero_grad, without_zero_grad, strict=True)):
    print(f"{k:4d} | {good:19.6f} | {bad:.6f}")
print("predictions with zero_grad:", [round(net_zeroed(x).data, 4) for x in xs])
print("predictions without:", [round(net_forgot(x).data, 4) for x in xs])
for name, trained in (("with", net_zeroed), ("without", net_forgot)):
    print(f"largest |parameter| {name} zero_grad: {max(abs(p.data) for p in trained.parameters()):.1f}")
lecture.result("loss_zero_grad", with_zero_grad[-1], lecture="-", fmt=".6f")
lecture.result("loss_no_zero_grad", without_zero_grad[-1], lecture="-", fmt=".2e")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(with_zero_grad, marker=".", label="zero_grad() every step")
ax.plot(without_zero_grad, marker=".", label="gradients never reset")
ax.set(xlabel="step", ylabel="loss (sum of squared errors)", yscale="log", title="MLP(3, [4, 4, 1]), 4 examples")
ax.legend()
ax.grid(True, which="both", alpha=0.3)
lecture.savefig(fig, "zero_grad.png", docs=True)
plt.close(fig)

# %% [markdown]
# The same two runs with `micrograd.nn` layers (whose `Module.zero_grad()` is the reset) follow the same
# losses step for step.


# %%
class PackageNet(nn.Module):
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        return package_forward(self.layers, x)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


assert np.allclose(train(PackageNet(layers_zeroed), 20, zero_grad=True), with_zero_grad, rtol=0, atol=1e-12)
# without the reset the steps grow and the run turns chaotic, so last-bit differences (the package sums a weight's
# gradient contributions in another order) grow to ~1e-12 at the loss spike; still the same run
assert np.allclose(train(PackageNet(layers_forgot), 20, zero_grad=False), without_zero_grad, rtol=1e-9, atol=1e-12)
print("micrograd.nn: same losses with and without zero_grad")

# %% [markdown]
# ## Walkthrough of the full code of micrograd on GitHub: the two-moons demo
#
# The repository's demo trains `MLP(2, [16, 16, 1])` (ReLU hidden layers, linear output, 337 parameters)
# to separate two interleaving half circles, with a max-margin loss, a little L2 regularisation and a
# learning rate decaying from 1.0 to 0.1. Here it is through the package, as `train.py` runs it
# (our own moons generator, so the points differ from scikit-learn's).

# %%
import time

from micrograd.moons import make_moons, sgd, svm_loss

X, y = make_moons(100, noise=0.1, seed=1337)
random.seed(1337)
model = nn.MLP(2, [16, 16, 1])
print(model, len(model.parameters()), "parameters")
start = time.perf_counter()
history = []
for k, step_loss, accuracy, learning_rate in sgd(model, X, y, moons_steps):
    history.append((step_loss, accuracy))
    if k % 10 == 0 or k == moons_steps - 1:
        print(f"step {k:3d} loss {step_loss:.4f} accuracy {accuracy:.0%} lr {learning_rate:.3f}")
final_loss, final_accuracy = svm_loss(model, X.tolist(), y.tolist())
print(f"{moons_steps} steps in {time.perf_counter() - start:.1f} s; after the last update: loss {final_loss.data:.4f}")
lecture.result("moons_loss", history[-1][0], lecture=0.010978)  # the loss the last step printed
lecture.result("moons_accuracy", 100 * final_accuracy, lecture=100.0, fmt=".1f")

grid_x, grid_y = np.meshgrid(
    np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, grid_points),
    np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, grid_points),
)
scores = np.array([model([float(u), float(v)]).data for u, v in zip(grid_x.ravel(), grid_y.ravel(), strict=True)])
fig, (ax_loss, ax_moons) = plt.subplots(1, 2, figsize=(9, 3.8))
ax_loss.plot([loss for loss, _ in history], label="loss")
ax_loss.plot([acc for _, acc in history], label="accuracy")
ax_loss.set(xlabel="step", title="training")
ax_loss.legend()
ax_loss.grid(True, alpha=0.3)
ax_moons.contourf(grid_x, grid_y, (scores > 0).reshape(grid_x.shape), levels=1, cmap="Spectral", alpha=0.8)
ax_moons.scatter(X[:, 0], X[:, 1], c=y, s=20, cmap="Spectral", edgecolors="k")
ax_moons.set(xlabel="x1", ylabel="x2", title=f"decision boundary after {moons_steps} steps")
fig.tight_layout()
lecture.savefig(fig, "moons.png", docs=True)
plt.close(fig)

# %% [markdown]
# ## Real stuff: diving into PyTorch, finding their backward pass for tanh
#
# PyTorch's tanh backward is the same one-liner we wrote: grad_in = grad_out · (1 − tanh²). Its autograd
# agrees with that formula everywhere we try it.

# %%
if torch is not None:
    points = torch.linspace(-4, 4, 41, dtype=torch.float64, requires_grad=True)
    outputs = torch.tanh(points)
    outputs.backward(torch.ones_like(outputs))
    assert torch.allclose(points.grad, 1 - outputs.detach() ** 2, rtol=0, atol=1e-15)
    print("torch's tanh backward == 1 - tanh(x)**2 at 41 points")

# %% [markdown]
# ## Conclusion
#
# Everything a neural network library does to learn is here: an expression graph, a local derivative per
# operation, the chain rule applied in reverse topological order, and a loop that steps the parameters
# against their gradients. Try `exercises_01.py` next: each operation's backward is left blank for you.
