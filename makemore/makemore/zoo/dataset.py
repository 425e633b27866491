"""Words as whole sequences: '.' + word, padded, and the same shifted by one as targets.

    x = . e m m a . . .      (block_size ids: '.' starts the word, '.' pads)
    y = e m m a . -1 -1 -1   (the next character at every position; -1 = padding, ignored by the loss)

Vocabulary and block size (longest word + 1) come from the data; the test split is
min(1000, 10%) of the words (at least one), chosen by a seeded shuffle.
"""

import random
from dataclasses import dataclass

import torch

from makemore.data import Vocab
from zero_to_hero import UserError

IGNORE = -1  # target id for padding: F.cross_entropy(..., ignore_index=IGNORE) skips it
MAX_TENSOR_BYTES = 2**31  # X and Y of every word, padded to the longest: refuse beyond 2 GiB


@dataclass(frozen=True)
class SequenceData:
    vocab: Vocab
    block_size: int  # longest word + 1: every row holds '.' + a whole word, so a model sees all of it
    train_words: list[str]
    test_words: list[str]

    @classmethod
    def from_words(cls, words: list[str], seed: int) -> "SequenceData":
        if len(words) < 2:
            raise UserError(f"need at least 2 items (one to train on, one to test on), got {len(words)}")
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        block_size = len(words[longest]) + 1
        size = 2 * len(words) * block_size * 8  # X and Y, int64
        if size > MAX_TENSOR_BYTES:
            raise UserError(
                f"the longest item ({words[longest][:20]!r}...) is {len(words[longest]):,} characters: every "
                f"sequence is padded to it, and "
                f"the {len(words):,} items would take {size / 2**30:.1f} GiB. The zoo models short items (names, "
                "words): split or drop the long lines"
            )
        vocab = Vocab.from_words(words)
        shuffled = list(words)
        random.Random(seed).shuffle(shuffled)
        n_test = max(1, min(1000, len(words) // 10))
        return cls(vocab, block_size, shuffled[n_test:], shuffled[:n_test])

    def build_sequences(self, words: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """X, Y of shape (len(words), block_size), int64: one padded row per word (the lecture stages'
        build_windows makes one row per character instead)."""
        X = torch.zeros(len(words), self.block_size, dtype=torch.long)
        Y = torch.full((len(words), self.block_size), IGNORE, dtype=torch.long)
        for i, word in enumerate(words):
            if len(word) >= self.block_size:
                raise UserError(f"{word!r} is longer than the model's block size {self.block_size - 1}")
            ids = self.vocab.encode(word)
            X[i, 1 : len(ids) + 1] = torch.tensor(ids, dtype=torch.long)
            Y[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            Y[i, len(ids)] = 0  # the end of the word is a prediction too
        return X, Y

    def decode(self, ids: torch.Tensor) -> str:
        """The characters of a generated row, up to its first '.'."""
        ids = ids.tolist()
        return self.vocab.decode(ids[: ids.index(0)] if 0 in ids else ids)
