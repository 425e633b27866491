"""The shared training loop, learning-rate schedule and finder, evaluation, and lecture 3's MLP."""

import math

import pytest
import torch
import torch.nn.functional as F

from makemore.bigram import NeuralBigram
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
    assert lines[-1].startswith(f"step 200/200 | loss {losses[-1]:.4f} | lr 2.00e-02 | ")
    assert lines[-1].endswith(" examples/s | ETA 0s") and " ms/step | " in lines[-1]
    assert lines[0].startswith("step 1/200 | ")


def test_full_batch_uses_every_example():
    vocab, X, Y = data()
    seen = []

    def train_step(Xb, Yb, lr):
        seen.append(len(Xb))
        return 0.0

    train(train_step, X, Y, steps=3, batch_size=0, lr_at=lambda i: 1.0, generator=None)
    train(train_step, X, Y, steps=2, batch_size=10, lr_at=lambda i: 1.0, generator=torch.Generator())
    assert seen == [len(X)] * 3 + [10, 10]


def test_l2_penalty_value_by_hand():
    # A neural bigram whose weights are all 0.5: every logit is equal, so the cross-entropy is ln V whatever the
    # data, and the penalty is l2 * mean(0.5^2) = l2 / 4. With V = 4 and l2 = 0.2: ln 4 + 0.05.
    model = NeuralBigram(4, torch.Generator())
    with torch.no_grad():
        model.W.fill_(0.5)
    X, Y = torch.tensor([[0], [1], [3]]), torch.tensor([2, 0, 1])
    assert sgd_step(model, l2=0.2)(X, Y, 0.0) == pytest.approx(math.log(4) + 0.05, rel=1e-6)  # lr 0: no update
    assert sgd_step(model)(X, Y, 0.0) == pytest.approx(math.log(4), rel=1e-6)


def test_l2_step_equals_torch_sgd_with_weight_decay():
    # d/dp of l2 * mean(p^2) is 2 * l2 * p / p.numel(): torch's SGD with that weight_decay on each matrix (and none
    # on the biases) takes the same step from the cross-entropy gradient alone.
    vocab, X, Y = data(block_size=2)
    ours = MLP(len(vocab), 2, n_embd=3, n_hidden=8, generator=torch.Generator().manual_seed(0))
    reference = MLP(len(vocab), 2, n_embd=3, n_hidden=8, generator=torch.Generator().manual_seed(0))
    l2, lr = 0.5, 0.3
    groups = [
        {"params": [p], "weight_decay": 2 * l2 / p.numel() if p.dim() == 2 else 0.0} for p in reference.parameters()
    ]
    optimizer = torch.optim.SGD(groups, lr=lr)
    F.cross_entropy(reference(X), Y).backward()
    optimizer.step()
    sgd_step(ours, l2=l2)(X, Y, lr)
    decayed = 0
    for (name, p), q in zip(ours.named_parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-7, msg=name)
        decayed += p.dim() == 2
    assert decayed == 3  # C, W1 and W2 are penalised; b1 and b2 are not


def test_evaluate_is_the_mean_negative_log_likelihood_by_hand():
    # A hand-made "model": a table of logits looked up by the one context id. Row 0 gives the 3 characters equal
    # odds, row 1 has logits (ln 2, 0, 0), i.e. probabilities (2/4, 1/4, 1/4).
    table = torch.tensor([[0.0, 0.0, 0.0], [math.log(2), 0.0, 0.0]])
    X = torch.tensor([[0], [1], [1]])
    Y = torch.tensor([2, 0, 1])
    # -ln p of each target: ln 3, ln 2, ln 4; their mean is (ln 3 + ln 2 + ln 4) / 3 = ln(24) / 3
    assert evaluate(lambda X: table[X[:, 0]], X, Y) == pytest.approx(math.log(24) / 3, rel=1e-6)
    assert math.isnan(evaluate(lambda X: table[X[:, 0]], X[:0], Y[:0]))  # an empty split has no loss


def test_evaluate_equals_a_naive_per_example_loop():
    vocab, X, Y = data()
    model = MLP(len(vocab), 3, n_embd=4, n_hidden=16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        naive = []
        for x, y in zip(X, Y, strict=True):  # one example at a time: -log(exp(logit_y) / sum exp(logits))
            logits = model(x[None])[0].double()
            naive.append(-(logits[y] - logits.exp().sum().log()).item())
    assert evaluate(model, X, Y) == pytest.approx(sum(naive) / len(naive), rel=1e-5)


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
