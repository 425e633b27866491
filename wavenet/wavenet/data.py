"""Names as training data: words, a character vocabulary, a seeded split, context windows.

words = load_words("names")                      # or any UTF-8 file, one word per line
vocab = Vocab.from_words(words)                  # '.' = 0 marks both the start and the end of a word
train, val, test = split_words(words, seed=42)   # 80/10/10, by word
x, y = build_windows(train, vocab, block_size=8) # (N, 8), (N,)

load_words, Vocab, split_words and build_windows are the same code as makemore's data.py (each lecture
package stands alone); the tests of both packages pin the behaviour they share.
"""

import random
from dataclasses import dataclass
from functools import cached_property

import torch

from zero_to_hero import UserError
from zero_to_hero.datasets import read_text

BOUNDARY = "."  # one token marks both the start and the end of a word


def load_words(source: str = "names") -> list[str]:
    """The stripped, non-empty lines of a data set name or a file path. ('.' is refused by Vocab.from_words.)"""
    text = read_text(source)  # unknown name, missing file, not UTF-8: a UserError already
    if not text:
        raise UserError(f"{source} is empty; give a file with one item per line")
    words = [line.strip() for line in text.splitlines()]
    words = [w for w in words if w]
    if not words:
        raise UserError(f"{source} has no usable lines (only whitespace); give a file with one item per line")
    return words


@dataclass(frozen=True)
class Vocab:
    """Characters <-> integer ids. itos[0] is '.', the start/end token; the data's characters follow, sorted."""

    itos: tuple[str, ...]

    @classmethod
    def from_words(cls, words: list[str]) -> "Vocab":
        # '.' in the data would be indistinguishable from the end of a word, so it is refused here, where every
        # path to a vocabulary passes (a file, a data set, a list of words).
        for line_number, word in enumerate(words, start=1):
            if BOUNDARY in word:
                raise UserError(
                    f"item {line_number} ({word!r}) contains {BOUNDARY!r}, which marks start/end of a word; "
                    "remove it from the data"
                )
        return cls((BOUNDARY, *sorted(set("".join(words)))))

    @cached_property  # built once; a frozen dataclass still allows this cache
    def stoi(self) -> dict[str, int]:
        return {ch: i for i, ch in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        stoi = self.stoi
        unknown = sorted(set(text) - stoi.keys())
        if unknown:
            raise UserError(f"characters {''.join(unknown)!r} are not in the vocabulary")
        return [stoi[ch] for ch in text]

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in ids)


def split_words(
    words: list[str], seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[list[str], list[str], list[str]]:
    """Shuffle a copy of `words` with `seed` and cut it into (train, val, test) by word: every window of a word
    lands in one split, so no validation word is seen in training. The cuts are the lecture's, int(0.8 n) and
    int(0.9 n); each split gets at least one word however few there are (3 at least, else a UserError)."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    if len(words) < 3:
        raise UserError(f"need at least 3 words for a train/val/test split, got {len(words)}")
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    n = len(shuffled)
    n1 = min(max(int(fractions[0] * n), 1), n - 2)
    n2 = min(max(int((fractions[0] + fractions[1]) * n), n1 + 1), n - 1)
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]


def build_windows(words: list[str], vocab: Vocab, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (context, next character) pair: X (N, block_size) and Y (N,), int64.

    A word of length L gives L + 1 windows: the context starts as block_size '.' and the last
    target is '.', so the model learns both how words begin and where they end.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    X, Y = [], []
    for word in words:
        context = [0] * block_size
        for ix in vocab.encode(word) + [0]:
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X, dtype=torch.long).view(-1, block_size)  # view keeps (0, block_size) for no words
    return X, torch.tensor(Y, dtype=torch.long)


def padded_sequences(words: list[str], vocab: Vocab, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole words for the dilated model: inputs (B, block_size - 1 + T) and targets (B, T), T = longest + 1.

    Inputs start with block_size '.' (the first context), then the word; output position t sees
    inputs t .. t + block_size - 1, exactly the context that build_windows gives target t.
    Targets after a word's end '.' are -1, which cross_entropy ignores.
    """
    T = max(len(w) for w in words) + 1
    x = torch.zeros(len(words), block_size - 1 + T, dtype=torch.long)
    y = torch.full((len(words), T), -1, dtype=torch.long)
    for i, word in enumerate(words):
        ids = vocab.encode(word)
        x[i, block_size : block_size + len(ids)] = torch.tensor(ids, dtype=torch.long)
        y[i, : len(ids) + 1] = torch.tensor(ids + [0], dtype=torch.long)
    return x, y
