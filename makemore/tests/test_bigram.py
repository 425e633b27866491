"""Lecture 2: the count matrix, smoothing, NLL, sampling, and the neural bigram matching the counts."""

import math
from collections import Counter

import pytest
import torch

from makemore.bigram import BigramCounts, NeuralBigram, count_matrix, count_probs, nll
from makemore.data import Vocab, build_windows
from makemore.sampling import sample_words
from makemore.training import evaluate, sgd_step, train

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]


def bigrams(words):
    vocab = Vocab.from_words(words)
    X, Y = build_windows(words, vocab, block_size=1)
    return vocab, X, Y


def test_count_matrix_matches_naive_counting():
    vocab, X, Y = bigrams(WORDS)
    naive = Counter((a, b) for w in WORDS for a, b in zip("." + w, w + ".", strict=True))
    counts = count_matrix(X, Y, len(vocab))
    for i, a in enumerate(vocab.itos):
        for j, b in enumerate(vocab.itos):
            assert counts[i, j].item() == naive[(a, b)]
    assert counts.sum().item() == sum(len(w) + 1 for w in WORDS)


def test_nll_matches_naive_log_likelihood():
    vocab, X, Y = bigrams(WORDS)
    counts = count_matrix(X, Y, len(vocab))
    for smoothing in (0.0, 1.0):
        P = count_probs(counts, smoothing)
        assert torch.allclose(P.sum(1), torch.ones(len(vocab)))
        total, n = 0.0, 0
        for w in WORDS:
            for a, b in zip("." + w, w + ".", strict=True):
                i, j = vocab.stoi[a], vocab.stoi[b]
                row = counts[i].double() + smoothing
                total += -math.log(row[j].item() / row.sum().item())
                n += 1
        assert nll(P, X, Y) == pytest.approx(total / n, rel=1e-6)


def test_smoothing_keeps_unseen_bigrams_finite():
    vocab, X, Y = bigrams(["ab"])
    unseen_X, unseen_Y = torch.tensor([[vocab.stoi["b"]]]), torch.tensor([vocab.stoi["a"]])  # "ba" never occurs
    counts = count_matrix(X, Y, len(vocab))
    assert nll(count_probs(counts, 0.0), unseen_X, unseen_Y) == math.inf
    assert math.isfinite(nll(count_probs(counts, 1.0), unseen_X, unseen_Y))


def test_sampling_is_seeded_and_follows_the_table():
    vocab, X, Y = bigrams(["abc"])  # without smoothing every transition is certain
    model = BigramCounts(X, Y, len(vocab), smoothing=0.0)
    assert sample_words(model, vocab, 1, 5, torch.Generator().manual_seed(0)) == ["abc"] * 5
    vocab, X, Y = bigrams(WORDS)
    model = BigramCounts(X, Y, len(vocab))
    first = sample_words(model, vocab, 1, 10, torch.Generator().manual_seed(7))
    assert first == sample_words(model, vocab, 1, 10, torch.Generator().manual_seed(7))
    assert first != sample_words(model, vocab, 1, 10, torch.Generator().manual_seed(8))
    assert all(set(w) <= set(vocab.itos[1:]) for w in first)


def test_one_hot_times_w_selects_rows():
    model = NeuralBigram(5, torch.Generator().manual_seed(0))
    X = torch.tensor([[3], [0], [4]])
    assert torch.allclose(model(X), model.W[X[:, 0]])


def test_neural_bigram_learns_the_counting_model():
    vocab, X, Y = bigrams(WORDS)
    model = NeuralBigram(len(vocab), torch.Generator().manual_seed(0))
    start = evaluate(model, X, Y)
    g = torch.Generator().manual_seed(0)
    train(sgd_step(model), X, Y, steps=300, batch_size=0, lr_at=lambda i: 10.0, generator=g)
    mle = BigramCounts(X, Y, len(vocab), smoothing=0.0)  # the maximum-likelihood table
    assert start > 3.0
    assert evaluate(mle, X, Y) <= evaluate(model, X, Y) < evaluate(mle, X, Y) + 0.03
