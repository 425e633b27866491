"""The dilated convolution form computes what the hierarchical model computes, at every position at once."""

import pytest
import torch
from torch import nn

from wavenet.data import build_windows, padded_sequences
from wavenet.dilated import DilatedPairs, DilatedWaveNet
from wavenet.layers import BatchNorm1d, Linear
from wavenet.model import Config, hierarchical
from wavenet.training import evaluate, get_batch, loss_of, make_split, train


def trained_hierarchical(words, vocab, block_size, steps=150):
    """A model with moved weights and running statistics, so the check covers all of them."""
    g = torch.Generator().manual_seed(0)
    model = hierarchical(Config(len(vocab), block_size, n_embd=10, n_hidden=16), generator=g)
    train(model, make_split(words, vocab, block_size, "hierarchical"), steps, 16, 0.1, g, block_size, log=None)
    return model.eval()


@pytest.mark.parametrize("block_size", [2, 8, 16])
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_same_outputs_as_hierarchical_at_every_position(words, vocab, block_size, dtype, tol):
    model = trained_hierarchical(words, vocab, block_size).to(dtype)
    norms = [layer for layer in model.layers if isinstance(layer, BatchNorm1d)]
    assert all(not torch.allclose(n.running_mean, torch.zeros_like(n.running_mean)) for n in norms)
    dilated = DilatedWaveNet.from_hierarchical(model)
    assert not dilated.training and dilated.block_size == block_size

    x, y = build_windows(words, vocab, block_size)  # one row per (context, position)
    xs, ys = padded_sequences(words, vocab, block_size)  # one row per word
    with torch.no_grad():
        expected = model(x)  # (N, V)
        got = dilated(xs)  # (words, T, V)
    assert got.shape == (len(words), ys.shape[1], len(vocab))
    torch.testing.assert_close(got[ys >= 0], expected, rtol=tol, atol=tol)  # same order: word by word, t by t
    assert torch.equal(ys[ys >= 0], y)


def test_same_loss_and_same_parameters(words, vocab):
    model = trained_hierarchical(words, vocab, 8)
    dilated = DilatedWaveNet.from_hierarchical(model)
    assert all(a is b for a, b in zip(model.parameters(), dilated.parameters(), strict=True))
    hier = evaluate(model, make_split(words, vocab, 8, "hierarchical"))
    assert evaluate(dilated, make_split(words, vocab, 8, "dilated"), chunk=7) == pytest.approx(hier, rel=1e-6)


def test_fresh_dilated_model_is_initialised_like_hierarchical():
    config = Config(vocab_size=7, n_embd=5, n_hidden=6)
    a = hierarchical(config, generator=torch.Generator().manual_seed(3))
    b = DilatedWaveNet(config, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert b.block_size == 8


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_dilated_pairs_then_linear_is_a_causal_conv1d(dilation):
    """[x[t - d], x[t]] @ W is torch's Conv1d with kernel 2 and dilation d (no padding)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 11, 4, generator=g)  # (B, T, C)
    linear = Linear(8, 5, generator=g)
    linear.bias.data.normal_(generator=g)
    conv = nn.Conv1d(4, 5, kernel_size=2, dilation=dilation)
    with torch.no_grad():
        conv.weight.copy_(torch.stack([linear.weight[:4].T, linear.weight[4:].T], dim=-1))  # (out, in, k)
        conv.bias.copy_(linear.bias)
    got = linear(DilatedPairs(dilation)(x))
    assert got.shape == (3, 11 - dilation, 5)
    torch.testing.assert_close(got, conv(x.transpose(1, 2)).transpose(1, 2))


def test_causal_a_later_character_never_changes_an_earlier_prediction(words, vocab):
    dilated = DilatedWaveNet.from_hierarchical(trained_hierarchical(words, vocab, 8, steps=20))
    xs, _ = padded_sequences(["olivia"], vocab, 8)
    changed = xs.clone()
    changed[0, 7 + 4] = vocab.encode("z")[0]  # the 4th letter (input index block_size - 1 + 4)
    a, b = dilated(xs), dilated(changed)
    torch.testing.assert_close(a[:, :4], b[:, :4])  # positions 0..3 predict letters 1..4 from before it
    assert not torch.allclose(a[:, 4:], b[:, 4:])


def test_training_ignores_padding(words, vocab):
    """Padding after a word changes neither the loss nor the gradients nor BatchNorm's running stats."""
    config = Config(len(vocab), 8, n_embd=10, n_hidden=16)
    x, y = padded_sequences(words[:6], vocab, 8)
    extra = 5
    x_long = torch.cat([x, torch.zeros(len(x), extra, dtype=torch.long)], 1)
    y_long = torch.cat([y, torch.full((len(y), extra), -1)], 1)
    runs = []
    for xi, yi in [(x, y), (x_long, y_long)]:
        model = DilatedWaveNet(config, generator=torch.Generator().manual_seed(0))
        loss = loss_of(model, xi, yi)
        loss.backward()
        runs.append((loss, [p.grad for p in model.parameters()], model.buffers()))
    (l1, g1, b1), (l2, g2, b2) = runs
    torch.testing.assert_close(l1, l2)
    for a, b in zip(g1 + b1, g2 + b2, strict=True):
        torch.testing.assert_close(a, b)


def test_training_statistics_count_only_real_positions(vocab):
    """One level-1 BatchNorm's running mean moves by 0.1 x the mean over the real positions alone."""
    config = Config(len(vocab), 2, n_embd=3, n_hidden=4)  # one level: embedding -> pairs -> linear -> BN
    model = DilatedWaveNet(config, generator=torch.Generator().manual_seed(0))
    x, y = padded_sequences(["ab", "abcdeh"], vocab, 2)
    model(x, y)
    emb, pairs, linear, norm = model.layers[:4]
    pre = linear(pairs(emb(x))).detach()  # (2, T, 4) before normalisation
    real = torch.cat([pre[0, :3], pre[1, :7]])  # "ab." and "abcdeh." : 3 and 7 predictions
    torch.testing.assert_close(norm.running_mean, 0.1 * real.mean(0))


def test_batches_are_cut_to_the_longest_word(words, vocab):
    split = make_split(words, vocab, 8, "dilated")
    x, y = get_batch(split, 4, torch.Generator().manual_seed(0), 8)
    T = y.shape[1]
    assert T == int((y >= 0).sum(1).max()) and x.shape == (4, 7 + T)


def test_dilated_training_learns(words, vocab):
    g = torch.Generator().manual_seed(0)
    model = DilatedWaveNet(Config(len(vocab), 8, n_embd=10, n_hidden=32), generator=g)
    split = make_split(words, vocab, 8, "dilated")
    before = evaluate(model, split)
    losses, tokens = train(model, split, 300, 8, 0.1, g, 8, log=None)
    assert 300 * 8 * 2 < tokens < 300 * 8 * 12  # every real character of 8 words a step, ~2..12 each
    assert evaluate(model, split) < before - 1.0  # 30 words: it memorises them


def test_calibration_counts_only_real_positions(vocab):
    from wavenet.training import calibrate_batchnorm

    model = DilatedWaveNet(Config(len(vocab), 2, n_embd=3, n_hidden=4), generator=torch.Generator().manual_seed(0))
    x, y = padded_sequences(["ab", "abcdeh"], vocab, 2)
    calibrate_batchnorm(model, make_split(["ab", "abcdeh"], vocab, 2, "dilated"))
    emb, pairs, linear, norm = model.layers[:4]
    pre = linear(pairs(emb(x))).detach()
    real = torch.cat([pre[0, :3], pre[1, :7]])
    torch.testing.assert_close(norm.running_mean, real.mean(0))
    torch.testing.assert_close(norm.running_var, real.var(0))
    assert model.training and norm.momentum == 0.1
