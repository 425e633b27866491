"""What every tokenizer shares: the merge table, encoding and decoding, special tokens, save and load.

A tokenizer is a list of merges over bytes. Token ids 0..255 are the single bytes (in `byte_ids`
order: GPT-2 and GPT-4 permute them), and merge number i, the pair (a, b), makes token 256 + i.
Encoding a chunk of text applies the earliest-learned merge present, again and again.
"""

import unicodedata
from collections import Counter
from collections.abc import Hashable
from pathlib import Path

import regex

from minbpe.training import learn_merges

FORMAT = "minbpe v1"  # the first line of every .model file
CACHE_MAX_CHUNK = 256  # bytes: chunks up to this length (words, mostly) have their encoding cached
CACHE_MAX_ENTRIES = 1 << 18


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of `pair` in `ids` by `new_id`, left to right, without overlap."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def render_token(token: bytes) -> str:
    """A token for people to read: control characters escaped, bytes that are not UTF-8 shown as \\xNN."""
    out = []
    for c in token.decode("utf-8", errors="surrogateescape"):  # bad bytes become U+DC80..U+DCFF
        if "\udc80" <= c <= "\udcff":
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c == "\\":
            out.append("\\\\")
        elif c != " " and unicodedata.category(c)[0] in "CZ":  # control, format, space separators
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD (and split surrogate pairs joined), as tiktoken does.

    A Python str may hold lone surrogates, which have no UTF-8 encoding.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def special_token_regex(tokens) -> regex.Pattern:
    """Matches any of `tokens`; the longest first where one is a prefix of another."""
    alternatives = "|".join(regex.escape(t) for t in sorted(tokens, key=lambda t: (-len(t), t)))
    return regex.compile(f"({alternatives})")


class Tokenizer:
    """Base class: subclasses say how text is cut into chunks (`_split`); merges never cross chunks."""

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
        self._cache: dict[bytes, tuple[int, ...]] = {}

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
            if not isinstance(token_id, int) or token_id < self.size:
                raise ValueError(
                    f"special token {text!r} has id {token_id!r}, which collides with a byte or a merge; "
                    f"use an id >= {self.size}"
                )
        ids = Counter(merged.values())
        if duplicates := sorted(i for i, n in ids.items() if n > 1):
            raise ValueError(f"special token ids must be distinct; {duplicates} used more than once")
        self.special_tokens = merged
        self._rebuild()

    # ---- training ------------------------------------------------------------------------------

    def _split(self, text: str) -> list[str]:
        raise NotImplementedError

    def train(self, text: str, vocab_size: int, verbose: bool = False) -> None:
        """Learn merges on `text` until the vocabulary (bytes + merges) has `vocab_size` tokens.

        Training continues from the merges already learned (none for a new tokenizer).
        """
        if not isinstance(vocab_size, int) or vocab_size < 256:
            raise ValueError(f"vocab_size must be an int >= 256 (the single bytes), got {vocab_size!r}")
        if vocab_size <= self.size:
            raise ValueError(f"vocab_size {vocab_size} is not above the current size {self.size}: nothing to learn")
        if clashes := sorted(i for i in self.special_tokens.values() if self.size <= i < vocab_size):
            raise ValueError(f"special token ids {clashes} collide with the merges to learn (ids < {vocab_size})")
        chunks = Counter(self._split(valid_unicode(text)))
        chunk_ids = Counter()
        for chunk, n in chunks.items():
            chunk_ids[tuple(self._encode_chunk(chunk.encode("utf-8")))] += n
        for pair, new_id, count in learn_merges(chunk_ids, self.size, vocab_size - self.size):
            self.merges[pair] = new_id
            if verbose:
                left, right = self.vocab[pair[0]], self.vocab[pair[1]]
                self.vocab[new_id] = left + right
                print(f"merge {new_id - 255}: {pair} -> {new_id} [{render_token(left + right)}] x{count}")
        self._rebuild()

    # ---- encoding ------------------------------------------------------------------------------

    def _encode_chunk(self, chunk: bytes) -> tuple[int, ...]:
        """The token ids of one chunk: apply the earliest-learned merge present until none is."""
        cached = self._cache.get(chunk)
        if cached is not None:
            return cached
        merges, ids = self.merges, [self.byte_ids[b] for b in chunk]
        while len(ids) >= 2:
            # The pair that was merged first during training (the lowest new id) goes first.
            pair = min(zip(ids[:-1], ids[1:], strict=True), key=lambda p: merges.get(p, 1 << 62))
            if pair not in merges:
                break
            ids = merge(ids, pair, merges[pair])
        ids = tuple(ids)
        if len(chunk) <= CACHE_MAX_CHUNK and len(self._cache) < CACHE_MAX_ENTRIES:
            self._cache[chunk] = ids
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of `text`; special tokens in it are treated as ordinary text."""
        ids = []
        for chunk in self._split(valid_unicode(text)):
            ids.extend(self._encode_chunk(chunk.encode("utf-8")))
        return ids

    def encode(self, text: str, *, allowed_special=frozenset(), disallowed_special="all") -> list[int]:
        """Token ids of `text`, with tiktoken's rules for special tokens.

        allowed_special: "all" or a set of special tokens to encode as their own id.
        disallowed_special: "all" (every special token not allowed) or a set of strings: text that
            contains one raises ValueError, so a control token cannot be injected through user text.
            () encodes them as ordinary text.
        """
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

    # ---- decoding ------------------------------------------------------------------------------

    def decode_bytes(self, ids) -> bytes:
        """The bytes of the tokens `ids`, concatenated."""
        ids = list(ids)
        try:
            return b"".join([self.vocab[i] for i in ids])
        except (KeyError, TypeError):  # TypeError: an unhashable id
            bad = next(i for i in ids if not isinstance(i, Hashable) or i not in self.vocab)
            raise ValueError(f"token id {bad!r} is not in the vocabulary ({len(self.vocab)} tokens)") from None

    def decode(self, ids) -> str:
        """The text of the tokens `ids`; bytes that are not valid UTF-8 become U+FFFD, as in tiktoken."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # ---- save and load -------------------------------------------------------------------------

    def save(self, prefix) -> None:
        """Write `prefix.model` (read by `load`) and `prefix.vocab` (for people: every token rendered)."""
        lines = [FORMAT, f"pattern {_quote(self.pattern)}", "bytes " + " ".join(map(str, self.byte_ids))]
        lines.append(f"merges {len(self.merges)}")
        lines += [f"{a} {b}" for a, b in self.merges]  # merge i makes token 256 + i
        lines.append(f"special {len(self.special_tokens)}")
        lines += [f"{token_id} {_quote(text)}" for text, token_id in self.special_tokens.items()]
        _write_atomic(Path(f"{prefix}.model"), "\n".join(lines) + "\n")

        vocab = [f"[{render_token(bytes([b]))}] {token_id}" for b, token_id in enumerate(self.byte_ids)]
        for (a, b), new_id in self.merges.items():
            parts = [render_token(self.vocab[i]) for i in (a, b, new_id)]
            vocab.append("[{}][{}] -> [{}] {}".format(*parts, new_id))
        vocab += [f"[{render_token(t.encode())}] {i} special" for t, i in self.special_tokens.items()]
        _write_atomic(Path(f"{prefix}.vocab"), "\n".join(vocab) + "\n")

    def load(self, path):
        """Read a `.model` file written by `save` into this tokenizer; returns self.

        Any problem (missing, truncated, corrupt, other format version) is a ValueError naming the file and line.
        """
        merges, special, byte_ids, pattern = _read_model(Path(path))
        if pattern and not self.accepts_pattern:
            raise ValueError(f"{path}:2: model has a split pattern; load it with RegexTokenizer")
        if not pattern and self.accepts_pattern:
            raise ValueError(f"{path}:2: model has no split pattern; load it with BasicTokenizer")
        self.merges, self.special_tokens, self.byte_ids = merges, special, byte_ids
        if pattern:
            self._set_pattern(pattern)
        self._rebuild()
        return self


def _string_set(value) -> frozenset:
    if isinstance(value, str):  # a lone string would otherwise become a set of characters
        raise ValueError(f'expected "all" or a set of strings, got {value!r}')
    return frozenset(value)


def _quote(text: str) -> str:
    """`text` on one line: backslash, newline and carriage return escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unquote(text: str) -> str:
    return regex.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), text)


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)


def _read_model(path: Path):
    """Parse a .model file: (merges, special tokens, byte ids, pattern); ValueError with file:line on any problem."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"{path}: cannot read tokenizer model: {e.strerror or e}") from None
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    position = 0  # lines consumed so far; the line being read is number `position`

    def fail(problem: str):
        raise ValueError(f"{path}:{position}: {problem}")

    def next_line(what: str) -> str:
        nonlocal position
        if position >= len(lines):
            position += 1
            fail(f"file ends early: expected {what} (truncated file?)")
        position += 1
        try:
            return lines[position - 1].decode("utf-8")
        except UnicodeDecodeError:
            fail("not UTF-8 text")

    def keyword_line(keyword: str) -> str:
        line = next_line(f"the '{keyword}' line")
        if not line.startswith(keyword + " "):
            fail(f"expected '{keyword} ...', got {line[:40]!r}")
        return line[len(keyword) + 1 :]

    def integers(text: str, count: int, what: str) -> list[int]:
        fields = text.split(" ")
        if len(fields) != count or not all(f.isdigit() and f.isascii() for f in fields):
            fail(f"expected {count} non-negative integer(s) ({what}), got {text[:60]!r}")
        return [int(f) for f in fields]

    header = next_line("the header")
    if header != FORMAT:
        if header.startswith("minbpe "):
            fail(f"unsupported format version {header!r}; this minbpe reads {FORMAT!r}")
        fail(f"not a minbpe model (first line is {header[:40]!r}, expected {FORMAT!r})")
    pattern = _unquote(keyword_line("pattern"))
    try:
        regex.compile(pattern)
    except regex.error as e:
        fail(f"invalid split pattern: {e}")
    byte_ids = integers(keyword_line("bytes"), 256, "the id of each byte")
    if sorted(byte_ids) != list(range(256)):
        fail("byte ids must be 0..255, each once")

    (num_merges,) = integers(keyword_line("merges"), 1, "number of merges")
    merges = {}
    for new_id in range(256, 256 + num_merges):
        a, b = integers(next_line(f"{num_merges} merges"), 2, "the two token ids of a merge")
        if a >= new_id or b >= new_id:
            fail(f"merge {a} {b} makes token {new_id} from a token that does not exist yet")
        if (a, b) in merges:
            fail(f"merge {a} {b} appears twice")
        merges[a, b] = new_id

    (num_special,) = integers(keyword_line("special"), 1, "number of special tokens")
    special = {}
    for _ in range(num_special):
        token_id, _, text = next_line(f"{num_special} special tokens").partition(" ")
        (token_id,) = integers(token_id, 1, "special token id")
        if not text:
            fail("special token text missing")
        if token_id < 256 + num_merges:
            fail(f"special token id {token_id} collides with a byte or a merge")
        if token_id in special.values() or _unquote(text) in special:
            fail(f"special token {text!r} or its id {token_id} appears twice")
        special[_unquote(text)] = token_id
    if position < len(lines):
        position += 1
        fail("unexpected content after the last special token")
    return merges, special, byte_ids, pattern
