"""Names as training data: words, a character vocabulary, a seeded split, context windows.

words = load_words("names")                      # or any UTF-8 file, one word per line
vocab = Vocab.from_words(words)                  # '.' = 0 marks both the start and the end of a word
train, val, test = split_words(words, seed=42)   # 80/10/10, by word
x, y = build_windows(train, vocab, block_size=8) # (N, 8), (N,)
"""

import random
from dataclasses import dataclass
from functools import cached_property

import torch

from zero_to_hero import UserError
from zero_to_hero.datasets import read_text

BOUNDARY = "."  # index 0: pads the context before a word and is the target after its last letter


def load_words(source: str = "names") -> list[str]:
    """Non-empty, stripped lines of a data set name or a file path; '.' is reserved, so it is an error."""
    words = [line.strip() for line in read_text(source).splitlines()]
    words = [w for w in words if w]
    if not words:
        raise UserError(f"{source} holds no words; give a UTF-8 file with one word per line")
    for w in words:
        if BOUNDARY in w:
            raise UserError(f"{source}: the word {w!r} contains {BOUNDARY!r}, which marks word boundaries here")
    return words


@dataclass(frozen=True)
class Vocab:
    """Characters <-> integer ids. itos[0] is the boundary '.'; the data's characters follow, sorted."""

    itos: tuple[str, ...]

    @classmethod
    def from_words(cls, words: list[str]) -> "Vocab":
        return cls((BOUNDARY, *sorted(set("".join(words)))))

    def __len__(self) -> int:
        return len(self.itos)

    @cached_property
    def stoi(self) -> dict[str, int]:
        return {ch: i for i, ch in enumerate(self.itos)}

    def encode(self, word: str) -> list[int]:
        stoi = self.stoi
        unknown = sorted(set(word) - stoi.keys())
        if unknown:
            raise UserError(f"characters {''.join(unknown)!r} are not in the vocabulary")
        return [stoi[ch] for ch in word]

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in ids)


def split_words(
    words: list[str], seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[list[str], list[str], list[str]]:
    """Shuffle a copy of `words` with `seed` and cut it into (train, val, test) by word: every context of a
    word lands in one split. Each split gets at least one word, however few there are."""
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
    """Every (previous block_size characters, next character) pair: one per letter plus the end '.'."""
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    xs, ys = [], []
    for word in words:
        context = [0] * block_size
        for target in vocab.encode(word) + [0]:
            xs.append(context)
            ys.append(target)
            context = context[1:] + [target]
    x = torch.tensor(xs, dtype=torch.long).view(-1, block_size)  # (N, block_size); view keeps (0, block_size)
    return x, torch.tensor(ys, dtype=torch.long)  # (N,)


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
