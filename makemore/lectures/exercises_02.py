# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lecture 2 exercises — beyond the bigram
#
# The five exercises from the video's description, with the code left for you. Fill in each function whose body
# is `raise NotImplementedError  # YOUR CODE`, then run `python lectures/exercises_02.py` (or the notebook's
# cells): the last cell checks each one and says *not done*, *wrong* (with the first thing that is off, and a hint)
# or *right*. The walkthrough `lectures/02_bigram.py` has everything you need.
#
# The trigram model predicts a character from the *two* before it. As in lecture 3's windows, a name is padded with
# two '.' at the start: "emma" gives the contexts '..' → e, '.e' → m, 'em' → m, 'mm' → a, 'ma' → '.'.

# %%
import math
from itertools import pairwise  # noqa: F401 (for your solutions)

import torch
import torch.nn.functional as F

from makemore import bigram
from makemore.data import Vocab, build_windows, load_words, split_words
from zero_to_hero.lectures import Exercises

torch.set_num_threads(1)
words = load_words("names")
vocab = Vocab.from_words(words)
stoi, itos = vocab.stoi, vocab.itos  # '.' = 0, 'a' = 1, ..., 'z' = 26, as in the lecture

# %% [markdown]
# ## E01: a trigram model
#
# Build a trigram language model: `P3[i, j, k]` is the probability that character `k` follows the two characters
# `i, j`. Count (with some smoothing), or train a neural net and tabulate its probabilities for all 27 × 27
# contexts. Trained and scored on all the words, as the lecture scores its bigram model, it must beat the bigram
# (2.4546 with +1 smoothing).


# %%
def trigram_probs(words: list[str]) -> torch.Tensor:
    """(27, 27, 27) float tensor; every row P3[i, j] sums to 1."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## E02: train, dev and test
#
# Scoring a model on the data it was fitted to says little about new names. Split the words at random into
# 80% train, 10% dev, 10% test (shuffle first: names.txt is sorted by popularity). Then fit the bigram and the
# trigram counting models with +1 smoothing on train only, and score both on dev and on test.


# %%
def split_80_10_10(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(train, dev, test): a random split of `words`, 80/10/10."""
    raise NotImplementedError  # YOUR CODE


def dev_and_test_losses(train: list[str], dev: list[str], test: list[str]) -> dict[str, tuple[float, float]]:
    """{"bigram": (dev loss, test loss), "trigram": (dev loss, test loss)}: +1 smoothing, fitted on train."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## E03: choose the smoothing on dev
#
# +1 is an arbitrary amount of fake counts. Try many (they span orders of magnitude: sweep on a log scale), fit the
# trigram counts on `train` with each, and return the one with the lowest loss on `dev`. Then look at the test
# loss once, for the strength you chose.


# %%
def best_smoothing(train: list[str], dev: list[str]) -> float:
    """The fake count added to every trigram count that gives the lowest dev loss."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## E04: index instead of one-hot
#
# A neural trigram: one-hot encode both context characters, concatenate them (54 inputs) and multiply by `W`
# (54, 27). A one-hot vector times `W` only selects a row of `W`. Compute the same logits without `F.one_hot`
# (and without building one-hot vectors by hand), by indexing rows of `W`.


# %%
def trigram_logits(W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Logits (n, 27) for contexts X (n, 2) of character ids: equal to cat(one_hot(X[:, 0]), one_hot(X[:, 1])) @ W."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## E05: F.cross_entropy
#
# The lecture computes the loss by hand: exponentiate the logits, normalize the rows, pick each target's
# probability, average the negative logs. Do it with `F.cross_entropy` instead; the check also feeds it large
# logits, where the hand-written version breaks (think about why).


# %%
def nll_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The average negative log likelihood of `targets` (n,) under softmax(`logits` (n, 27))."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Check
#
# Each check compares your answer with a reference computed here, independently (`makemore.bigram` for the bigram,
# `build_windows` with two characters of context for the trigram).

# %%
X2, Y2 = build_windows(words, vocab, block_size=2)


def say(text: str) -> None:
    print(f"  {text}")


def context(i: int, j: int) -> str:
    return f"'{itos[i]}{itos[j]}'"


def trigram_counts(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    return torch.bincount(X[:, 0] * 729 + X[:, 1] * 27 + Y, minlength=27**3).view(27, 27, 27).double()


def smoothed(counts: torch.Tensor, smoothing: float) -> torch.Tensor:
    return (counts + smoothing) / (counts + smoothing).sum(2, keepdim=True)


def trigram_loss(P3: torch.Tensor, X: torch.Tensor, Y: torch.Tensor) -> float:
    return -P3[X[:, 0], X[:, 1], Y].log().mean().item()


SPLIT = split_words(words, seed=42)  # the package's split, for E02's losses and E03 (checked apart from your split)
TRAIN2, DEV2, TEST2 = (build_windows(part, vocab, block_size=2) for part in SPLIT)
TRAIN_COUNTS = trigram_counts(*TRAIN2)


def bigram_loss(train: list[str], words: list[str]) -> float:
    Xt, Yt = build_windows(train, vocab, block_size=1)
    X, Y = build_windows(words, vocab, block_size=1)
    return bigram.nll(bigram.count_probs(bigram.count_matrix(Xt, Yt, 27), smoothing=1.0), X, Y)


BIGRAM_LOSS = bigram_loss(words, words)  # E01's bar: the bigram (+1 smoothing) counted and scored on all the words


def check_e01() -> bool:
    P3 = trigram_probs(words)
    if not isinstance(P3, torch.Tensor) or P3.shape != (27, 27, 27):
        say(f"expected a (27, 27, 27) tensor, got {getattr(P3, 'shape', type(P3).__name__)}")
        return False
    P3 = P3.double()
    if (P3 < 0).any() or not torch.isfinite(P3).all():
        i, j, k = (~((P3 >= 0) & torch.isfinite(P3))).nonzero()[0].tolist()
        say(f"P3[{context(i, j)} -> '{itos[k]}'] is {P3[i, j, k].item()}: a probability is finite and >= 0")
        say("hint: a context never seen in the data has 0 counts; fake counts (smoothing) fix the 0 / 0")
        return False
    row_error = (P3.sum(2) - 1).abs()
    if row_error.max() > 1e-4:
        i, j = divmod(int(row_error.argmax()), 27)
        say(f"row P3[{context(i, j)}] sums to {P3[i, j].sum().item():.6f}, not 1")
        say("hint: normalize along the last dimension, keepdim=True (the broadcasting trap)")
        return False
    loss = trigram_loss(P3, X2, Y2)
    say(f"trigram loss on all the words {loss:.4f}; bigram (+1) {BIGRAM_LOSS:.4f}")
    if not loss < BIGRAM_LOSS:
        say("hint: index the table with the context X[:, 0], X[:, 1] and the target, from 2-character windows")
    return loss < BIGRAM_LOSS


def check_e02_split() -> bool:
    parts = split_80_10_10(list(words))
    if not (isinstance(parts, tuple | list) and len(parts) == 3):
        say("expected (train, dev, test)")
        return False
    train, dev, test = (list(p) for p in parts)
    expected = (int(0.8 * len(words)), len(words) - int(0.9 * len(words)))
    if abs(len(train) - expected[0]) > 1 or abs(len(test) - expected[1]) > 1:
        say(f"sizes {len(train)} / {len(dev)} / {len(test)}; 80/10/10 is about {expected[0]} / ... / {expected[1]}")
        return False
    if sorted(train + dev + test) != sorted(words):
        say("train + dev + test must hold every word exactly once")
        return False
    if train[:1000] == words[:1000]:
        say("train starts with the first names of the file: shuffle before you cut (the file is sorted)")
        return False
    return True


def check_e02_losses() -> float:
    train, dev, test = SPLIT
    ours = dev_and_test_losses(list(train), list(dev), list(test))
    trigram = smoothed(TRAIN_COUNTS, 1.0)
    reference = {
        "bigram": (bigram_loss(train, dev), bigram_loss(train, test)),
        "trigram": (trigram_loss(trigram, *DEV2), trigram_loss(trigram, *TEST2)),
    }
    worst = 0.0
    for model, losses in reference.items():
        say(f"{model}: dev {losses[0]:.4f}, test {losses[1]:.4f}")
        for split, value, theirs in zip(("dev", "test"), losses, ours[model], strict=True):
            if not abs(theirs - value) <= 1e-3:
                say(f"{model} on {split}: yours {theirs:.4f}, expected {value:.4f}")
                say("hint: count on train only; score with 1 + counts; the trigram pads with '..'")
                return abs(theirs - value) if math.isfinite(theirs) else math.inf
            worst = max(worst, abs(theirs - value))
    return worst


def check_e03() -> bool:
    alpha = float(best_smoothing(list(SPLIT[0]), list(SPLIT[1])))
    grid = torch.logspace(-4, 2, 61).tolist()  # 10^-4 .. 10^2, 10 points a decade
    dev_losses = [trigram_loss(smoothed(TRAIN_COUNTS, a), *DEV2) for a in grid]
    best = min(range(len(grid)), key=dev_losses.__getitem__)
    if not alpha > 0:
        say(f"smoothing {alpha}: it must be above 0, or unseen trigrams get probability 0 (dev loss inf)")
        return False
    ours = trigram_loss(smoothed(TRAIN_COUNTS, alpha), *DEV2)
    say(f"your smoothing {alpha:.4g}: dev {ours:.4f} (test {trigram_loss(smoothed(TRAIN_COUNTS, alpha), *TEST2):.4f})")
    plus_one = trigram_loss(smoothed(TRAIN_COUNTS, 1.0), *DEV2)
    say(f"best of a log-scale sweep: {grid[best]:.4g}, dev {dev_losses[best]:.4f}; +1 gives {plus_one:.4f}")
    if ours > dev_losses[best] + 1e-3:
        say("hint: sweep on a log scale (e.g. 10**k for k from -3 to 2) and keep the lowest dev loss")
    return ours <= dev_losses[best] + 1e-3


class UsedOneHot(Exception):
    pass


def check_e04() -> float:
    g = torch.Generator().manual_seed(4)
    W = torch.randn((54, 27), generator=g)
    X = X2[torch.randint(0, len(X2), (200,), generator=g)]
    expected = torch.cat([F.one_hot(X[:, 0], 27), F.one_hot(X[:, 1], 27)], 1).float() @ W
    one_hot = F.one_hot

    def refuse(*args, **kwargs):
        raise UsedOneHot

    F.one_hot = refuse  # for the duration of your function only
    try:
        ours = trigram_logits(W, X)
    except UsedOneHot:
        say("trigram_logits calls F.one_hot: index rows of W instead")
        return math.inf
    finally:
        F.one_hot = one_hot
    if not isinstance(ours, torch.Tensor) or ours.shape != expected.shape:
        say(f"expected shape {tuple(expected.shape)}, got {getattr(ours, 'shape', type(ours).__name__)}")
        return math.inf
    diff = (ours - expected).abs()
    if diff.max() > 1e-5:
        row, col = (diff > 1e-5).nonzero()[0].tolist()  # the first value that differs
        say(
            f"logits[{row}, {col}] for context {context(*X[row].tolist())}: yours {ours[row, col].item():.4f},"
            f" expected {expected[row, col].item():.4f}"
        )
        say("hint: the second one-hot starts at input 27, so its row of W is 27 + X[:, 1]")
    return diff.max().item()


def manual_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    counts = logits.double().exp()
    probs = counts / counts.sum(1, keepdim=True)
    return -probs[torch.arange(len(targets)), targets].log().mean()


def check_e05() -> float:
    g = torch.Generator().manual_seed(5)
    logits = torch.randn((100, 27), generator=g) * 3
    targets = torch.randint(0, 27, (100,), generator=g)
    worst = 0.0
    for shift in (0.0, 100.0):  # adding a constant to every logit leaves the softmax unchanged
        ours = nll_loss(logits + shift, targets)
        expected = manual_nll(logits, targets).item()
        value = float(ours)
        if not abs(value - expected) <= 1e-5:
            say(f"logits{f' + {shift:g}' if shift else ''}: yours {value:.6f}, expected {expected:.6f}")
            if shift:
                say("hint: exp(100) overflows float32; F.cross_entropy subtracts each row's max first")
            return abs(value - expected) if math.isfinite(value) else math.inf
        worst = max(worst, abs(value - expected))
    return worst


exercises = Exercises()
exercises.check("E01 trigram beats the bigram", check_e01)
exercises.check("E02 split 80/10/10", check_e02_split)
exercises.check("E02 dev and test losses", check_e02_losses, tol=1e-3)
exercises.check("E03 smoothing chosen on dev", check_e03)
exercises.check("E04 indexing instead of one-hot", check_e04, tol=1e-5)
exercises.check("E05 F.cross_entropy", check_e05, tol=1e-5)
exercises.summary()
