"""Lecture 4: our layers against torch.nn, Kaiming init, the deep BatchNorm MLP, diagnostics."""

import math

import pytest
import torch
import torch.nn.functional as F

from makemore.data import Vocab
from makemore.diagnostics import UpdateRatios, plot_diagnostics, snapshot
from makemore.layers import TANH_GAIN, BatchNorm1d, Linear, Tanh, bn_mlp
from makemore.sampling import sample_words
from makemore.training import sgd_step, train


@pytest.mark.parametrize("momentum", [0.1, 0.001])
def test_batchnorm_matches_torch_in_train_and_eval_mode(momentum):
    g = torch.Generator().manual_seed(0)
    ours, theirs = BatchNorm1d(6, momentum=momentum), torch.nn.BatchNorm1d(6, momentum=momentum)
    with torch.no_grad():  # the same non-trivial affine parameters in both
        gamma, beta = torch.randn(6, generator=g), torch.randn(6, generator=g)
        ours.gamma.copy_(gamma), ours.beta.copy_(beta)
        theirs.weight.copy_(gamma), theirs.bias.copy_(beta)
    for _ in range(3):  # training mode: batch statistics, running estimates updated
        x = (torch.randn(16, 6, generator=g) * 3 + 2).requires_grad_()
        x2 = x.detach().clone().requires_grad_()
        out, ref = ours(x), theirs(x2)
        assert torch.allclose(out, ref, atol=1e-6)
        upstream = torch.randn(16, 6, generator=g)
        (out * upstream).sum().backward()
        (ref * upstream).sum().backward()
        assert torch.allclose(x.grad, x2.grad, atol=1e-5)
    assert torch.allclose(ours.gamma.grad, theirs.weight.grad, atol=1e-5)
    assert torch.allclose(ours.beta.grad, theirs.bias.grad, atol=1e-5)
    assert torch.allclose(ours.running_mean, theirs.running_mean, atol=1e-6)
    assert torch.allclose(ours.running_var, theirs.running_var, atol=1e-6)  # unbiased, as torch
    ours.eval(), theirs.eval()
    x = torch.randn(5, 6, generator=g)
    assert torch.allclose(ours(x), theirs(x), atol=1e-6)
    assert torch.allclose(ours(x[:1]), theirs(x[:1]), atol=1e-6)  # eval mode works on one example


def test_batchnorm_needs_two_examples_in_training_mode():
    with pytest.raises(ValueError, match="at least 2"):
        BatchNorm1d(3)(torch.randn(1, 3))


def test_linear_kaiming_init_and_forward():
    g = torch.Generator().manual_seed(0)
    layer = Linear(400, 300, g, gain=TANH_GAIN)
    assert layer.weight.std().item() == pytest.approx(TANH_GAIN / math.sqrt(400), rel=0.02)
    x = torch.randn(8, 400, generator=g)
    with torch.no_grad():
        layer.bias.normal_(generator=g)
    assert torch.allclose(layer(x), x @ layer.weight + layer.bias)
    assert Linear(4, 3, g, bias=False).bias is None


def test_tanh_keeps_its_output():
    layer = Tanh()
    x = torch.randn(4, 3)
    assert torch.equal(layer(x), torch.tanh(x)) and torch.equal(layer.out, torch.tanh(x))


def make_model(seed=0):
    return bn_mlp(vocab_size=27, block_size=3, generator=torch.Generator().manual_seed(seed), n_hidden=32, n_layers=3)


def test_bn_mlp_shapes_parameters_and_initial_loss():
    model = make_model()
    X = torch.randint(0, 27, (64, 3), generator=torch.Generator().manual_seed(1))
    Y = torch.randint(0, 27, (64,), generator=torch.Generator().manual_seed(2))
    logits = model(X)
    assert logits.shape == (64, 27)
    # embedding 27*10, Linear 30*32 + 2 * 32*32 + 32*27 (no biases), BatchNorm 2 * (3*32 + 27)
    assert sum(p.numel() for p in model.parameters()) == 270 + 960 + 2048 + 864 + 2 * (96 + 27)
    # gamma 0.1 on the last BatchNorm: the model starts close to uniform, loss close to ln 27
    assert F.cross_entropy(logits, Y).item() == pytest.approx(math.log(27), abs=0.05)
    # tanh gain keeps the hidden layers from saturating at init (lecture: a few %)
    snap = snapshot(model, X, Y)
    for _, t in snap["activations"]:
        assert (t.abs() > 0.97).float().mean().item() < 0.10
        assert 0.5 < t.std().item() < 0.9


def test_sampling_in_eval_mode_leaves_running_statistics_alone():
    model = make_model()
    X = torch.randint(0, 27, (256, 3), generator=torch.Generator().manual_seed(1))
    Y = torch.randint(0, 27, (256,), generator=torch.Generator().manual_seed(2))
    train(sgd_step(model), X, Y, steps=20, batch_size=32, lr_at=lambda i: 0.1, generator=torch.Generator())
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    vocab = Vocab(tuple(".abcdefghijklmnopqrstuvwxyz"))
    words = sample_words(model, vocab, 3, 5, torch.Generator().manual_seed(0), max_length=20)
    assert len(words) == 5
    snapshot(model, X[:32], Y[:32])  # the diagnostics look without touching, too
    assert not model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_diagnostics_record_ratios_and_write_plots(tmp_path):
    model = make_model()
    X = torch.randint(0, 27, (256, 3), generator=torch.Generator().manual_seed(1))
    Y = torch.randint(0, 27, (256,), generator=torch.Generator().manual_seed(2))
    ratios = UpdateRatios(every=5)
    train(sgd_step(model, on_update=ratios), X, Y, steps=20, batch_size=32, lr_at=lambda i: 0.1, generator=None)
    assert ratios.steps == [0, 5, 10, 15]
    assert len(ratios.names) == 4  # the four Linear weight matrices
    assert all(len(row) == 4 for row in ratios.ratios)
    assert all(-6 < r < 0 for row in ratios.ratios for r in row)
    names = plot_diagnostics(snapshot(model, X[:32], Y[:32]), ratios, tmp_path)
    assert names == ["activations.png", "activation_grads.png", "weight_grads.png", "update_ratios.png"]
    for name in names:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(p.grad is None for p in model.parameters())  # the snapshot cleaned up after itself


def test_update_ratio_value():
    model = make_model()
    for p in model.parameters():
        p.grad = 2 * p.detach()  # std(lr * grad) / std(p) = 2 * lr exactly
    ratios = UpdateRatios(every=1)
    ratios(model, 0.05)
    assert ratios.ratios[0] == pytest.approx([math.log10(0.1)] * 4, abs=1e-6)
