"""Names as training data: words, a character vocabulary, context windows, a seeded split.

words = read_words("names")              # or any UTF-8 file, one word per line
vocab = Vocabulary.from_words(words)     # '.' = 0 marks both the start and the end of a word
splits = split_words(words, seed=42)     # {"train": [...], "val": [...], "test": [...]}, 80/10/10
x, y = context_windows(splits["train"], vocab, block_size=8)   # (N, 8), (N,)
"""

import random
from dataclasses import dataclass
from functools import cached_property

import torch

from zero_to_hero import UserError
from zero_to_hero.datasets import read_text

BOUNDARY = "."  # index 0: pads the context before a word and is the target after its last letter


def read_words(name: str) -> list[str]:
    """Non-empty, stripped lines of a data set name or a file path; '.' is reserved, so it is an error."""
    words = [line.strip() for line in read_text(name).splitlines()]
    words = [w for w in words if w]
    if not words:
        raise UserError(f"{name} holds no words; give a UTF-8 file with one word per line")
    for w in words:
        if BOUNDARY in w:
            raise UserError(f"{name}: the word {w!r} contains {BOUNDARY!r}, which marks word boundaries here")
    return words


@dataclass(frozen=True)
class Vocabulary:
    chars: str  # index i is chars[i]; chars[0] is the boundary '.'

    @classmethod
    def from_words(cls, words: list[str]) -> "Vocabulary":
        return cls(BOUNDARY + "".join(sorted(set("".join(words)))))

    def __len__(self) -> int:
        return len(self.chars)

    @cached_property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, word: str) -> list[int]:
        return [self.index[c] for c in word]

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


def split_words(words: list[str], seed: int, fractions=(0.8, 0.1)) -> dict[str, list[str]]:
    """Shuffle the words with `seed`, then cut 80/10/10: every context of a word lands in one split."""
    if len(words) < 3:
        raise UserError(f"need at least 3 words for a train/val/test split, got {len(words)}")
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    n = len(shuffled)
    n1 = min(max(int(fractions[0] * n), 1), n - 2)  # every split gets at least one word
    n2 = min(max(int((fractions[0] + fractions[1]) * n), n1 + 1), n - 1)
    return {"train": shuffled[:n1], "val": shuffled[n1:n2], "test": shuffled[n2:]}


def context_windows(words: list[str], vocab: Vocabulary, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (previous block_size characters, next character) pair: one per letter plus the end '.'."""
    xs, ys = [], []
    for word in words:
        context = [0] * block_size
        for target in vocab.encode(word) + [0]:
            xs.append(context)
            ys.append(target)
            context = context[1:] + [target]
    return torch.tensor(xs, dtype=torch.long), torch.tensor(ys, dtype=torch.long)  # (N, block_size), (N,)


def padded_sequences(words: list[str], vocab: Vocabulary, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole words for the dilated model: inputs (B, block_size - 1 + T) and targets (B, T), T = longest + 1.

    Inputs start with block_size '.' (the first context), then the word; output position t sees
    inputs t .. t + block_size - 1, exactly the context that context_windows gives target t.
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
