"""What every tokenizer shares: the merge table, encoding and decoding, special tokens, save and load.

A tokenizer is a list of merges over bytes. Token ids 0..255 are the single bytes (in `byte_ids`
order: GPT-2 and GPT-4 permute them), and merge number i, the pair (a, b), makes token 256 + i.
Encoding a chunk of text applies the earliest-learned merge present, again and again.
"""

import heapq
import multiprocessing
import os
import unicodedata
from collections import Counter
from collections.abc import Hashable
from concurrent.futures import ProcessPoolExecutor
from itertools import chain, repeat
from pathlib import Path

import regex

from minbpe.reference import get_stats, merge  # noqa: F401  (the lecture's helpers, where the original keeps them)
from minbpe.reference import learn_merges as learn_merges_reference
from minbpe.training import learn_merges
from minbpe.unicode16 import valid_unicode
from zero_to_hero.files import atomic_path

FORMAT = "minbpe v2"  # the first line of every .model file we write
# Also read: "minbpe v1" files, both ours (before the original's layout was known to share the name) and the
# original minbpe's (raw pattern, special tokens, then merges to the end; bytes in their natural order).
OLD_FORMAT = "minbpe v1"
CACHE_MAX_PIECE = 256  # characters: pieces up to this length (words, mostly) keep their encoding cached
CACHE_MAX_ENTRIES = 1 << 18  # then the cache starts over, so it cannot grow without bound
HEAP_MIN_IDS = 48  # pieces at least this long are merged with the heap (merge_by_rank); shorter ones by scanning
NO_MERGE = 1 << 62  # the "rank" of a pair that is not a merge: above every real one
PARALLEL_MIN_CHARS = 1 << 20  # encode_*_batch uses processes when the texts hold at least this many characters


def merge_by_scan(ids: list[int], merges: dict[tuple[int, int], int]) -> list[int]:
    """Apply the merges to `ids` (in place), the earliest learned first: for short pieces.

    ranks[i] is the rank of the pair (ids[i], ids[i + 1]). Merge the leftmost pair of the lowest rank
    (min and index run at C speed), then look up only the two pairs the new token forms with its
    neighbours. A merged pair's new id is above every id that existed before it, so no pair it forms
    can be merged before the other occurrences of the same pair, to its right.
    """
    ranks = list(map(merges.get, zip(ids, ids[1:], strict=False), repeat(NO_MERGE)))
    while ranks:
        best = min(ranks)
        if best == NO_MERGE:
            break
        i = ranks.index(best)
        ids[i : i + 2] = (best,)  # merge ids are ranks: the new token's id is its merge's rank
        del ranks[i]
        if i < len(ranks):
            ranks[i] = merges.get((best, ids[i + 1]), NO_MERGE)
        if i > 0:
            ranks[i - 1] = merges.get((ids[i - 1], best), NO_MERGE)
    return ids


def merge_by_rank(ids: list[int], merges: dict[tuple[int, int], int]) -> list[int]:
    """The same result as `merge_by_scan`, for long pieces: a heap instead of rescanning every pair.

    The tokens form a linked list; the heap holds (rank, position) of every mergeable pair. A merge
    links its two tokens into one and pushes the (at most two) pairs it forms with its neighbours.
    Entries whose pair has changed since they were pushed are skipped when popped. O(n log n).
    """
    n = len(ids)
    ids = list(ids)
    following = list(range(1, n + 1))  # following[i]: position of the next live token (n: none)
    preceding = list(range(-1, n - 1))
    pairs = enumerate(zip(ids, ids[1:], strict=False))
    heap = [(rank, i) for i, pair in pairs if (rank := merges.get(pair)) is not None]
    heapq.heapify(heap)
    while heap:
        rank, i = heapq.heappop(heap)
        j = following[i]
        if ids[i] is None or j >= n or merges.get((ids[i], ids[j])) != rank:
            continue  # stale: a token of this pair was merged into something else since
        ids[i], ids[j] = rank, None  # token j joins token i
        following[i] = following[j]
        if following[i] < n:
            preceding[following[i]] = i
            if (right := merges.get((rank, ids[following[i]]))) is not None:
                heapq.heappush(heap, (right, i))
        if preceding[i] >= 0 and (left := merges.get((ids[preceding[i]], rank))) is not None:
            heapq.heappush(heap, (left, preceding[i]))
    return [token for token in ids if token is not None]


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
        self._cache: dict[str, tuple[int, ...]] = {}  # piece of text -> its token ids
        self._whole_tokens: dict[str, tuple[int]] = {}  # pieces known to encode to one token (pretrained.py)

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

    def train(self, text: str, vocab_size: int, verbose: bool = False, *, reference: bool = False) -> None:
        """Learn merges on `text` until the vocabulary (bytes + merges) has `vocab_size` tokens.

        Training continues from the merges already learned (none for a new tokenizer).
        reference=True trains with the lecture's loop (reference.py): the same merges, far slower.
        """
        if not isinstance(vocab_size, int) or vocab_size < 256:
            raise ValueError(f"vocab_size must be an int >= 256 (the single bytes), got {vocab_size!r}")
        if vocab_size <= self.size:
            raise ValueError(f"vocab_size {vocab_size} is not above the current size {self.size}: nothing to learn")
        if clashes := sorted(i for i in self.special_tokens.values() if self.size <= i < vocab_size):
            raise ValueError(f"special token ids {clashes} collide with the merges to learn (ids < {vocab_size})")
        pieces = self._split(valid_unicode(text))
        num_merges = vocab_size - self.size
        if reference:  # the lecture's loop, over every piece of the text: slow, simple, the oracle
            chunks = [self._encode_piece(piece) for piece in pieces]
            steps = learn_merges_reference([list(ids) for ids in chunks], self.size, num_merges)
        else:  # each distinct piece once, with its count
            chunks = Counter()
            for piece, n in Counter(pieces).items():
                chunks[self._encode_piece(piece)] += n
            steps = learn_merges(chunks, self.size, num_merges)
        for pair, new_id, count in steps:
            self.merges[pair] = new_id
            if verbose:
                left, right = self.vocab[pair[0]], self.vocab[pair[1]]
                self.vocab[new_id] = left + right
                print(f"merge {new_id - 255}: {pair} -> {new_id} [{render_token(left + right)}] x{count}")
        self._rebuild()

    # ---- encoding ------------------------------------------------------------------------------

    def _encode_piece(self, piece: str) -> tuple[int, ...]:
        """The token ids of one piece of text: its bytes, merged the earliest-learned merge first."""
        ids = list(map(self.byte_ids.__getitem__, piece.encode("utf-8")))
        merge_loop = merge_by_rank if len(ids) >= HEAP_MIN_IDS else merge_by_scan
        return tuple(merge_loop(ids, self.merges))

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of `text`; special tokens in it are treated as ordinary text."""
        pieces = self._split(valid_unicode(text))
        # Each distinct piece is encoded once and cached; then the ids are looked up and joined at C
        # speed. On English text, nearly all the time goes to the split.
        cache = self._cache
        new = set(pieces).difference(cache)
        whole = new.intersection(self._whole_tokens)  # pieces that are tokens: see pretrained.py
        cache.update({piece: self._whole_tokens[piece] for piece in whole})
        for piece in new.difference(whole):
            cache[piece] = self._encode_piece(piece)
        ids = list(chain.from_iterable(map(cache.__getitem__, pieces)))
        for piece in new:
            if len(piece) > CACHE_MAX_PIECE:  # long runs (whitespace, a whole text) are rarely seen twice
                del cache[piece]
        if len(cache) > CACHE_MAX_ENTRIES:
            cache.clear()
        return ids

    def encode_ordinary_batch(self, texts, *, num_workers: int | None = None) -> list[list[int]]:
        """`[encode_ordinary(t) for t in texts]`, in worker processes when the texts are large.

        num_workers: processes to use; None picks one per CPU when the texts hold at least
        PARALLEL_MIN_CHARS characters in all, and encodes here otherwise.
        """
        return self._batch("encode_ordinary", list(texts), {}, num_workers)

    def encode_batch(
        self, texts, *, allowed_special=frozenset(), disallowed_special="all", num_workers: int | None = None
    ) -> list[list[int]]:
        """`[encode(t, ...) for t in texts]`, in worker processes when the texts are large (see the above)."""
        options = dict(allowed_special=allowed_special, disallowed_special=disallowed_special)
        return self._batch("encode", list(texts), options, num_workers)

    def _batch(self, method: str, texts: list[str], options: dict, num_workers: int | None) -> list[list[int]]:
        if num_workers is None:
            large = len(texts) > 1 and sum(map(len, texts)) >= PARALLEL_MIN_CHARS
            num_workers = (os.cpu_count() or 1) if large else 1
        if not isinstance(num_workers, int) or num_workers < 1:
            raise ValueError(f"num_workers must be a positive int or None, got {num_workers!r}")
        num_workers = min(num_workers, len(texts))
        if num_workers <= 1:
            return [getattr(self, method)(text, **options) for text in texts]
        # fork (where there is one) hands each worker this tokenizer without pickling it
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        chunksize = max(1, len(texts) // (4 * num_workers))
        with ProcessPoolExecutor(num_workers, mp_context=context, initializer=_set_worker, initargs=(self,)) as pool:
            return list(pool.map(_work, repeat(method), texts, repeat(options), chunksize=chunksize))

    def encode(self, text: str, allowed_special=frozenset(), *, disallowed_special="all") -> list[int]:
        """Token ids of `text`, with tiktoken's rules for special tokens.

        allowed_special: "all" or a set of special tokens to encode as their own id. The original minbpe's
            names work too: "none_raise" (no special tokens; text containing one raises, as by default)
            and "none" (special tokens in the text are ordinary text).
        disallowed_special: "all" (every special token not allowed) or a set of strings: text that
            contains one raises ValueError, so a control token cannot be injected through user text.
            () encodes them as ordinary text.
        """
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
        _write_text(f"{prefix}.model", "\n".join(lines) + "\n")

        vocab = [f"[{render_token(bytes([b]))}] {token_id}" for b, token_id in enumerate(self.byte_ids)]
        for (a, b), new_id in self.merges.items():
            parts = [render_token(self.vocab[i]) for i in (a, b, new_id)]
            vocab.append("[{}][{}] -> [{}] {}".format(*parts, new_id))
        vocab += [f"[{render_token(t.encode())}] {i} special" for t, i in self.special_tokens.items()]
        _write_text(f"{prefix}.vocab", "\n".join(vocab) + "\n")

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


_worker_tokenizer = None  # in a worker process of encode_*_batch: the tokenizer it encodes with


def _set_worker(tokenizer) -> None:
    global _worker_tokenizer
    _worker_tokenizer = tokenizer


def _work(method: str, text: str, options: dict) -> list[int]:
    return getattr(_worker_tokenizer, method)(text, **options)


def _string_set(value) -> frozenset:
    if isinstance(value, str):  # a lone string would otherwise become a set of characters
        raise ValueError(f'expected "all" or a set of strings, got {value!r}')
    return frozenset(value)


def _quote(text: str) -> str:
    """`text` on one line: backslash, newline and carriage return escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unquote(text: str) -> str:
    return regex.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), text)


def _write_text(path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def _read_model(path: Path):
    """Parse a .model file: (merges, special tokens, byte ids, pattern); ValueError with file:line on any problem."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"{path}: cannot read tokenizer model: {e.strerror or e}") from None
    lines = data.replace(b"\r\n", b"\n").split(b"\n")  # a file whose line ends were made CRLF reads the same
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
    ours = any(line.startswith((b"pattern ", b"bytes ", b"merges ")) for line in lines[1:4])  # our layout's keywords
    if header == OLD_FORMAT and not ours:
        return _read_original_model(path, lines)
    if header not in (FORMAT, OLD_FORMAT):
        if header.startswith("minbpe "):
            fail(f"unsupported format version {header!r}; this minbpe reads {FORMAT!r} and {OLD_FORMAT!r}")
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


def _read_original_model(path: Path, lines: list[bytes]):
    """Parse the original minbpe's .model file: "minbpe v1", the split pattern as is (empty for Basic), the
    number of special tokens, one "<token> <id>" line each, then one "<a> <b>" line per merge to the end."""

    def fail(number: int, problem: str):
        raise ValueError(f"{path}:{number}: {problem} (read as the original minbpe's v1 format)")

    try:
        text = [line.decode("utf-8") for line in lines]
    except UnicodeDecodeError:
        fail(next(i for i, line in enumerate(lines, 1) if not _is_utf8(line)), "not UTF-8 text")
    if len(text) < 3:
        fail(len(text) + 1, "file ends early: expected the pattern and the number of special tokens")
    pattern = text[1]
    try:
        regex.compile(pattern)
    except regex.error as e:
        fail(2, f"invalid split pattern: {e}")
    if not (text[2].isascii() and text[2].isdigit()):
        fail(3, f"expected the number of special tokens, got {text[2][:40]!r}")
    num_special = int(text[2])
    if len(text) < 3 + num_special:
        fail(len(text) + 1, f"file ends early: expected {num_special} special tokens")
    special_lines = text[3 : 3 + num_special]
    merges = {}
    for number, line in enumerate(text[3 + num_special :], start=4 + num_special):
        new_id = 256 + len(merges)
        fields = line.split()
        if len(fields) != 2 or not all(f.isascii() and f.isdigit() for f in fields):
            fail(number, f"expected a merge '<id> <id>', got {line[:60]!r}")
        a, b = map(int, fields)
        if a >= new_id or b >= new_id:
            fail(number, f"merge {a} {b} makes token {new_id} from a token that does not exist yet")
        if (a, b) in merges:
            fail(number, f"merge {a} {b} appears twice")
        merges[a, b] = new_id
    special = {}
    for number, line in enumerate(special_lines, start=4):
        token, _, token_id = line.rpartition(" ")
        if not token or not (token_id.isascii() and token_id.isdigit()):
            fail(number, f"expected a special token '<text> <id>', got {line[:60]!r}")
        if int(token_id) < 256 + len(merges) or int(token_id) in special.values() or token in special:
            fail(number, f"special token {token!r} {token_id} collides with a byte, a merge or another special token")
        special[token] = int(token_id)
    return merges, special, list(range(256)), pattern


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
