"""The files a tokenizer is saved in: `prefix.model` (read back by `load`) and `prefix.vocab` (for people).

A .model file is text, one item per line:

    minbpe v2
    pattern <the split pattern; backslash written \\\\, newline \\n, carriage return \\r>
    bytes <the token id of byte 0, 1, ..., 255>
    merges <count>
    <a> <b>                     (merge i makes token 256 + i)
    special <count>
    <id> <text>

`read_model` also reads "minbpe v1" files: ours from before v2, and the original minbpe's (raw pattern, special
tokens, then merges to the end; bytes in their natural order). Line ends turned into CRLF read the same.

`write_original_model` writes the original minbpe's v1 layout, so its `Tokenizer.load` reads the file:

    minbpe v1
    <the split pattern, raw; an empty line for BasicTokenizer>
    <number of special tokens>
    <text> <id>                 (one line per special token)
    <a> <b>                     (merge i makes token 256 + i, to the end of the file)

It holds only what the original can read back, so a tokenizer fits it when its bytes are in their natural order
(not GPT-2's or GPT-4's permutation), its pattern is one line without whitespace at either end (the original
strips the line), and each special token is one word (the original splits the line at whitespace). Anything
else is a ValueError that says why, and nothing is written.
"""

import unicodedata
from pathlib import Path
from typing import NamedTuple

import regex

from zero_to_hero.files import atomic_path

FORMAT = "minbpe v2"  # the first line of every .model file we write
# Also read: "minbpe v1" files, both ours (before the original's layout was known to share the name) and the
# original minbpe's. The keywords of our layout tell the two apart.
OLD_FORMAT = "minbpe v1"


class Model(NamedTuple):
    """What a .model file holds."""

    merges: dict[tuple[int, int], int]
    special_tokens: dict[str, int]
    byte_ids: list[int]
    pattern: str


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


def write_model(path, model: Model) -> None:
    """Write `model` as a .model file (atomically: never a half-written file)."""
    lines = [FORMAT, f"pattern {_quote(model.pattern)}", "bytes " + " ".join(map(str, model.byte_ids))]
    lines.append(f"merges {len(model.merges)}")
    lines += [f"{a} {b}" for a, b in model.merges]  # merge i makes token 256 + i
    lines.append(f"special {len(model.special_tokens)}")
    lines += [f"{token_id} {_quote(text)}" for text, token_id in model.special_tokens.items()]
    _write_text(path, "\n".join(lines) + "\n")


def original_format_problem(model: Model) -> str | None:
    """Why `model` cannot be saved in the original minbpe's v1 layout, or None when it can."""
    if model.byte_ids != list(range(256)):
        return "its single bytes are permuted (GPT-2/GPT-4's byte order), which v1 cannot record"
    if model.pattern != model.pattern.strip() or any(c in model.pattern for c in "\r\n"):
        return "its split pattern has a line break or whitespace at an end, which v1's pattern line loses"
    for text in model.special_tokens:
        if text.split() != [text]:
            return f"its special token {text!r} is not one word (v1 splits the line at whitespace)"
    expected = {pair: 256 + i for i, pair in enumerate(model.merges)}
    if model.merges != expected:
        return "its merges do not make tokens 256, 257, ... in order"
    return None


def write_original_model(path, model: Model) -> None:
    """Write `model` in the original minbpe's v1 layout (atomically); ValueError if it does not fit (see the top)."""
    if problem := original_format_problem(model):
        raise ValueError(f"cannot save {path} in the original minbpe's v1 format: {problem}; save it as v2")
    lines = [OLD_FORMAT, model.pattern, str(len(model.special_tokens))]
    lines += [f"{text} {token_id}" for text, token_id in model.special_tokens.items()]
    lines += [f"{a} {b}" for a, b in model.merges]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
        try:  # e.g. a special token named like one of our own old v1's keywords
            same = read_model(tmp) == model
        except ValueError:
            same = False
        if not same:
            raise ValueError(f"cannot save {path} in the original minbpe's v1 format: it would not read back the same")


def write_vocab(path, model: Model, vocab: dict[int, bytes]) -> None:
    """Write the .vocab file: every token rendered, merges as `[left][right] -> [token] id`."""
    lines = [f"[{render_token(bytes([b]))}] {token_id}" for b, token_id in enumerate(model.byte_ids)]
    for (a, b), new_id in model.merges.items():
        parts = [render_token(vocab[i]) for i in (a, b, new_id)]
        lines.append("[{}][{}] -> [{}] {}".format(*parts, new_id))
    lines += [f"[{render_token(t.encode())}] {i} special" for t, i in model.special_tokens.items()]
    _write_text(path, "\n".join(lines) + "\n")


def read_model(path) -> Model:
    """Parse a .model file; any problem is a ValueError naming the file and line."""
    path = Path(path)
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
    return Model(merges, special, byte_ids, pattern)


def _read_original_model(path: Path, lines: list[bytes]) -> Model:
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
    return Model(merges, special, list(range(256)), pattern)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _quote(text: str) -> str:
    """`text` on one line: backslash, newline and carriage return escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unquote(text: str) -> str:
    return regex.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), text)


def _write_text(path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    import tempfile

    model = Model({(104, 105): 256}, {"<|end|>": 257}, list(range(256)), "")
    with tempfile.TemporaryDirectory() as folder:
        write_model(Path(folder) / "hi.model", model)
        print((Path(folder) / "hi.model").read_text().splitlines()[3:])  # ['merges 1', '104 105', 'special 1', ...]
        print(read_model(Path(folder) / "hi.model") == model)
