"""The shared training loop, learning-rate schedule and finder, evaluation, and lecture 3's MLP."""

import math

import pytest
import torch
import torch.nn.functional as F

from makemore.data import Vocab, build_windows
from makemore.mlp import MLP
from makemore.training import evaluate, find_lr, sgd_step, smooth, step_decay, train

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn"] * 5


def data(block_size=3):
    vocab = Vocab.from_words(WORDS)
    return vocab, *build_windows(WORDS, vocab, block_size)


def test_step_decay():
    lr_at = step_decay(0.1, 100)
    assert [lr_at(i) for i in (0, 74, 75, 99)] == pytest.approx([0.1, 0.1, 0.01, 0.01])


def test_mlp_parameter_count_and_initial_loss():
    # the lecture's model: 27 x 10 embedding, 3 characters of context, 200 hidden units
    model = MLP(27, 3, n_embd=10, n_hidden=200, generator=torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in model.parameters()) == 27 * 10 + 30 * 200 + 200 + 200 * 27 + 27 == 11897
    X = torch.randint(0, 27, (500, 3), generator=torch.Generator().manual_seed(1))
    Y = torch.randint(0, 27, (500,), generator=torch.Generator().manual_seed(2))
    assert model(X).shape == (500, 27)
    assert evaluate(model, X, Y) == pytest.approx(math.log(27), abs=0.05)  # near-uniform start, not ~27


def run(seed, steps=200, log=None):
    vocab, X, Y = data()
    model = MLP(len(vocab), 3, n_embd=4, n_hidden=32, generator=torch.Generator().manual_seed(seed))
    losses = train(
        sgd_step(model),
        X,
        Y,
        steps=steps,
        batch_size=16,
        lr_at=step_decay(0.2, steps),
        generator=torch.Generator().manual_seed(seed),
        log_every=50 if log is not None else 0,
        log=log,
    )
    return model, losses, X, Y


def test_training_is_seeded_and_lowers_the_loss():
    lines = []
    model, losses, X, Y = run(0, log=lines.append)
    _, again, _, _ = run(0)
    _, other, _, _ = run(1)
    assert losses == again and losses != other
    assert len(losses) == 200
    assert evaluate(model, X, Y) < losses[0] - 0.5
    assert len(lines) == 5  # steps 1, 51, 101, 151 and the last
    assert all(k in lines[-1] for k in ("step     200/200", "loss", "lr 0.02", "ms/step", "examples/s", "ETA"))


def test_full_batch_uses_every_example():
    vocab, X, Y = data()
    seen = []

    def step(Xb, Yb, lr):
        seen.append(len(Xb))
        return 0.0

    train(step, X, Y, steps=3, batch_size=0, lr_at=lambda i: 1.0, generator=None)
    train(step, X, Y, steps=2, batch_size=10, lr_at=lambda i: 1.0, generator=torch.Generator())
    assert seen == [len(X)] * 3 + [10, 10]


def test_l2_penalty_is_added_to_the_loss():
    vocab, X, Y = data(block_size=1)
    model = MLP(len(vocab), 1, n_embd=2, n_hidden=4, generator=torch.Generator().manual_seed(0))
    expected = F.cross_entropy(model(X), Y) + 0.5 * sum((p**2).mean() for p in model.parameters() if p.dim() == 2)
    loss = sgd_step(model, l2=0.5)(X, Y, 0.0)  # lr 0: measures without changing the model
    assert loss == pytest.approx(expected.item(), rel=1e-6)


def test_evaluate_matches_cross_entropy_and_handles_empty_splits():
    logits = torch.randn(10, 5)
    Y = torch.randint(0, 5, (10,))
    assert evaluate(lambda X: logits, torch.zeros(10, 1), Y) == pytest.approx(F.cross_entropy(logits, Y).item())
    assert math.isnan(evaluate(lambda X: logits, torch.zeros(0, 1), Y[:0]))


def test_lr_finder_sweeps_exponentially_and_finds_the_blow_up():
    vocab, X, Y = data()

    def fresh():
        return sgd_step(MLP(len(vocab), 3, n_embd=4, n_hidden=32, generator=torch.Generator().manual_seed(0)))

    g = torch.Generator().manual_seed(0)
    lrs, losses = find_lr(fresh, X, Y, batch_size=32, generator=g, lr_max=100.0, steps=300)
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(100.0)
    assert lrs[1] / lrs[0] == pytest.approx(lrs[-1] / lrs[-2], rel=1e-4)
    curve = smooth(losses, 30)
    assert min(curve) < curve[0] - 0.3  # useful learning rates lower the loss...
    assert curve[-1] > min(curve) + 0.5  # ...and far too large ones blow it up


def test_smooth():
    assert smooth([1.0, 3.0, 5.0, 7.0, 9.0], 2) == [2.0, 6.0, 9.0]
