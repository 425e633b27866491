"""Each of our layers against its torch.nn counterpart, with copied weights: same outputs, same gradients."""

import pytest
import torch
from torch import nn

from wavenet.layers import BatchNorm1d, Embedding, FlattenConsecutive, Linear, Sequential, Tanh


def grads(*tensors):
    return [t.grad.clone() for t in tensors]


@pytest.mark.parametrize("shape", [(5, 7), (4, 3, 7)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    g = torch.Generator().manual_seed(0)
    ours = Linear(7, 6, bias=bias, generator=g)
    ref = nn.Linear(7, 6, bias=bias)
    with torch.no_grad():
        ref.weight.copy_(ours.weight.T)  # we store (fan_in, fan_out), torch stores (out, in)
        if bias:
            ours.bias.normal_(generator=g)
            ref.bias.copy_(ours.bias)
    x = torch.randn(*shape, generator=g)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    up = torch.randn(*shape[:-1], 6, generator=g)  # an arbitrary upstream gradient
    (ours(x1) * up).sum().backward()
    (ref(x2) * up).sum().backward()
    torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad.T)
    if bias:
        torch.testing.assert_close(ours.bias.grad, ref.bias.grad)
    assert len(ours.parameters()) == (2 if bias else 1)


def test_linear_init_keeps_unit_scale():
    layer = Linear(400, 300, generator=torch.Generator().manual_seed(0))
    assert layer.weight.std().item() == pytest.approx(400**-0.5, rel=0.02)  # N(0, 1/fan_in)
    out = layer(torch.randn(2000, 400, generator=torch.Generator().manual_seed(1)))
    assert out.std().item() == pytest.approx(1.0, rel=0.05)
    assert torch.all(layer.bias == 0)


def test_embedding_matches_torch():
    ours = Embedding(10, 4, generator=torch.Generator().manual_seed(0))
    ref = nn.Embedding(10, 4)
    with torch.no_grad():
        ref.weight.copy_(ours.weight)
    idx = torch.tensor([[1, 2, 2, 9], [0, 0, 3, 1]])
    up = torch.randn(2, 4, 4)
    (ours(idx) * up).sum().backward()
    (ref(idx) * up).sum().backward()
    torch.testing.assert_close(ours(idx), ref(idx))
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)  # repeated indices accumulate


def bn_pair(C, seed=0):
    g = torch.Generator().manual_seed(seed)
    ours, ref = BatchNorm1d(C), nn.BatchNorm1d(C)
    with torch.no_grad():
        ours.weight.copy_(torch.randn(C, generator=g))
        ours.bias.copy_(torch.randn(C, generator=g))
        ref.weight.copy_(ours.weight)
        ref.bias.copy_(ours.bias)
    return ours, ref


@pytest.mark.parametrize("shape", [(16, 5), (6, 4, 5)])
def test_batchnorm_training_matches_torch(shape):
    """(B, C) and (B, T, C): torch.nn.BatchNorm1d wants (B, C, T), so its input is transposed."""
    ours, ref = bn_pair(5)
    to_torch = (lambda t: t) if len(shape) == 2 else (lambda t: t.transpose(1, 2))
    g = torch.Generator().manual_seed(1)
    for _ in range(3):  # several steps move the running statistics
        x = torch.randn(*shape, generator=g) * 3 + 2
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        up = torch.randn(*shape, generator=g)
        for p in ours.parameters() + list(ref.parameters()):
            p.grad = None
        y1, y2 = ours(x1), to_torch(ref(to_torch(x2)))
        torch.testing.assert_close(y1, y2)
        (y1 * up).sum().backward()
        (y2 * up).sum().backward()
        torch.testing.assert_close(x1.grad, x2.grad)
        torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
        torch.testing.assert_close(ours.bias.grad, ref.bias.grad)
    torch.testing.assert_close(ours.running_mean, ref.running_mean)
    torch.testing.assert_close(ours.running_var, ref.running_var)
    ours.eval(), ref.eval()
    x = torch.randn(*shape, generator=g)
    torch.testing.assert_close(ours(x), to_torch(ref(to_torch(x))))


def test_batchnorm_statistics_are_over_batch_and_time():
    """Each channel's output has mean 0, variance 1 over dims (0, 1) together, not per time step."""
    bn = BatchNorm1d(3)
    x = torch.randn(8, 4, 3) + torch.arange(4.0)[None, :, None] * 5  # time steps with very different means
    y = bn(x).detach()
    torch.testing.assert_close(y.mean((0, 1)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var((0, 1), correction=0), torch.ones(3), atol=1e-3, rtol=0)
    assert y.mean(0).abs().max() > 1  # a per-position normalisation would have made these 0
    torch.testing.assert_close(bn.running_mean, 0.1 * x.mean((0, 1)))


def test_tanh_matches_torch():
    x = torch.randn(4, 5, requires_grad=True)
    y = Tanh()(x)
    y.sum().backward()
    torch.testing.assert_close(y, torch.tanh(x))
    torch.testing.assert_close(x.grad, 1 - torch.tanh(x) ** 2)


def test_flatten_consecutive_fuses_neighbours():
    x = torch.randn(2, 8, 3)
    y = FlattenConsecutive(2)(x)
    assert y.shape == (2, 4, 6)
    torch.testing.assert_close(y, torch.cat([x[:, 0::2], x[:, 1::2]], dim=-1))  # [x[2i], x[2i+1]]
    assert FlattenConsecutive(4)(x).shape == (2, 2, 12)
    last = FlattenConsecutive(2)(torch.randn(2, 2, 3))
    assert last.shape == (2, 6)  # one position left: the time axis goes away
    with pytest.raises(ValueError, match="divisible"):
        FlattenConsecutive(2)(torch.randn(2, 3, 3))


def test_sequential_collects_parameters_and_switches_mode():
    model = Sequential([Linear(3, 4, bias=False), BatchNorm1d(4), Tanh(), Linear(4, 2)])
    assert [tuple(p.shape) for p in model.parameters()] == [(3, 4), (4,), (4,), (4, 2), (2,)]
    assert [tuple(b.shape) for b in model.buffers()] == [(4,), (4,)]
    model.eval()
    assert not model.training and not model.layers[1].training
    before = model.layers[1].running_mean.clone()
    model(torch.randn(5, 3))
    torch.testing.assert_close(model.layers[1].running_mean, before)  # eval never moves running stats
    model.train()
    assert model.layers[1].training
    model(torch.randn(5, 3))
    assert not torch.equal(model.layers[1].running_mean, before)
