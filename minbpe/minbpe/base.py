"""What every tokenizer shares: the vocabulary, special tokens, decoding, and the calls that save and load.

A tokenizer is a list of merges over bytes. Token ids 0..255 are the single bytes (in `byte_ids`
order: GPT-2 and GPT-4 permute them), and merge number i, the pair (a, b), makes token 256 + i.
How a tokenizer trains and encodes is its own file's subject: basic.py, regex_tokenizer.py.
"""

from collections import Counter
from collections.abc import Hashable

import regex

from minbpe import batch, fileformat
from minbpe.fileformat import render_token
from minbpe.reference import get_stats, merge  # noqa: F401  (the lecture's helpers, where the original keeps them)
from minbpe.unicode16 import valid_unicode


def special_token_regex(tokens) -> regex.Pattern:
    """Matches any of `tokens`; the longest first where one is a prefix of another."""
    alternatives = "|".join(regex.escape(t) for t in sorted(tokens, key=lambda t: (-len(t), t)))
    return regex.compile(f"({alternatives})")


def check_text(text) -> None:
    """TypeError unless `text` is a str: bytes, None or a list would fail later with a puzzling message."""
    if not isinstance(text, str):
        hint = " (decode bytes first: data.decode('utf-8'))" if isinstance(text, bytes | bytearray) else ""
        raise TypeError(f"text must be a str, got {type(text).__name__}{hint}")


def check_training_text(text) -> None:
    check_text(text)
    if not text:
        raise ValueError("the training text is empty: there is nothing to learn merges from")


class Tokenizer:
    """Base class: subclasses say how they train (`train`) and encode text without special tokens
    (`encode_ordinary`); this class does the rest."""

    pattern = ""  # the split pattern, saved with the model ("" = the text is one chunk)
    accepts_pattern = False  # whether load() takes a model with a split pattern

    def __init__(self):
        self.merges: dict[tuple[int, int], int] = {}  # (a, b) -> new id, in the order learned
        self.special_tokens: dict[str, int] = {}  # e.g. {"<|endoftext|>": 50256}
        self.byte_ids: list[int] = list(range(256))  # token id of each byte value
        self._rebuild()

    # ---- state ---------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        """Recompute the vocabulary (id -> bytes) after the merges or special tokens changed."""
        vocab = {token_id: bytes([b]) for b, token_id in enumerate(self.byte_ids)}
        for (a, b), new_id in self.merges.items():  # in order: a and b always exist already
            vocab[new_id] = vocab[a] + vocab[b]
        for text, token_id in self.special_tokens.items():
            vocab[token_id] = text.encode("utf-8")
        self.vocab = vocab

    @property
    def size(self) -> int:
        """Number of tokens learned or given: 256 bytes + merges (special tokens not counted)."""
        return 256 + len(self.merges)

    def register_special_tokens(self, special_tokens: dict[str, int]) -> None:
        """Add special tokens, e.g. {"<|endoftext|>": 100257}; their ids must be above every merge."""
        merged = {**self.special_tokens, **special_tokens}
        for text, token_id in special_tokens.items():
            if not isinstance(text, str) or not text:
                raise ValueError(f"special token {text!r}: must be a non-empty str")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError(
                    f"special token {text!r} is not encodable text ({e.reason} at position {e.start}); "
                    "special tokens must be valid Unicode"
                ) from None
            if isinstance(token_id, bool) or not isinstance(token_id, int) or token_id < self.size:
                raise ValueError(
                    f"special token {text!r} has id {token_id!r}, which collides with a byte or a merge; "
                    f"use an id >= {self.size}"
                )
        ids = Counter(merged.values())
        if duplicates := sorted(i for i, n in ids.items() if n > 1):
            raise ValueError(f"special token ids must be distinct; {duplicates} used more than once")
        self.special_tokens = merged
        self._rebuild()

    # ---- training: subclasses learn the merges, these check the request and record the result ---------

    def train(self, text: str, vocab_size: int, verbose: bool = False, *, reference: bool = False) -> None:
        """Learn merges on `text` until the vocabulary (bytes + merges) has `vocab_size` tokens.

        Training continues from the merges already learned (none for a new tokenizer).
        reference=True trains with the lecture's loop: the same merges, far slower.
        """
        raise NotImplementedError

    def _merges_to_learn(self, vocab_size: int) -> int:
        """How many merges `train(text, vocab_size)` learns; ValueError if that makes no sense."""
        if not isinstance(vocab_size, int) or vocab_size < 256:
            raise ValueError(f"vocab_size must be an int >= 256 (the single bytes), got {vocab_size!r}")
        if vocab_size <= self.size:
            raise ValueError(f"vocab_size {vocab_size} is not above the current size {self.size}: nothing to learn")
        if clashes := sorted(i for i in self.special_tokens.values() if self.size <= i < vocab_size):
            raise ValueError(f"special token ids {clashes} collide with the merges to learn (ids < {vocab_size})")
        return vocab_size - self.size

    def _add_merges(self, steps, verbose: bool) -> None:
        """Record the `(pair, new_id, count)` steps of a training loop as merges."""
        for pair, new_id, count in steps:
            self.merges[pair] = new_id
            if verbose:
                left, right = self.vocab[pair[0]], self.vocab[pair[1]]
                self.vocab[new_id] = left + right
                print(f"merge {new_id - 255}: {pair} -> {new_id} [{render_token(left + right)}] x{count}")
        self._rebuild()

    # ---- encoding ------------------------------------------------------------------------------

    def byte_tokens(self, text: str) -> list[int]:
        """The token ids of the bytes of `text` (UTF-8; lone surrogates become U+FFFD, as in tiktoken)."""
        check_text(text)
        return [self.byte_ids[b] for b in valid_unicode(text).encode("utf-8")]

    def encode_ordinary(self, text: str, *, reference: bool = False) -> list[int]:
        """Token ids of `text`; special tokens in it are treated as ordinary text.

        reference=True encodes with the lecture's loop: the same ids, far slower.
        """
        raise NotImplementedError

    def encode(self, text: str, allowed_special=frozenset(), *, disallowed_special="all") -> list[int]:
        """Token ids of `text`, with tiktoken's rules for special tokens.

        allowed_special: "all" or a set of special tokens to encode as their own id. The original minbpe's
            names work too: "none_raise" (no special tokens; text containing one raises, as by default)
            and "none" (special tokens in the text are ordinary text).
        disallowed_special: "all" (every special token not allowed) or a set of strings: text that
            contains one raises ValueError, so a control token cannot be injected through user text.
            () encodes them as ordinary text.
        """
        check_text(text)
        if allowed_special == "none":  # the original's: special tokens are plain text
            allowed_special, disallowed_special = frozenset(), frozenset()
        elif allowed_special == "none_raise":  # the original's default, and ours: a special token raises
            allowed_special = frozenset()
        allowed = set(self.special_tokens) if allowed_special == "all" else set(_string_set(allowed_special))
        if disallowed_special == "all":
            disallowed = set(self.special_tokens) - allowed
        else:
            disallowed = set(_string_set(disallowed_special))
        if disallowed and (found := special_token_regex(disallowed).search(text)):
            raise ValueError(
                f"text contains the special token {found.group()!r}, which is not allowed; pass "
                f"allowed_special={{{found.group()!r}}} to encode it as a special token, or "
                f"disallowed_special=() to encode it as ordinary text"
            )
        allowed &= set(self.special_tokens)  # like tiktoken, names that are not special tokens are ignored
        if not allowed:
            return self.encode_ordinary(text)
        ids = []
        # split() with a capturing group alternates: ordinary text, special token, ordinary text, ...
        for i, part in enumerate(special_token_regex(allowed).split(text)):
            if i % 2:
                ids.append(self.special_tokens[part])
            elif part:
                ids.extend(self.encode_ordinary(part))
        return ids

    def encode_ordinary_batch(self, texts, *, num_workers: int | None = None) -> list[list[int]]:
        """`[encode_ordinary(t) for t in texts]`, in worker processes when the texts are large.

        num_workers: processes to use; None picks one per CPU when the texts hold at least
        batch.PARALLEL_MIN_CHARS characters in all, and encodes here otherwise.
        """
        return batch.encode_all(self, "encode_ordinary", list(texts), {}, num_workers)

    def encode_batch(
        self, texts, *, allowed_special=frozenset(), disallowed_special="all", num_workers: int | None = None
    ) -> list[list[int]]:
        """`[encode(t, ...) for t in texts]`, in worker processes when the texts are large (see the above)."""
        options = dict(allowed_special=allowed_special, disallowed_special=disallowed_special)
        return batch.encode_all(self, "encode", list(texts), options, num_workers)

    # ---- decoding ------------------------------------------------------------------------------

    def decode_bytes(self, ids) -> bytes:
        """The bytes of the tokens `ids`, concatenated."""
        if isinstance(ids, str | bytes | int) or not hasattr(ids, "__iter__"):
            raise TypeError(f"ids must be a sequence of token ids, got {type(ids).__name__}")
        ids = list(ids)
        if not all(type(i) is int for i in ids):  # 1.0 and True would find token 1: only integers are ids
            wrong = [i for i in ids if isinstance(i, bool) or not hasattr(i, "__index__")]
            if wrong:
                bad = wrong[0]
                raise ValueError(
                    f"token id {bad!r} is not in the vocabulary (token ids are integers, got {type(bad).__name__})"
                )
            ids = [i.__index__() for i in ids]  # numpy and torch integers
        try:
            return b"".join([self.vocab[i] for i in ids])
        except (KeyError, TypeError):  # TypeError: an unhashable id
            bad = next(i for i in ids if not isinstance(i, Hashable) or i not in self.vocab)
            raise ValueError(f"token id {bad!r} is not in the vocabulary ({len(self.vocab)} tokens)") from None

    def decode(self, ids) -> str:
        """The text of the tokens `ids`; bytes that are not valid UTF-8 become U+FFFD, as in tiktoken."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # ---- save and load (the file format: fileformat.py) ----------------------------------------------

    def save(self, prefix, format: str = "v2") -> None:
        """Write `prefix.model` (read by `load`) and `prefix.vocab` (for people: every token rendered).

        format: "v2" (ours: any tokenizer) or "v1", the original minbpe's layout, which its `load` reads; a
        tokenizer that does not fit v1 (permuted bytes, a special token with a space...) is a ValueError that
        says why, and nothing is written (fileformat.py)."""
        model = fileformat.Model(self.merges, self.special_tokens, self.byte_ids, self.pattern)
        if format == "v1":
            fileformat.write_original_model(f"{prefix}.model", model)
        elif format == "v2":
            fileformat.write_model(f"{prefix}.model", model)
        else:
            raise ValueError(f'format must be "v2" (ours) or "v1" (the original minbpe\'s), got {format!r}')
        fileformat.write_vocab(f"{prefix}.vocab", model, self.vocab)

    def load(self, path):
        """Read a `.model` file written by `save` into this tokenizer; returns self.

        Any problem (missing, truncated, corrupt, other format version) is a ValueError naming the file and line.
        """
        model = fileformat.read_model(path)
        if model.pattern and not self.accepts_pattern:
            raise ValueError(f"{path}:2: model has a split pattern; load it with RegexTokenizer")
        if not model.pattern and self.accepts_pattern:
            raise ValueError(f"{path}:2: model has no split pattern; load it with BasicTokenizer")
        self.merges, self.special_tokens, self.byte_ids = model.merges, model.special_tokens, model.byte_ids
        if model.pattern:
            self._set_pattern(model.pattern)
        self._rebuild()
        return self


def _string_set(value) -> frozenset:
    if isinstance(value, str):  # a lone string would otherwise become a set of characters
        raise ValueError(f'expected "all" or a set of strings, got {value!r}')
    return frozenset(value)
