"""Neuron, Layer, MLP: the original micrograd's API, checked against the same network in PyTorch."""

import random

import pytest
import torch
from reference import torch_forward, torch_grads, torch_layers

from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron


def test_moons_mlp_has_337_parameters_in_the_original_order():
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    expected = [p for layer in model.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert all(p is q for p, q in zip(params, expected, strict=True))
    assert len({id(p) for p in params}) == 337
    assert [len(layer.neurons) for layer in model.layers] == [16, 16, 1]


def test_relu_hidden_layers_and_a_linear_last_layer():
    model = MLP(3, [4, 4, 1])
    assert [n.nonlin for layer in model.layers for n in layer.neurons] == ["relu"] * 8 + ["linear"]
    assert repr(model) == "MLP(Layer(3 -> 4, ReLU), Layer(4 -> 4, ReLU), Layer(4 -> 1, Linear))"
    assert repr(model.layers[0].neurons[0]) == "ReLUNeuron(3)"
    assert repr(Neuron(2, nonlin=False)) == "LinearNeuron(2)"
    assert repr(Neuron(2, nonlin="tanh")) == "TanhNeuron(2)"


def test_weights_come_from_pythons_random_so_seeding_reproduces_them():
    random.seed(42)
    a = [p.data for p in MLP(2, [3, 1]).parameters()]
    random.seed(42)
    b = [p.data for p in MLP(2, [3, 1]).parameters()]
    assert a == b
    assert all(-1 <= w <= 1 for w in a) and a[2] == 0.0  # first neuron: w0, w1, then bias 0


def test_mlp_forward_and_gradients_match_torch():
    random.seed(1)
    model = MLP(3, [5, 4, 1])
    X = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.1]]
    loss = sum((model(x) - t) ** 2 for x, t in zip(X, [1.0, -1.0, 0.5], strict=True))
    loss.backward()

    layers = torch_layers(model)
    Xt = torch.tensor(X, dtype=torch.float64)
    loss_t = ((torch_forward(layers, Xt) - torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)) ** 2).sum()
    loss_t.backward()
    assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
    assert [p.grad for p in model.parameters()] == pytest.approx(torch_grads(layers), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("nonlin, fn", [("tanh", torch.tanh), ("sigmoid", torch.sigmoid), ("relu", torch.relu)])
def test_neuron_nonlinearities_match_torch(nonlin, fn):
    random.seed(3)
    n = Neuron(2, nonlin=nonlin)
    out = n([Value(0.7), -0.4])
    out.backward()
    w = torch.tensor([w.data for w in n.w], requires_grad=True, dtype=torch.float64)
    fn(w @ torch.tensor([0.7, -0.4], dtype=torch.float64)).backward()
    assert [wi.grad for wi in n.w] == pytest.approx(w.grad.tolist(), rel=1e-12)


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [3, 1])
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert Module().parameters() == []


def test_a_single_neuron_layer_returns_a_value_and_bigger_ones_a_list():
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    assert len(Layer(2, 3)([1.0, 2.0])) == 3


def test_bad_input():
    with pytest.raises(ValueError, match=r"ReLUNeuron\(2\) takes 2 inputs, got 3"):
        Neuron(2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'; choose one of relu, tanh"):
        Neuron(2, nonlin="gelu")
