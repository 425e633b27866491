"""RegexTokenizer: split the text with a regex first (words, numbers, punctuation, whitespace), then
byte-level BPE inside each piece. This is GPT-2's and GPT-4's design: merges never cross a piece, so
" dog." and " dog!" both start with the token " dog", and no token spends itself on "dog.".

In the lecture's words: training counts the pairs of every piece into one table (`get_stats(ids, counts)`) and
merges the most frequent everywhere; encoding encodes each piece on its own, as BasicTokenizer encodes its text.
`reference=True` runs the lecture's loops (reference.py). By default the same work goes to the fast modules,
for the same reason as in basic.py: training.py (each distinct piece once, with its count) and encoder.py (each
distinct piece encoded once and cached). The tests check that both give the same merges and ids.

GPT2/GPT4/GPT4O_SPLIT_PATTERN are tiktoken's, character for character (a test checks): GPT2Tokenizer,
GPT4Tokenizer and GPT4oTokenizer use them, for parity with tiktoken. MINBPE_GPT4_SPLIT_PATTERN is the original
minbpe's GPT-4 pattern (karpathy/minbpe, regex.py), and RegexTokenizer's default, as in the lecture: it is
tiktoken's cl100k pattern as it was when minbpe was written, without the later `\\s++$` alternative, so the
two split differently only where text ends in whitespace after a newline ("a\\n  " -> "a", "\\n", "  " here;
"a", "\\n  " in tiktoken's). All of them see characters as tiktoken's engine does (unicode16.py).
"""

import re
from collections import Counter

import regex
import tiktoken

import minbpe.reference  # the lecture's loops (`minbpe.reference`: the argument `reference` hides the short name)
from minbpe import training, unicode16
from minbpe.base import Tokenizer, check_text, check_training_text
from minbpe.encoder import PieceEncoder
from minbpe.ranks import ranks_from_merges

# GPT-2: contractions, words, numbers, punctuation, each with at most one leading space; then whitespace.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
# GPT-4: case-insensitive contractions, numbers in groups of at most 3 digits, newlines kept apart.
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)
# The original minbpe's GPT-4 pattern (karpathy/minbpe, regex.py): the RegexTokenizer default, as in the lecture.
MINBPE_GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
)
# GPT-4o: words split at case changes (camelCase -> camel Case), contractions glued to their word.
GPT4O_SPLIT_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# The members of each Unicode class these patterns use, among the ASCII characters.
PROPERTY = regex.compile(r"\\p\{(\w+)\}")  # \p{L}, \p{Lu}, ...
ASCII_MEMBERS = {"L": "a-zA-Z", "Lu": "A-Z", "Ll": "a-z", "Lt": "", "Lm": "", "Lo": "", "M": "", "N": "0-9"}


def ascii_version(pattern: str) -> re.Pattern | None:
    """`pattern` for text that is all ASCII, compiled by the standard library's `re`.

    `re` splits English text 2-3 times faster than `regex`, but it has no \\p{...} classes; on ASCII text
    each is just its ASCII members. `re.ASCII` makes \\s the same six whitespace characters. Used for
    the three patterns above only, each checked against `regex` and tiktoken by the tests.
    """

    def members(match) -> str:
        return ASCII_MEMBERS[match[1]]

    def as_class(match) -> str:  # a class on its own: its members in brackets, or nothing at all
        return f"[{members(match)}]" if members(match) else "(?!)"

    inside = regex.sub(r"\[[^\]]*\]", lambda m: PROPERTY.sub(members, m[0]), pattern)  # in a [...]
    outside = PROPERTY.sub(as_class, inside)
    try:
        return re.compile(outside, re.ASCII)
    except re.error:  # Python 3.10: `re` has no possessive quantifiers; `regex` then splits everything
        return None


ASCII_SPLITS = {
    p: ascii_version(p)
    for p in (GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, GPT4O_SPLIT_PATTERN, MINBPE_GPT4_SPLIT_PATTERN)
}


class RegexTokenizer(Tokenizer):
    accepts_pattern = True

    def __init__(self, pattern: str | None = None):
        """pattern: the split regex (`regex` module syntax); by default the original minbpe's GPT-4 pattern
        (MINBPE_GPT4_SPLIT_PATTERN), as in the lecture; GPT4_SPLIT_PATTERN is tiktoken's current one."""
        super().__init__()
        self._set_pattern(MINBPE_GPT4_SPLIT_PATTERN if pattern is None else pattern)

    def _set_pattern(self, pattern: str) -> None:
        if not pattern:
            raise ValueError("the split pattern is empty; use BasicTokenizer for no split at all")
        try:
            self._compiled = regex.compile(pattern)
        except regex.error as e:
            raise ValueError(f"invalid split pattern {pattern!r}: {e}") from None
        self.pattern = pattern
        self._ascii_split = ASCII_SPLITS.get(pattern)

    def _rebuild(self) -> None:
        super()._rebuild()
        self._encoder = PieceEncoder(self.merges, self.byte_ids)  # a new, empty cache for the new merges

    def split(self, text: str) -> list[str]:
        """The pieces of `text` that the pattern matches; merges never cross from one to the next."""
        check_text(text)
        text = unicode16.valid_unicode(text)
        if self._ascii_split is not None and text.isascii():  # the fast path for English text
            return self._ascii_split.findall(text)
        return unicode16.split(self._compiled, text)

    def train(self, text: str, vocab_size: int, verbose: bool = False, *, reference: bool = False) -> None:
        """Learn merges on `text` until the vocabulary (bytes + merges) has `vocab_size` tokens.

        Training continues from the merges already learned (none for a new tokenizer).
        """
        check_training_text(text)
        num_merges = self._merges_to_learn(vocab_size)
        pieces = self.split(text)
        encode_piece = self._encoder.encode_piece  # its bytes, merged as far as any earlier training goes
        if reference:  # the lecture's loop: after every merge, count every pair of every piece again
            chunks = [list(encode_piece(piece)) for piece in pieces]
            steps = minbpe.reference.learn_merges(chunks, self.size, num_merges)
        else:  # fast: each distinct piece once, with its count
            chunks = Counter()
            for piece, count in Counter(pieces).items():
                chunks[encode_piece(piece)] += count
            steps = training.learn_merges(chunks, self.size, num_merges)
        self._add_merges(steps, verbose)

    def encode_ordinary(self, text: str, *, reference: bool = False) -> list[int]:
        """Token ids of `text`; special tokens in it are treated as ordinary text."""
        pieces = self.split(text)
        if reference:  # the lecture's loop on each piece, from its bytes
            chunks = [minbpe.reference.encode_chunk(self.byte_tokens(piece), self.merges) for piece in pieces]
            return [i for ids in chunks for i in ids]
        return self._encoder.encode(pieces)  # fast: each distinct piece encoded once, then looked up

    def to_tiktoken(self, name: str = "minbpe") -> tiktoken.Encoding:
        """This tokenizer as a `tiktoken.Encoding` that encodes identically, at tiktoken's speed.

        Raises ValueError when tiktoken's byte-level algorithm cannot reproduce the merges (see ranks.py).
        """
        ranks = ranks_from_merges(self.vocab, self.merges)
        return tiktoken.Encoding(
            name=name, pat_str=self.pattern, mergeable_ranks=ranks, special_tokens=dict(self.special_tokens)
        )


if __name__ == "__main__":
    tokenizer = RegexTokenizer()
    text = "hello hello world, hello world!"
    tokenizer.train(text, 256 + 8, verbose=True)
    ids = tokenizer.encode(text)
    print(ids, [tokenizer.decode([i]) for i in ids])
    print(tokenizer.to_tiktoken().encode(text) == ids)
