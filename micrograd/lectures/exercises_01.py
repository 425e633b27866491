# %% [markdown]
# # Lecture 1 exercises: the backward pass of every operation
#
# Below is a small scalar `Value`, complete except for one thing: what each operation does on the way
# back. Every `<op>_backward(out)` receives the Value `out` that the operation produced (its inputs are in
# `out._prev`) and must add `out.grad × d(out)/d(input)` into each input's `.grad`. Use `+=`: an input
# may be used more than once.
#
# Fill in the blanks (replace each `raise NotImplementedError` line), then run
# `python lectures/exercises_01.py` from `micrograd/`, or run the notebook. The checker at the end tests
# each operation on its own (all the others use the package's formulas meanwhile) by backpropagating a
# few expressions and comparing every input's gradient with PyTorch in float64. It says, per operation:
# right, wrong (by how much), or not done.

# %%
import math


class Value:
    """A scalar, its gradient, its inputs (`_prev`) and the name of the operation that made it (`_op`)."""

    def __init__(self, data, _prev=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = _prev
        self._op = _op

    def __add__(self, other):
        other = as_value(other)
        return Value(self.data + other.data, (self, other), "add")

    def __mul__(self, other):
        other = as_value(other)
        return Value(self.data * other.data, (self, other), "mul")

    def __truediv__(self, other):
        other = as_value(other)
        return Value(self.data / other.data, (self, other), "div")

    def __pow__(self, exponent):  # exponent: a plain number, kept on the output for the backward pass
        out = Value(self.data**exponent, (self,), "pow")
        out._exponent = exponent
        return out

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp")

    def log(self):
        return Value(math.log(self.data), (self,), "log")

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh")

    def relu(self):
        return Value(max(self.data, 0.0), (self,), "relu")

    # made of the operations above, so they need no backward of their own
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-as_value(other))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return as_value(other) / self

    def backward(self, rules=None):
        """Set every grad below self to d(self)/d(that Value). `rules`: op name -> backward function."""
        rules = rules or BACKWARD
        order, seen = [], set()

        def visit(v):  # each node after all of its inputs
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    visit(child)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            if v._op:
                rules[v._op](v)


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


# %% [markdown]
# ## Your part: one backward function per operation


# %%
def add_backward(out):
    """out = a + b"""
    a, b = out._prev
    raise NotImplementedError  # YOUR CODE


def mul_backward(out):
    """out = a * b"""
    a, b = out._prev
    raise NotImplementedError  # YOUR CODE


def div_backward(out):
    """out = a / b"""
    a, b = out._prev
    raise NotImplementedError  # YOUR CODE


def pow_backward(out):
    """out = a ** n, with n a plain number, kept in out._exponent"""
    (a,) = out._prev
    raise NotImplementedError  # YOUR CODE


def exp_backward(out):
    """out = e ** a"""
    (a,) = out._prev
    raise NotImplementedError  # YOUR CODE


def log_backward(out):
    """out = ln a (natural logarithm)"""
    (a,) = out._prev
    raise NotImplementedError  # YOUR CODE


def tanh_backward(out):
    """out = tanh a"""
    (a,) = out._prev
    raise NotImplementedError  # YOUR CODE


def relu_backward(out):
    """out = max(a, 0)"""
    (a,) = out._prev
    raise NotImplementedError  # YOUR CODE


BACKWARD = {
    "add": add_backward,
    "mul": mul_backward,
    "div": div_backward,
    "pow": pow_backward,
    "exp": exp_backward,
    "log": log_backward,
    "tanh": tanh_backward,
    "relu": relu_backward,
}

# %% [markdown]
# ## The checker
#
# For each operation: two expressions of three inputs in which it is applied more than once to the same
# input (so `=` instead of `+=` loses a contribution) and feeds into something else (so `out.grad` is not
# just 1). Only that operation runs your code;
# the others run the package's (`micrograd.engine`), so a mistake in one never shows up as another's.

# %%
from micrograd.engine import Value as PackageValue
from zero_to_hero.lectures import Exercises

PACKAGE_RULES = {
    "add": PackageValue._add_backward,
    "mul": PackageValue._mul_backward,
    "div": PackageValue._div_backward,
    "pow": PackageValue._pow_backward,
    "exp": PackageValue._exp_backward,
    "log": PackageValue._log_backward,
    "tanh": PackageValue._tanh_backward,
    "relu": PackageValue._relu_backward,
}
EXPRESSIONS = {  # each written once, run on our Value and on torch tensors (or the package's Value)
    "add": [lambda a, b, c: (a + b) * (a + c) + (a + a) * c, lambda a, b, c: (2.0 + a) * (b + 1.0)],
    "mul": [lambda a, b, c: (a * b) * (a * c) * a, lambda a, b, c: (3.0 * a) * (b * b)],
    "div": [lambda a, b, c: (a / b) * (c / a) + b / (a * c), lambda a, b, c: (2.0 / a) / b],
    "pow": [lambda a, b, c: (a**2) * (b**3) + (a**-1) * c, lambda a, b, c: ((a * a + c * c) ** 0.5) ** 1.5],
    "exp": [lambda a, b, c: (a * b).exp() * a.exp() + (b + c).exp(), lambda a, b, c: a.exp() * a.exp().exp() * c],
    "log": [lambda a, b, c: (a * a).log() * b + (b * b + c * c).log() * a, lambda a, b, c: c.log() * c.log() * b],
    "tanh": [lambda a, b, c: (a * b + c).tanh() * a.tanh() + a.tanh().tanh(), lambda a, b, c: (a.tanh() * b).tanh()],
    "relu": [
        lambda a, b, c: (a * b).relu() * (a + c).relu() + (-a).relu() * c,
        lambda a, b, c: (a.relu() + a.relu()) * b,
    ],
}
INPUTS = [(1.5, -0.7, 2.0), (-0.8, 1.3, 0.4)]  # a and b take both signs (each relu is on once, off once); c > 0

try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed (pip install torch): checking against micrograd.engine instead")


def reference_grads(expression, inputs):
    """d(expression)/d(each input) from PyTorch autograd in float64 (or the package's Value without torch)."""
    if torch is None:
        leaves = [PackageValue(x) for x in inputs]
        expression(*leaves).backward()
        return [leaf.grad for leaf in leaves]
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    expression(*leaves).backward()
    return [0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves]  # None: the input is not used


def max_grad_diff(op):
    """Largest |your gradient - reference| over the op's expressions and inputs (relative where the gradient
    is larger than 1, e.g. after exp); only `op` runs your code."""
    rules = {**PACKAGE_RULES, op: BACKWARD[op]}
    worst = 0.0
    for expression in EXPRESSIONS[op]:
        for inputs in INPUTS:
            leaves = [Value(x) for x in inputs]
            expression(*leaves).backward(rules)
            references = reference_grads(expression, inputs)
            for mine, reference in zip([leaf.grad for leaf in leaves], references, strict=True):
                worst = max(worst, abs(mine - reference) / max(1.0, abs(reference)))
    return worst


exercises = Exercises()
for op in BACKWARD:
    exercises.check(f"{op} backward", lambda op=op: max_grad_diff(op), tol=1e-9)
exercises.summary()
