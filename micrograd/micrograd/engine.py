"""A scalar-valued autograd engine: every number remembers how it was made, so gradients can flow back.

Each operation below returns a new Value and names a small `_<op>_backward(out)` static method written
right under it: given the Value `out` that the operation produced, it adds out.grad times the local
derivative d(out)/d(input) into each input's grad. That is the chain rule, one operation at a time.

Why functions that *receive* `out` instead of closures that capture it: a closure stored on `out`
that refers to `out` is a reference cycle, and every node of every training step would wait for
Python's cyclic garbage collector. Here a node points only to its inputs, the graph has no cycles,
and it is freed by reference counting the moment the last reference to the loss goes away.
"""

import math
import numbers


def _as_float(data):
    if isinstance(data, numbers.Real):  # int, float, bool, numpy scalars, fractions...
        return float(data)
    raise TypeError(f"a Value holds a real number, got {data!r} ({type(data).__name__})")


class Value:
    """A scalar, its gradient, the Values it was computed from (`_prev`) and the op that did it."""

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_grad_fn", "_exponent", "_mark")

    def __init__(self, data, _children=(), _op="", _grad_fn=None, label="", _exponent=None):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.label = label
        self._prev = _children  # the inputs of the op that made this Value, in order (a + a: (a, a))
        self._op = _op
        self._grad_fn = _grad_fn  # one of the _<op>_backward functions below; None for a leaf
        self._exponent = _exponent  # n of a ** n (only __pow__ sets it); _pow_backward reads it
        self._mark = None  # where the latest _build_topo() walk is with this node: visited, or in topo

    # ---- operations: forward, then the local derivative it needs ---------------------------------

    def __add__(self, other):  # out = a + b
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "+", Value._add_backward)

    @staticmethod
    def _add_backward(out):  # d(a + b)/da = 1, d(a + b)/db = 1
        a, b = out._prev
        a.grad += out.grad
        b.grad += out.grad

    @staticmethod
    def sum(terms):  # out = a + b + c + ..., one node however many terms (a neuron's b + w0*x0 + w1*x1 + ...)
        terms = tuple(terms)
        if not terms:
            raise ValueError("sum: needs at least one term")
        if not all(type(t) is Value for t in terms):  # plain numbers become constant Values
            terms = tuple(t if isinstance(t, Value) else Value(t) for t in terms)
        total = terms[0].data
        for t in terms[1:]:  # left to right: the same float roundings as a + b + c + ... pair by pair
            total += t.data
        return Value(total, terms, "+", Value._sum_backward)

    @staticmethod
    def _sum_backward(out):  # d(a + b + c + ...)/d(each term) = 1
        for t in out._prev:
            t.grad += out.grad

    def __mul__(self, other):  # out = a * b
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "*", Value._mul_backward)

    @staticmethod
    def _mul_backward(out):  # d(a * b)/da = b, d(a * b)/db = a
        a, b = out._prev
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    def __truediv__(self, other):  # out = a / b
        other = other if isinstance(other, Value) else Value(other)
        if other.data == 0:
            raise ValueError(f"division by zero: {self.data!r} / 0")
        return Value(self.data / other.data, (self, other), "/", Value._div_backward)

    @staticmethod
    def _div_backward(out):  # d(a / b)/da = 1 / b, d(a / b)/db = -a / b**2
        a, b = out._prev
        a.grad += out.grad / b.data
        b.grad -= a.data / (b.data * b.data) * out.grad

    def __pow__(self, exponent):  # out = a ** n, n a plain number
        if not isinstance(exponent, numbers.Real):  # a Value exponent is not supported, as in the original
            raise TypeError(f"pow: the exponent must be a plain number, got {type(exponent).__name__}")
        if self.data == 0 and exponent < 0:
            raise ValueError(f"pow: 0 to a negative power ({exponent!r}) is a division by zero")
        if self.data < 0 and not float(exponent).is_integer():
            raise ValueError(f"pow: a negative base ({self.data!r}) to a fractional power ({exponent!r}) is complex")
        try:
            result = self.data**exponent
        except OverflowError:
            raise OverflowError(f"pow: {self.data!r} ** {exponent!r} overflows a float") from None
        return Value(result, (self,), f"**{exponent}", Value._pow_backward, _exponent=exponent)

    @staticmethod
    def _pow_backward(out):  # d(a ** n)/da = n * a ** (n - 1)
        (a,) = out._prev
        n = out._exponent
        if n == 0:
            return  # a ** 0 is the constant 1
        if a.data == 0 and n < 1:
            raise ValueError(f"pow: the derivative of x ** {n!r} at x = 0 is infinite")
        a.grad += n * a.data ** (n - 1) * out.grad

    def exp(self):  # out = e ** a
        try:
            result = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp: exp({self.data!r}) overflows a float") from None
        return Value(result, (self,), "exp", Value._exp_backward)

    @staticmethod
    def _exp_backward(out):  # d(e ** a)/da = e ** a, which is out itself
        (a,) = out._prev
        a.grad += out.data * out.grad

    def log(self):  # out = ln a
        if self.data <= 0:
            raise ValueError(f"log: the input must be positive, got {self.data!r}")
        return Value(math.log(self.data), (self,), "log", Value._log_backward)

    @staticmethod
    def _log_backward(out):  # d(ln a)/da = 1 / a
        (a,) = out._prev
        a.grad += out.grad / a.data

    def tanh(self):  # out = tanh a
        return Value(math.tanh(self.data), (self,), "tanh", Value._tanh_backward)

    @staticmethod
    def _tanh_backward(out):  # d(tanh a)/da = 1 - tanh(a) ** 2
        (a,) = out._prev
        a.grad += (1.0 - out.data * out.data) * out.grad

    def relu(self):  # out = max(0, a)
        return Value(self.data if self.data > 0 else 0.0, (self,), "ReLU", Value._relu_backward)

    @staticmethod
    def _relu_backward(out):  # d(max(0, a))/da = 1 where a > 0, else 0
        (a,) = out._prev
        if out.data > 0:
            a.grad += out.grad

    def sigmoid(self):  # out = 1 / (1 + e ** -a), never exponentiating a large positive number
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)  # for x < 0 this is < 1: no overflow, and no 1 + huge rounding to huge
            s = e / (1.0 + e)
        return Value(s, (self,), "sigmoid", Value._sigmoid_backward)

    @staticmethod
    def _sigmoid_backward(out):  # d(sigmoid a)/da = sigmoid(a) * (1 - sigmoid(a))
        (a,) = out._prev
        a.grad += out.data * (1.0 - out.data) * out.grad

    # ---- everything else is made of the operations above ------------------------------------------

    def __neg__(self):  # -a
        return self * -1.0

    def __radd__(self, other):  # 2 + a
        return self + other

    def __sub__(self, other):  # a - b
        return self + (-other)

    def __rsub__(self, other):  # 2 - a
        return other + (-self)

    def __rmul__(self, other):  # 2 * a
        return self * other

    def __rtruediv__(self, other):  # 2 / a
        return Value(other) / self

    # ---- backpropagation --------------------------------------------------------------------------

    def backward(self):
        """Set every `.grad` in the graph below self to d(self)/d(that Value).

        Leaves (Values you made yourself: weights, inputs) *accumulate*, as in PyTorch, so call
        zero_grad() between training steps. Interior nodes are recomputed on every call: a second
        backward() adds d(self)/d(leaf) to each leaf once more and leaves interior grads as
        they were (the original micrograd counted interior gradients twice and compounded the error).
        """
        topo = self._build_topo()
        for v in topo:  # reset the interior: results of ops hold this root's gradient, not a sum over calls
            if v._prev:
                v.grad = 0.0
        self.grad += 1.0  # d(self)/d(self); 0 before this unless self is a leaf
        for v in reversed(topo):  # every node after all the nodes that use it
            if v._grad_fn is not None:  # None: a leaf, nothing below it
                v._grad_fn(v)

    def _build_topo(self):
        """Every Value self depends on, each after its inputs: the lecture's build_topo.

        A node comes off the stack twice: the first time it is marked visited and pushed back under its
        inputs; the second time, all of them are in topo, and so is the node after it.
        """
        # Two measured departures from the lecture's recursive walk with a `visited` set: a stack, since
        # recursion stops at Python's limit (~1,000 nested ops), and `visited` kept as a mark on each node (a
        # fresh object per walk) instead of a set: 9 against 15 ms for a moons step's 38,281 nodes (the whole
        # step: 41 against 55 ms) and 31 against 46 ms for a 100,000-node chain (2026-11-29; see the README).
        topo, stack = [], [self]
        visited, in_topo = object(), object()  # this walk's marks: `v._mark is visited` is `v in visited`
        while stack:
            v = stack.pop()
            if v._mark is visited:  # second time: its inputs are all in topo
                v._mark = in_topo
                topo.append(v)
            elif v._mark is not in_topo:  # first time (else: reached again by another path, already in topo)
                v._mark = visited
                stack.append(v)  # come back to v after its inputs
                for child in v._prev:
                    if child._mark is not in_topo:
                        stack.append(child)
        return topo

    def _backward(self):
        """Push self.grad one step back into its inputs (the lecture calls this by hand, node by node)."""
        if self._grad_fn is not None:
            self._grad_fn(self)

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"
