"""Split text as tiktoken does, character classes included, whatever version of `regex` is installed.

tiktoken's regex engine (Rust) classifies characters by Unicode 16.0. The `regex` module follows the newest
Unicode: 2026.5.9 knows Unicode 17.0 (4,699 new letters, marks and digits; U+0295 moved from Ll to Lo), later
releases know more. For every character whose class differs, \\p{L}, \\p{N}, \\p{Lo}... disagree, and so would
the splits. So we ship tiktoken's own classes as a table (`unicode16_table.py`, read off tiktoken's engine),
compare it once with what the installed `regex` says for every code point, and match the pattern against a
copy of the text in which each character that differs is replaced by one that both classify as tiktoken does
(for example U+0378, unassigned, for a character Unicode 16 did not have). Then we cut the original text at
the same places. Tests check the table against tiktoken's engine and the splits on every code point.
"""

import array
import functools
import re

import regex

from minbpe.unicode16_table import RANGES

# The classes the GPT patterns use, as a partition of the code points: each falls in exactly one.
CLASSES = ("other", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Nd", "N")  # "N" here: a number that is not Nd
# Stand-ins, tried in order: the first one the installed `regex` puts in the class is used.
STAND_INS = {
    "other": "\u0378\u0380\u0381",  # unassigned (Cn) so far
    "Lu": "\u00c0\u00c1",
    "Ll": "\u00e0\u00e1",
    "Lt": "\u01c5\u01c8",
    "Lm": "\u02b0\u02b1",
    "Lo": "\u01bb\u05d0",
    "M": "\u0300\u0301",
    "Nd": "\u0660\u0661",
    "N": "\u00b2\u00b3",
}


def code_points() -> str:
    """Every code point but the surrogates, in order, as one string (1,112,064 characters)."""
    points = array.array("I", range(0x110000))
    del points[0xD800:0xE000]
    return points.tobytes().decode("utf-32-le" if array.array("I", [1]).tobytes()[0] else "utf-32-be")


def tiktoken_classes() -> bytes:
    """For each code point, the index in CLASSES of its class in tiktoken's regex engine (surrogates: 0).

    Read off the engine itself: a pattern of one class keeps exactly the characters that class matches."""
    import tiktoken

    text = code_points()
    table = bytearray(0x110000)
    for index in range(len(CLASSES) - 1, 0, -1):  # "N" before "Nd": Nd overwrites the digits
        name = CLASSES[index]
        probe = tiktoken.Encoding(
            name="probe",
            pat_str=rf"\p{{{name}}}",
            mergeable_ranks={bytes([b]): b for b in range(256)},
            special_tokens={},
        )
        for char in bytes(probe.encode_ordinary(text)).decode():
            table[ord(char)] = index
    return bytes(table)


def shipped_classes() -> bytes:
    """The table in unicode16_table.py, expanded to one byte per code point."""
    table = bytearray(0x110000)
    for first, last, index in RANGES:
        table[first : last + 1] = bytes([index]) * (last - first + 1)
    return bytes(table)


def installed_classes(characters: str | None = None) -> bytes:
    """For each code point, its class in the installed `regex` module (surrogates: 0)."""
    text = code_points() if characters is None else characters
    marked = regex.sub(r"[^\p{L}\p{M}\p{N}]", "\x00", text)
    for index in range(1, len(CLASSES)):  # Nd before "N": a replaced character is in no class any more
        marked = regex.sub(rf"\p{{{CLASSES[index]}}}", chr(index), marked)
    marked = marked.encode("latin-1")
    if characters is not None:
        return marked
    return marked[:0xD800] + bytes(0xE000 - 0xD800) + marked[0xD800:]


@functools.cache
def _translation() -> tuple[dict[int, str], re.Pattern | None, str]:
    """{code point: stand-in} for every character the installed `regex` classifies unlike tiktoken, and a
    pattern that finds them, and the first of them. Computed once per process (about 0.2 s), on the first text
    that is not ASCII."""
    ours, theirs = installed_classes(), shipped_classes()
    stand_in = {}
    for index, name in enumerate(CLASSES):
        candidates = STAND_INS[name]
        good = [c for c, cls in zip(candidates, installed_classes(candidates), strict=True) if cls == index]
        if not good or theirs[ord(good[0])] != index:
            raise RuntimeError(f"no stand-in for Unicode 16 class {name} under this `regex`; extend STAND_INS")
        stand_in[index] = good[0]
    table = {}
    block = 4096
    for start in range(0, 0x110000, block):  # most blocks are equal: compare them whole first
        if ours[start : start + block] != theirs[start : start + block]:
            for c in range(start, start + block):
                if ours[c] != theirs[c]:
                    table[c] = stand_in[theirs[c]]
    if not table:
        return table, None, chr(0x10FFFF)
    ranges = []  # [first, last] runs of the code points in `table`
    for c in sorted(table):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    # the standard library's `re` scans a character class faster than `regex` does
    finder = re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]")
    return table, finder, chr(ranges[0][0])


def translation() -> dict[int, str]:
    """{code point: stand-in}: what `split` replaces before matching (empty when `regex` agrees with tiktoken)."""
    return _translation()[0]


def affected(text: str) -> bool:
    """Whether `text` holds a character that the installed `regex` classifies unlike tiktoken (rarely)."""
    if text.isascii():  # the fast answer, most texts (every ASCII character is classified alike)
        return False
    _, finder, first = _translation()
    return finder is not None and max(text) >= first and finder.search(text) is not None


def split(pattern: regex.Pattern, text: str) -> list[str]:
    """The pieces of `text` that `pattern` matches, with Unicode 16 character classes (as tiktoken)."""
    if not affected(text):  # almost always: nothing to translate
        return pattern.findall(text)
    masked = text.translate(translation())  # same length: one character for one
    return [text[m.start() : m.end()] for m in pattern.finditer(masked)]


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD (and split surrogate pairs joined), as tiktoken does.

    A Python str may hold lone surrogates, which have no UTF-8 encoding.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def write_table(path) -> int:
    """Write unicode16_table.py from tiktoken's engine (run by hand when tiktoken moves to a new Unicode)."""
    table = tiktoken_classes()
    ranges, first = [], 0
    for c in range(1, 0x110001):
        if c == 0x110000 or table[c] != table[first]:
            if table[first]:
                ranges.append((first, c - 1, table[first]))
            first = c
    lines = [
        ", ".join(f"(0x{a:X}, 0x{b:X}, {i})" for a, b, i in ranges[k : k + 5]) + "," for k in range(0, len(ranges), 5)
    ]
    import tiktoken

    header = (
        f'"""tiktoken\'s character classes (Unicode 16.0), from tiktoken {tiktoken.__version__}\'s regex engine.\n\n'
        "(first, last, class): code points first..last are in unicode16.CLASSES[class]; those not listed are\n"
        'in none of the classes the GPT patterns use. Written by `python -m minbpe.unicode16 --write-table`."""\n\n'
    )
    body = "RANGES = [\n" + "\n".join("    " + line for line in lines) + "\n]  # fmt: skip\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + body)
    return len(ranges)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if sys.argv[1:] == ["--write-table"]:
        target = Path(__file__).with_name("unicode16_table.py")
        print(f"{write_table(target)} ranges written to {target}")
    else:
        text = "ʕ\U00010940\U00010941 words"  # U+0295, then two Sidetic letters (Unicode 17)
        print(regex.compile(r"\p{Ll}+|\p{L}+|\S+|\s+").findall(text))
        print(split(regex.compile(r"\p{Ll}+|\p{L}+|\S+|\s+"), text))
        print(f"{len(translation())} code points classified unlike tiktoken by regex {regex.__version__}")
