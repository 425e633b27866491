"""Value against PyTorch autograd in float64: values and gradients of every op, graphs, errors."""

import gc
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.engine import Value

torch.set_default_dtype(torch.float64)


def test_the_original_readme_expression():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()

    at = torch.tensor(-4.0, requires_grad=True)
    bt = torch.tensor(2.0, requires_grad=True)
    ct = at + bt
    dt = at * bt + bt**3
    ct = ct + ct + 1
    ct = ct + 1 + ct + (-at)
    dt = dt + dt * 2 + (bt + at).relu()
    dt = dt + 3 * dt + (bt - at).relu()
    gt = (ct - dt) ** 2 / 2.0
    gt = gt + 10.0 / (ct - dt) ** 2
    gt.backward()

    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)
    assert g.data == pytest.approx(gt.item(), rel=1e-12)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-12)


# ---- random expression graphs over every op ---------------------------------------------------------
# A program is a list of steps; each step applies one op to nodes picked from everything built so far
# (so nodes get reused), in micrograd and in torch side by side. Steps whose inputs are outside the op's
# domain (or would overflow) are skipped, so every generated graph is valid.

UNARY = ["neg", "exp", "log", "tanh", "relu", "sigmoid", "pow"]
BINARY = ["add", "sub", "mul", "div"]
EXPONENTS = [2, 3, -1, 0.5, 1.5, -2, 0]


def _apply(op, x, y, const, exponent, side):
    """op on micrograd Values or torch tensors alike; y is None for unary ops, const for a number operand."""
    other = const if y is None else y
    if op == "add":
        return x + other if side else other + x
    if op == "sub":
        return x - other if side else other - x
    if op == "mul":
        return x * other if side else other * x
    if op == "div":
        return x / other if side else other / x
    if op == "neg":
        return -x
    if op == "pow":
        return x**exponent
    return getattr(x, op)()  # exp, log, tanh, relu, sigmoid


def _valid(op, xv, yv, exponent, side):
    if op == "exp":
        return xv < 20
    if op == "log":
        return xv > 1e-3
    if op == "div":
        return abs(yv if side else xv) > 1e-2
    if op == "pow":
        if abs(xv) > 1e3 or (exponent < 1 and abs(xv) < 1e-2):
            return False
        return float(exponent).is_integer() or xv > 0
    return True


step = st.tuples(
    st.sampled_from(UNARY + BINARY),
    st.integers(0, 10**6),  # which node is x
    st.one_of(st.none(), st.integers(0, 10**6)),  # which node is y (None: a plain number instead)
    st.floats(-3, 3, allow_nan=False),  # the plain number
    st.sampled_from(EXPONENTS),
    st.booleans(),  # x on the left (True) or the right
)


@settings(max_examples=150, deadline=None)
@given(leaves=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=4), program=st.lists(step, max_size=25))
def test_random_graphs_match_torch(leaves, program):
    values = [Value(v) for v in leaves]
    tensors = [torch.tensor(v, requires_grad=True) for v in leaves]
    for op, i, j, const, exponent, side in program:
        i %= len(values)
        y_value = None if op in UNARY or j is None else values[j % len(values)]
        y_tensor = None if y_value is None else tensors[j % len(values)]
        yv = const if y_value is None else y_value.data
        if not _valid(op, values[i].data, yv, exponent, side):
            continue
        out = _apply(op, values[i], y_value, const, exponent, side)
        if not math.isfinite(out.data) or abs(out.data) > 1e6:
            continue
        values.append(out)
        tensors.append(_apply(op, tensors[i], y_tensor, const, exponent, side))
    for t in tensors[len(leaves) :]:
        t.retain_grad()
    root, root_t = values[-1], tensors[-1]
    if len(values) > len(leaves) + 1:  # end in a sum so that several nodes feed the root
        root, root_t = values[-1] + values[-2], tensors[-1] + tensors[-2]
        root_t.retain_grad()
    root.backward()
    root_t.backward()
    for v, t in zip(values, tensors, strict=True):
        assert v.data == pytest.approx(t.item(), rel=1e-9, abs=1e-12)
        expected = 0.0 if t.grad is None else t.grad.item()  # torch leaves None where nothing flows
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-9)


# ---- graph structure -------------------------------------------------------------------------------


def test_reused_nodes_accumulate_every_use():
    a = Value(3.0)
    b = a + a  # db/da = 2
    c = a * a  # dc/da = 2a
    d = b * c + a
    d.backward()
    at = torch.tensor(3.0, requires_grad=True)
    dt = (at + at) * (at * at) + at
    dt.backward()
    assert b._prev == (a, a)
    assert d.data == dt.item() == 57.0
    assert a.grad == at.grad.item() == 2 * 9 + 6 * 6 + 1


def test_n_ary_sum_is_one_node_with_the_same_float_as_pairwise_adds():
    random_terms = [0.1, 0.2, 0.3, 1e16, -1e16, 1.0 / 3.0, 2.5e-17]  # order matters for float roundings
    terms = [Value(t) for t in random_terms]
    pairwise = terms[0]
    for t in terms[1:]:
        pairwise = pairwise + t
    total = Value.sum(terms)
    assert total.data == pairwise.data  # bit for bit, not approximately
    assert total._op == "+" and total._prev == tuple(terms)


def test_n_ary_sum_gradients_match_torch_with_reused_terms_and_numbers():
    a, b = Value(1.5), Value(-2.0)
    out = Value.sum([a * b, a, 3, b, a]).tanh()  # a three times, b twice, a plain number
    out.backward()
    at = torch.tensor(1.5, requires_grad=True)
    bt = torch.tensor(-2.0, requires_grad=True)
    outt = (at * bt + at + 3 + bt + at).tanh()
    outt.backward()
    assert out.data == pytest.approx(outt.item(), rel=1e-12)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-12)
    assert Value.sum([a]).data == a.data
    with pytest.raises(ValueError, match="sum: needs at least one term"):
        Value.sum([])
    with pytest.raises(TypeError, match="a Value holds a real number"):
        Value.sum([a, "b"])


def test_second_backward_adds_leaf_gradients_once_more_and_keeps_interior_ones():
    a, b = Value(1.5), Value(-2.0)
    h = (a * b).tanh()
    out = h * a + b
    out.backward()
    first = (a.grad, b.grad, h.grad, out.grad)
    out.backward()

    at = torch.tensor(1.5, requires_grad=True)
    bt = torch.tensor(-2.0, requires_grad=True)
    outt = (at * bt).tanh() * at + bt
    outt.backward(retain_graph=True)
    outt.backward()  # torch accumulates into leaves the same way
    assert (a.grad, b.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-15)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-12)
    assert (h.grad, out.grad) == first[2:]  # interior: the gradient of this backward, not a sum


def test_gradients_of_two_roots_sum_in_the_shared_leaves():
    a = Value(2.0)
    h = a * a
    (h + 1).backward()
    (h * 3).backward()
    assert a.grad == 4.0 + 12.0  # d(h+1)/da + d(3h)/da
    assert h.grad == 3.0  # the latest backward's d(3h)/dh


def test_build_topo_lists_every_node_once_each_after_its_inputs():
    """viz.trace, a separate walk over the same graph, is the reference for which nodes there are."""
    from micrograd.viz import trace

    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    d += d * 2 + (b + a).relu() + Value.sum([a, a, c, d])
    g = (c - d) ** 2 / 2.0 + (a * a).log()
    topo = g._build_topo()
    names, _ = trace(g)
    assert len(topo) == len(set(topo)) == len(names) and set(topo) == set(names)
    position = {v: i for i, v in enumerate(topo)}
    assert all(position[child] < position[v] for v in topo for child in v._prev)
    assert topo[-1] is g
    assert g._build_topo() == topo  # a second walk over the same nodes: their marks from the first do not matter


def test_backward_of_a_leaf():
    a = Value(5.0)
    a.backward()
    assert a.grad == 1.0


def test_a_million_node_chain_backpropagates_without_recursion():
    x = Value(0.5)
    y = x
    for i in range(1_000_000):
        y = y.relu() if i % 2 else y * 1.000001
    y.backward()
    assert y.data == pytest.approx(0.5 * 1.000001**500_000, rel=1e-9)
    assert x.grad == pytest.approx(1.000001**500_000, rel=1e-9)


def test_the_graph_has_no_reference_cycles():
    """Reference counting alone frees a trained step's graph: the cyclic collector has nothing to do."""

    def count_values():
        return sum(type(o) is Value for o in gc.get_objects())

    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = count_values()
        w = [Value(0.1 * i) for i in range(5)]
        loss = sum((wi * wi).tanh() + wi.exp().log() / 2 for wi in w)
        loss.backward()
        assert count_values() > before + 20
        del loss
        assert count_values() == before + 5  # only the leaves we still hold
    finally:
        if was_enabled:
            gc.enable()


def test_manual_backward_node_by_node_like_the_lecture():
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, n._prev[0], n._prev[1], n._prev[0]._prev[0], n._prev[0]._prev[1]):
        node._backward()
    manual = (x1.grad, x2.grad, w1.grad, w2.grad)
    for v in (x1, x2, w1, w2, b):
        v.grad = 0.0
    o.backward()
    assert manual == (x1.grad, x2.grad, w1.grad, w2.grad)
    assert w1.grad == pytest.approx(1.0, abs=1e-6)  # the lecture's numbers
    assert x1.grad == pytest.approx(-1.5, abs=1e-6)


# ---- numbers, stability and errors ---------------------------------------------------------------


@pytest.mark.parametrize("x", [-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
def test_sigmoid_is_stable_for_large_inputs(x):
    v = Value(x)
    s = v.sigmoid()
    s.backward()
    t = torch.tensor(x, requires_grad=True)
    st_ = torch.sigmoid(t)
    st_.backward()
    assert s.data == pytest.approx(st_.item(), rel=1e-12, abs=1e-300)
    assert v.grad == pytest.approx(t.grad.item(), rel=1e-9, abs=1e-300)


def test_data_and_numbers_on_either_side():
    import numpy as np

    a = Value(np.float64(2.0))
    assert type(a.data) is float
    assert (3 - a).data == 1.0 and (a - 3).data == -1.0
    assert (3 / a).data == 1.5 and (a / 4).data == 0.5
    assert (2 * a).data == 4.0 and (2 + a).data == 4.0
    assert Value(3).data == 3.0


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: Value(0.0).log(), ValueError, "log: .*positive.*0.0"),
        (lambda: Value(-2.0).log(), ValueError, "log: .*positive.*-2.0"),
        (lambda: Value(1.0) / Value(0.0), ValueError, "division by zero"),
        (lambda: Value(1.0) / 0, ValueError, "division by zero"),
        (lambda: 1.0 / Value(0.0), ValueError, "division by zero"),
        (lambda: Value(0.0) ** -1, ValueError, "pow: 0 to a negative power"),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, "pow: a negative base"),
        (lambda: Value(2.0) ** Value(3.0), TypeError, "pow: the exponent must be a plain number, got Value"),
        (lambda: Value(1e200) ** 2, OverflowError, "pow: .*overflows"),
        (lambda: Value(1000.0).exp(), OverflowError, "exp: .*overflows"),
        (lambda: Value("3"), TypeError, "real number, got '3'"),
        (lambda: Value(1.0) + "a", TypeError, "real number"),
        (lambda: Value(1j), TypeError, "real number"),
    ],
)
def test_invalid_math_is_a_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_infinite_pow_derivative_at_zero_is_a_clear_error():
    x = Value(0.0)
    y = x**0.5
    assert y.data == 0.0
    with pytest.raises(ValueError, match=r"derivative of x \*\* 0.5 at x = 0"):
        y.backward()
    z = Value(0.0)
    (z**0).backward()  # a constant: derivative 0, not 0 * 0 ** -1
    assert z.grad == 0.0


def test_repr():
    assert repr(Value(2.0, label="a")) == "Value(data=2, grad=0, label='a')"
