import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from wavenet.data import build_windows
from wavenet.model import Config, hierarchical
from zero_to_hero import UserError


def test_lecture_size():
    model = hierarchical(Config(vocab_size=27, block_size=8, n_embd=24, n_hidden=128))
    # 27*24 + (48*128 + 2*128) + 2 * (256*128 + 2*128) + (128*27 + 27)
    assert sum(p.numel() for p in model.parameters()) == 76_579
    assert model(torch.zeros(5, 8, dtype=torch.long)).shape == (5, 27)


@pytest.mark.parametrize("block_size, levels", [(2, 1), (4, 2), (16, 4)])
def test_any_power_of_two(block_size, levels):
    config = Config(vocab_size=5, block_size=block_size, n_embd=3, n_hidden=4)
    assert config.levels == levels
    assert hierarchical(config)(torch.zeros(2, block_size, dtype=torch.long)).shape == (2, 5)


@pytest.mark.parametrize("block_size", [0, 1, 3, 6, 12])
def test_block_size_must_be_a_power_of_two(block_size):
    with pytest.raises(UserError, match="power of two"):
        Config(block_size=block_size)


def test_first_loss_is_near_uniform():
    g = torch.Generator().manual_seed(0)
    model = hierarchical(Config(), generator=g)
    x = torch.randint(27, (512, 8), generator=g)
    loss = F.cross_entropy(model(x), torch.randint(27, (512,), generator=g))
    assert abs(loss.item() - math.log(27)) < 0.05  # the head starts 10x smaller: no confident mistakes


class TorchHierarchy(nn.Module):
    """The same model from torch.nn parts: the reference for the whole forward and backward pass."""

    def __init__(self, config):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.n_embd)
        widths = [config.n_embd] + [config.n_hidden] * config.levels
        self.linears = nn.ModuleList(nn.Linear(2 * w, config.n_hidden, bias=False) for w in widths[:-1])
        self.norms = nn.ModuleList(nn.BatchNorm1d(config.n_hidden) for _ in widths[:-1])
        self.head = nn.Linear(config.n_hidden, config.vocab_size)

    def forward(self, idx):
        x = self.embedding(idx)
        for linear, norm in zip(self.linears, self.norms, strict=True):
            B, T, C = x.shape
            x = linear(x.reshape(B, T // 2, 2 * C))
            x = torch.tanh(norm(x.transpose(1, 2)).transpose(1, 2))
        return self.head(x.squeeze(1))


def copy_into_torch(ours, ref):
    layers = ours.layers
    linears = [lay for lay in layers[1:-1] if type(lay).__name__ == "Linear"]
    norms = [lay for lay in layers if type(lay).__name__ == "BatchNorm1d"]
    with torch.no_grad():
        ref.embedding.weight.copy_(layers[0].weight)
        for a, b in zip(linears, ref.linears, strict=True):
            b.weight.copy_(a.weight.T)
        for a, b in zip(norms, ref.norms, strict=True):
            b.weight.copy_(a.weight), b.bias.copy_(a.bias)
        ref.head.weight.copy_(layers[-1].weight.T)
        ref.head.bias.copy_(layers[-1].bias)
    return linears, norms


def test_whole_model_matches_torch_nn(words, vocab):
    config = Config(vocab_size=len(vocab))
    ours, ref = hierarchical(config, generator=torch.Generator().manual_seed(0)), TorchHierarchy(config)
    linears, norms = copy_into_torch(ours, ref)
    x, y = build_windows(words, vocab, config.block_size)
    l1, l2 = F.cross_entropy(ours(x), y), F.cross_entropy(ref(x), y)
    l1.backward(), l2.backward()
    torch.testing.assert_close(l1, l2)
    torch.testing.assert_close(ours.layers[0].weight.grad, ref.embedding.weight.grad)
    for a, b in zip(linears, ref.linears, strict=True):
        torch.testing.assert_close(a.weight.grad, b.weight.grad.T)
    for a, b in zip(norms, ref.norms, strict=True):
        torch.testing.assert_close(a.weight.grad, b.weight.grad)
        torch.testing.assert_close(a.running_var, b.running_var)
    torch.testing.assert_close(ours.layers[-1].weight.grad, ref.head.weight.grad.T)
    ours.eval(), ref.eval()
    torch.testing.assert_close(ours(x), ref(x))


def test_calibration_sets_exact_training_set_statistics(words, vocab):
    from wavenet.layers import BatchNorm1d
    from wavenet.training import calibrate_batchnorm, evaluate, make_split, train

    g = torch.Generator().manual_seed(0)
    model = hierarchical(Config(len(vocab), 8, n_embd=6, n_hidden=16), generator=g)
    split = make_split(words, vocab, 8, "hierarchical")
    train(model, split, 100, 8, 0.1, g, 8, log=None)
    model.eval()
    calibrate_batchnorm(model, split)
    assert not model.training
    h, level = split.x, 0
    with torch.no_grad():
        for layer in model.layers:  # every level's input statistics, given the calibrated levels below it
            if isinstance(layer, BatchNorm1d):
                # the first level exactly; above it, the pass normalised lower levels with the biased
                # variance and evaluation uses the unbiased one: a relative n/(n-1) apart (n ~ 10^3 here)
                dims, n = tuple(range(h.ndim - 1)), h.numel() // h.shape[-1]  # (B, T, C), and (B, C) at the top
                tol = 1e-5 if level == 0 else 2 / n
                assert layer.momentum == 0.1
                torch.testing.assert_close(layer.running_mean, h.mean(dims), rtol=tol, atol=tol)
                torch.testing.assert_close(layer.running_var, h.var(dims), rtol=tol, atol=tol)
                level += 1
            h = layer(h)
    before = evaluate(model, split)
    calibrate_batchnorm(model, split)  # a fixed point: calibrating again changes nothing
    assert evaluate(model, split) == pytest.approx(before, rel=1e-4)


def test_flat_is_lecture_5s_mlp():
    from wavenet.model import flat

    # the lecture's performance log: 3 characters -> 12K parameters, 8 characters -> 22K (n_embd 10, n_hidden 200)
    for block_size, n_params in [(3, 12_097), (8, 22_097)]:
        model = flat(Config(27, block_size, n_embd=10, n_hidden=200, model="flat"))
        assert sum(p.numel() for p in model.parameters()) == n_params
        assert model(torch.zeros(4, block_size, dtype=torch.long)).shape == (4, 27)
    # one Linear over the whole context: the same as concatenating the embeddings by hand
    g = torch.Generator().manual_seed(0)
    model = flat(Config(7, 5, n_embd=3, n_hidden=6, model="flat"), generator=g)
    x = torch.randint(7, (10, 5), generator=g)
    emb, _, linear = model.layers[:3]
    by_hand = torch.cat([emb.weight[x[:, i]] for i in range(5)], dim=1) @ linear.weight
    torch.testing.assert_close(model.layers[2](model.layers[1](model.layers[0](x))), by_hand)


@pytest.mark.parametrize("block_size", [1, 3, 5, 6, 8])
def test_flat_takes_any_block_size(block_size):
    from wavenet.model import build_model

    model = build_model("flat", Config(vocab_size=5, block_size=block_size, n_embd=3, n_hidden=4, model="flat"))
    assert model(torch.zeros(2, block_size, dtype=torch.long)).shape == (2, 5)


@pytest.mark.parametrize("model", ["hierarchical", "dilated"])
def test_tree_models_name_flat_for_other_block_sizes(model):
    with pytest.raises(UserError, match=f"power of two .* for the {model} model, got 3; --model flat takes any"):
        Config(block_size=3, model=model)
    with pytest.raises(UserError, match="at least 1"):
        Config(block_size=0, model="flat")
    with pytest.raises(UserError, match="unknown model"):
        Config(model="transformer")
