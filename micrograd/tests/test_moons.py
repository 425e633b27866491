"""The two-moons demo: the data generator, the SVM loss and SGD against the same steps in PyTorch."""

import gc
import random

import numpy as np
import pytest
import torch
from reference import torch_grads, torch_layers, torch_svm_loss

from micrograd.engine import Value
from micrograd.moons import cycle_collector_paused, make_moons, neuron_graph, sgd, svm_loss
from micrograd.nn import MLP, Neuron


def test_make_moons_shapes_labels_and_seeding():
    X, y = make_moons(101, noise=0.1, seed=7)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert sorted(set(y.tolist())) == [-1, 1] and (y == -1).sum() == 50 and (y == 1).sum() == 51
    X2, y2 = make_moons(101, noise=0.1, seed=7)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make_moons(101, noise=0.1, seed=8)[0])


def test_noiseless_moons_lie_on_their_half_circles():
    X, y = make_moons(40, noise=0.0, seed=0)
    upper, lower = X[y == -1], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0) and (lower[:, 1] <= 0.5 + 1e-12).all()


@pytest.mark.parametrize("kwargs", [{"n": 1}, {"n": 10.0}, {"noise": -0.1}, {"noise": float("nan")}])
def test_make_moons_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="make_moons needs"):
        make_moons(**kwargs)


def _small_problem(seed=0, n=20):
    random.seed(seed)
    model = MLP(2, [8, 8, 1])
    X, y = make_moons(n, noise=0.1, seed=seed)
    return model, X, y


def test_svm_loss_and_its_gradients_match_torch():
    model, X, y = _small_problem()
    loss, accuracy = svm_loss(model, X.tolist(), y.tolist())
    loss.backward()

    layers = torch_layers(model)
    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    loss_t = torch_svm_loss(layers, Xt, yt)
    loss_t.backward()
    assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
    assert [p.grad for p in model.parameters()] == pytest.approx(torch_grads(layers), rel=1e-9, abs=1e-12)
    from reference import torch_forward

    scores = torch_forward(layers, Xt).detach()
    assert accuracy == ((scores > 0) == (yt > 0)).double().mean().item()


def test_sgd_follows_the_same_loss_trajectory_as_torch():
    model, X, y = _small_problem(seed=1)
    layers = torch_layers(model)  # same initial weights
    ours = [loss for _, loss, _, _ in sgd(model, X, y, steps=8)]

    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    theirs = []
    for k in range(8):
        loss = torch_svm_loss(layers, Xt, yt)
        for W, b in layers:
            W.grad = b.grad = None
        loss.backward()
        theirs.append(loss.item())
        with torch.no_grad():
            for W, b in layers:
                W -= (1.0 - 0.9 * k / 8) * W.grad
                b -= (1.0 - 0.9 * k / 8) * b.grad
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)
    assert ours[-1] < ours[0]
    final = [p.data for p in model.parameters()]
    expected = [v for W, b in layers for j in range(W.shape[0]) for v in [*W[j].tolist(), b[j].item()]]
    assert final == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_sgd_yields_step_accuracy_and_the_decaying_learning_rate():
    model, X, y = _small_problem(seed=2)
    rows = list(sgd(model, X, y, steps=4))
    assert [k for k, *_ in rows] == [0, 1, 2, 3]
    assert [lr for *_, lr in rows] == pytest.approx([1.0, 0.775, 0.55, 0.325])
    assert all(0.0 <= acc <= 1.0 for _, _, acc, _ in rows)


def test_cycle_collector_is_paused_only_inside_and_restored():
    assert gc.isenabled()
    with cycle_collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collector_paused():
            pass
        assert not gc.isenabled()  # it was off before, so it stays off
    finally:
        gc.enable()
    with pytest.raises(KeyError), cycle_collector_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_neuron_graph_is_labelled_and_backpropagated():
    random.seed(0)
    n = Neuron(2)
    out = neuron_graph(n, [0.5, -1.0])
    assert out.label == "out" and out.grad == 1.0
    assert [w.label for w in n.w] + [n.b.label] == ["w1", "w2", "b"]
    act = n.b.data + n.w[0].data * 0.5 - n.w[1].data
    assert out.data == max(act, 0.0)
    assert n.w[1].grad == (-1.0 if act > 0 else 0.0)
    assert isinstance(out, Value)
