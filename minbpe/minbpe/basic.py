"""BasicTokenizer: the lecture's first tokenizer, byte-level BPE on the raw bytes of the text.

Training repeats three steps: count every adjacent pair of tokens (`get_stats`), take the most frequent pair,
and replace it everywhere by a new token (`merge`). Encoding repeats: of the adjacent pairs, take the one whose
merge was learned first, and merge it. Both loops are written out below in the lecture's words, with its
helpers from reference.py.

Which code runs: the fast path, by default. The lecture's loops look at the whole text again for every merge, so
their time grows with the text times the merges (bench.py: taylorswift to 512 tokens takes 18 times longer). So
`train` and `encode_ordinary` hand the same work to the fast modules (training.py, encoder.py), which give exactly
the same merges and ids: tests/test_training.py and tests/test_encoding.py check them against the loops below.
`reference=True` runs the loops below.

The text is a single chunk, so merges may cross spaces and punctuation ("e t" can become one token), which is
why GPT-2 split the text into words first (see regex_tokenizer.py).
"""

from minbpe import encoder, training
from minbpe.base import Tokenizer, check_training_text
from minbpe.reference import get_stats, merge


class BasicTokenizer(Tokenizer):
    def train(self, text: str, vocab_size: int, verbose: bool = False, *, reference: bool = False) -> None:
        """Learn merges on `text` until the vocabulary (bytes + merges) has `vocab_size` tokens.

        Training continues from the merges already learned (none for a new tokenizer).
        """
        check_training_text(text)
        num_merges = self._merges_to_learn(vocab_size)
        ids = self.encode_ordinary(text)  # the text's bytes (merged as far as any earlier training goes)
        if reference:
            steps = self._lecture_training(ids, num_merges)
        else:  # fast: training.py counts the pairs once, then only around each merge
            steps = training.learn_merges({tuple(ids): 1} if ids else {}, self.size, num_merges)
        self._add_merges(steps, verbose)

    def _lecture_training(self, ids: list[int], num_merges: int):
        """The lecture's training loop: yield `(pair, new_id, count)` for each merge."""
        for new_id in range(self.size, self.size + num_merges):
            stats = get_stats(ids)  # {(a, b): how often the pair occurs}
            if not stats:
                return  # a single token is left: nothing to merge
            pair = max(stats, key=stats.get)  # the most frequent pair; of equal ones, the first in the text
            ids = merge(ids, pair, new_id)
            yield pair, new_id, stats[pair]

    def encode_ordinary(self, text: str, *, reference: bool = False) -> list[int]:
        """Token ids of `text`; special tokens in it are treated as ordinary text."""
        ids = self.byte_tokens(text)
        if not reference:  # fast: encoder.py replays the merges, each over the whole text at C speed
            return encoder.replay_merges(ids, self.merges)
        # the lecture's loop: merge the pair that was learned first, until no pair is a merge
        while len(ids) >= 2:
            stats = get_stats(ids)
            pair = min(stats, key=lambda p: self.merges.get(p, float("inf")))
            if pair not in self.merges:
                break
            ids = merge(ids, pair, self.merges[pair])
        return ids


if __name__ == "__main__":
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 256 + 3, verbose=True)
    print(tokenizer.encode("aaabdaaabac"))  # [258, 100, 258, 97, 99], as on Wikipedia's BPE page
