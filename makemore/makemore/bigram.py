"""Lecture 2: the bigram model — first by counting, then the same model as a one-layer neural net.

Both predict the next character from the previous one only, so both are a (V, V) table of
probabilities. Counting finds the maximum-likelihood table directly; gradient descent on the
neural net's NLL approaches the same table (the L2 term plays the role of count smoothing).
"""

import torch
import torch.nn.functional as F
from torch import nn


def count_matrix(X: torch.Tensor, Y: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """counts[i, j] = how often character j follows character i; X (N, >=1) contexts, Y (N,) targets."""
    previous = X[:, -1]  # a bigram only looks at the last character of the context
    flat = torch.bincount(previous * vocab_size + Y, minlength=vocab_size * vocab_size)
    return flat.view(vocab_size, vocab_size)  # (V, V) int64


def count_probs(counts: torch.Tensor, smoothing: float = 1.0) -> torch.Tensor:
    """Row-normalised probabilities; `smoothing` fake counts keep unseen bigrams from having p = 0 (NLL = inf)."""
    P = counts.float() + smoothing
    return P / P.sum(dim=1, keepdim=True)  # (V, V), rows sum to 1


def nll(P: torch.Tensor, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Average negative log-likelihood of (X, Y) under the table P: the loss we want low."""
    return -P[X[:, -1], Y].log().mean().item()


class BigramCounts:
    """The counting model behind the same `logits(X)` interface as the neural nets."""

    def __init__(self, X: torch.Tensor, Y: torch.Tensor, vocab_size: int, smoothing: float = 1.0):
        self.counts = count_matrix(X, Y, vocab_size)
        self.P = count_probs(self.counts, smoothing)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return self.P.to(X.device)[X[:, -1]].log()  # (N, V) log-probabilities are valid logits


class NeuralBigram(nn.Module):
    """One linear layer on the one-hot previous character: logits = one_hot(x) @ W, W (V, V).

    exp(logits) plays the role of counts, softmax normalises them into probabilities.
    (one_hot(x) @ W just selects row x of W; we keep the matmul because it is the lecture's point.)
    """

    def __init__(self, vocab_size: int, generator: torch.Generator):
        super().__init__()
        self.vocab_size = vocab_size
        self.W = nn.Parameter(torch.randn(vocab_size, vocab_size, generator=generator))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        xenc = F.one_hot(X[:, -1], self.vocab_size).float()  # (N, V)
        return xenc @ self.W  # (N, V) logits


if __name__ == "__main__":
    from makemore.data import Vocab, build_windows, load_words

    words = load_words("names")
    vocab = Vocab.from_words(words)
    X, Y = build_windows(words, vocab, block_size=1)
    counts = count_matrix(X, Y, len(vocab))
    for smoothing in (0.0, 1.0):
        print(f"NLL over all {len(Y)} bigrams, smoothing {smoothing}: {nll(count_probs(counts, smoothing), X, Y):.4f}")
