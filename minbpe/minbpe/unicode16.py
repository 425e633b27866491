"""Split text as tiktoken does, character classes included.

tiktoken's regex engine (Rust) classifies characters by Unicode 16.0; the `regex` module we use
knows Unicode 17.0, which added 4,699 letters, marks and digits (new scripts such as Sidetic and
Tolong Siki, more CJK ideographs) and moved U+0295 from Ll to Lo. For those characters \\p{L},
\\p{N}, \\p{Lo}... would disagree, and so would the splits. We match the pattern against a copy
of the text where each such character is replaced by one that Unicode 16 classifies the same way
(U+0378, unassigned, or U+0278, a lowercase letter), then cut the original text at the same places.
A test checks this table against tiktoken for every code point.
"""

import re

import regex

# Code points that Unicode 17.0 made letters, marks or numbers: unassigned (Cn) in Unicode 16.0.
UNICODE_17_ADDITIONS = [
    (0x088F, 0x088F), (0x0C5C, 0x0C5C), (0x0CDC, 0x0CDC), (0x1ACF, 0x1ADD), (0x1AE0, 0x1AEB),
    (0xA7CE, 0xA7CF), (0xA7D2, 0xA7D2), (0xA7D4, 0xA7D4), (0xA7F1, 0xA7F1), (0x10940, 0x10959),
    (0x10EC5, 0x10EC7), (0x10EFA, 0x10EFB), (0x11B60, 0x11B67), (0x11DB0, 0x11DDB), (0x11DE0, 0x11DE9),
    (0x16EA0, 0x16EB8), (0x16EBB, 0x16ED3), (0x16FF2, 0x16FF6), (0x187F8, 0x187FF), (0x18D09, 0x18D1E),
    (0x18D80, 0x18DF2), (0x1E6C0, 0x1E6DE), (0x1E6E0, 0x1E6F5), (0x1E6FE, 0x1E6FF), (0x2B73A, 0x2B73F),
    (0x2CEA2, 0x2CEAD), (0x323B0, 0x33479),
]  # fmt: skip
UNASSIGNED = "\u0378"  # Cn in every Unicode version so far
RECLASSIFIED = {0x0295: "\u0278"}  # Ll in Unicode 16 (Lo in 17) -> a lowercase letter in both

TO_UNICODE_16 = {c: UNASSIGNED for first, last in UNICODE_17_ADDITIONS for c in range(first, last + 1)}
TO_UNICODE_16.update(RECLASSIFIED)
# Ranges in the standard library's `re`, which scans a character class faster than `regex` does.
_RANGES = sorted([*UNICODE_17_ADDITIONS, *((c, c) for c in RECLASSIFIED)])
_AFFECTED = re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in _RANGES) + "]")
_FIRST_AFFECTED = chr(_RANGES[0][0])


def affected(text: str) -> bool:
    """Whether `text` holds a character that Unicode 16 and 17 classify differently (rarely)."""
    if text.isascii() or max(text) < _FIRST_AFFECTED:  # the fast answers, most texts
        return False
    return _AFFECTED.search(text) is not None


def split(pattern: regex.Pattern, text: str) -> list[str]:
    """The pieces of `text` that `pattern` matches, with Unicode 16 character classes (as tiktoken)."""
    if not affected(text):  # almost always: nothing to translate
        return pattern.findall(text)
    masked = text.translate(TO_UNICODE_16)  # same length: one character for one
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


if __name__ == "__main__":
    text = "ʕ\U00010940\U00010941 words"  # U+0295, then two Sidetic letters (Unicode 17)
    print(regex.compile(r"\p{Ll}+|\p{L}+|\S+|\s+").findall(text))
    print(split(regex.compile(r"\p{Ll}+|\p{L}+|\S+|\s+"), text))
