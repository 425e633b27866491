"""GPT-2, GPT-4 and GPT-4o: our encoder against tiktoken's, on hard, real and generated text."""

import random
from pathlib import Path

import pytest
import regex
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

from minbpe import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, GPT4O_SPLIT_PATTERN, unicode16
from zero_to_hero.datasets import read_text

PACKAGE = Path(__file__).resolve().parents[1]
NAMES = ["gpt2", "cl100k_base", "o200k_base"]

HARD_TEXTS = [
    "",
    "hello world!!!? (안녕하세요!) lol123 😉",
    "I'm you're WE'LL they've HE'D it's IT'S She'S o'clock ''s 's",
    "   leading spaces, trailing spaces   ",
    "tabs\tand\t\tmixed \t whitespace \u00a0\u2003\u3000 runs",
    "line\nbreaks\n\nand\r\nwindows\r\n\r\nlines\r\rand \n \n trailing\n",
    "    indented code\n        deeper\n\tdef f(x):\n\t\treturn x ** 2  # square\n",
    "1 12 123 1234 12345 1234567890 3.14159 1,000,000 -42 0x1F ١٢٣٤٥ ௧௨௩",
    "中文字符测试，日本語のテキスト、한국어 텍스트。",
    "العربية: مرحبا بالعالم. עברית: שלום עולם",
    "family: 👨‍👩‍👧‍👦 flags: 🇺🇸🇯🇵 skin: 👍🏽 keycap: 1️⃣ heart: ❤️",
    "combining: e\u0301 a\u0308\u0301 Z\u0351\u0352\u0353 ñ vs n\u0303; Hangul jamo: \u1100\u1161\u11a8",
    "camelCaseWords HTTPServer getHTTPResponseCode snake_case_words UPPER lower MiXeD",
    "URLs: https://example.com/path?q=1&r=2#frag, email: a.b@c.de, path: /usr/local/bin/",
    "punctuation!!! ??? ... --- *** ''' \"\"\" ``` <|endoftext|> <|fim_prefix|>",
    "<|endoftext|>",
    "\x00\x01\x1f\x7f control \u200b\u200c\u200d\ufeff zero width",
    "ʕ•ᴥ•ʔ \U00010940\U00010941 \U00011db0 new in Unicode 17",
    "\U0010ffff\U000e0001\U000f0000 private use and tags",
    "\ud800 lone \udfff surrogates \ud83d\ude00 joined",
    "a" * 300 + " " * 300 + "\n" * 50 + "1" * 50,
]


def test_patterns_are_tiktokens(pretrained):
    for name, pattern in zip(NAMES, [GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, GPT4O_SPLIT_PATTERN], strict=True):
        ours, theirs = pretrained(name)
        assert ours.pattern == pattern == theirs._pat_str


@pytest.mark.parametrize("name", NAMES)
def test_vocabulary_and_special_tokens_are_tiktokens(pretrained, name):
    ours, theirs = pretrained(name)
    assert ours.special_tokens == theirs._special_tokens
    assert {ours.vocab[i]: i for i in range(ours.size)} == theirs._mergeable_ranks
    assert len(ours.vocab) == len(theirs._mergeable_ranks) + len(theirs._special_tokens)
    assert ours.byte_ids != list(range(256))  # the permutation is real, and handled


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("text", HARD_TEXTS, ids=range(len(HARD_TEXTS)))
def test_hard_text(pretrained, name, text):
    ours, theirs = pretrained(name)
    ids = ours.encode_ordinary(text)
    assert ids == theirs.encode_ordinary(text)
    assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")
    assert ours.decode(ids) == theirs.decode(ids)
    assert ours.decode_bytes(ids) == theirs.decode_bytes(ids)


@pytest.mark.parametrize("name", NAMES)
def test_real_text(pretrained, name):
    """Prose (a Wikipedia article) and code (this package)."""
    ours, theirs = pretrained(name)
    code = "\n".join(p.read_text() for p in sorted(PACKAGE.glob("**/*.py")))
    text = read_text("taylorswift")[:60_000] + code
    ids = ours.encode(text, disallowed_special=())  # the code mentions <|endoftext|>
    assert ids == theirs.encode(text, disallowed_special=())
    assert ours.decode(ids) == text


@pytest.mark.parametrize("name", NAMES)
def test_unicode_17_characters(pretrained, name):
    """Characters that our regex module and tiktoken's classify differently, in several contexts."""
    ours, theirs = pretrained(name)
    chars = [chr(c) for c in sorted(unicode16.translation())]
    rng = random.Random(0)
    contexts = ["{c}", "a{c}b ", " {c}{c}'S ", "1{c}2\n", "{c}\u0301 ", "\u0295{c}X"]
    text = "".join(rng.choice(contexts).format(c=c) for c in chars)
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


@pytest.mark.parametrize("name", NAMES)
def test_every_code_point(pretrained, name):
    """All 1,112,064 code points (surrogates aside), each in a context drawn at random: 6.7 MB of text."""
    ours, theirs = pretrained(name)
    rng = random.Random(1)
    contexts = ["{c}", "a{c}b ", " {c}{c}'S ", "1{c}2\n", "{c}\u0301 ", "X{c}y", " {c}"]
    text = "".join(rng.choice(contexts).format(c=chr(c)) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


def test_shipped_unicode16_table_is_tiktokens_engine():
    """unicode16_table.py holds, for every code point, the class tiktoken's own regex engine gives it."""
    assert unicode16.shipped_classes() == unicode16.tiktoken_classes()


@pytest.mark.parametrize("prop", ["L", "N", "M", "Lu", "Ll", "Lt", "Lm", "Lo", "Nd"])
def test_masked_text_matches_like_tiktokens_engine(prop):
    """For every code point: tiktoken's regex \\p{prop} matches it iff the installed `regex` matches its stand-in."""
    text = unicode16.code_points()
    probe = tiktoken.Encoding(
        name="probe", pat_str=rf"\p{{{prop}}}", mergeable_ranks={bytes([b]): b for b in range(256)}, special_tokens={}
    )
    theirs = bytes(probe.encode_ordinary(text)).decode()  # the pattern keeps only the matching characters
    masked = text.translate(unicode16.translation())  # what unicode16.split matches against: same length
    ours = "".join(text[m.start()] for m in regex.finditer(rf"\p{{{prop}}}", masked))
    assert theirs == ours


def test_the_installed_regex_disagrees_with_tiktoken_somewhere():
    """The translation is not idle: regex (Unicode 17 or newer) classifies thousands of code points otherwise."""
    assert len(unicode16.translation()) >= 4_700 and 0x0295 in unicode16.translation()


# Text that stresses the split patterns: atoms glued together at random.
ATOMS = [
    " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "'s", "'S", "'ll", "'Re", "'", "\"",
    "a", "Ab", "ABC", "hello", "World", "camelCase", "ǅ", "é", "e\u0301", "ß", "ſ",
    "0", "12", "345", "6789", "٣", "½", "中文", "日本", "한국", "مرحبا", "שלום", "ру́сский",
    "😀", "👨‍👩‍👧", "🇺🇸", "👍🏽", "\u200d", "\ufe0f", "!", "?!", "...", "//", "/", "-", "_", "<|", "|>",
    "\x00", "\x7f", "\U0010ffff", "\U00010940", "\u0295", "\ud800", "\udc00",
]  # fmt: skip
glued = st.lists(st.sampled_from(ATOMS), max_size=60).map("".join)
anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)  # every code point, surrogates too


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=500)
@given(text=st.one_of(glued, anything))
def test_generated_text(pretrained, name, text):
    ours, theirs = pretrained(name)
    ids = ours.encode(text, disallowed_special=())
    assert ids == theirs.encode(text, disallowed_special=())
    assert ours.decode(ids) == theirs.decode(ids)


@pytest.mark.parametrize("name", NAMES)
@given(text=st.text(max_size=100))
def test_round_trip(pretrained, name, text):
    ours, _ = pretrained(name)
    assert ours.decode(ours.encode_ordinary(text)) == text


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_decoding_any_ids_like_tiktoken(pretrained, name, data):
    """Random token sequences: partial UTF-8 becomes U+FFFD exactly as in tiktoken's decode."""
    ours, theirs = pretrained(name)
    ids = data.draw(st.lists(st.integers(0, ours.size - 1) | st.sampled_from(sorted(ours.special_tokens.values()))))
    assert ours.decode_bytes(ids) == theirs.decode_bytes(ids)
    assert ours.decode(ids) == theirs.decode(ids)


@pytest.mark.parametrize("bad", [-1, 100261, 100277, 10**9, "7", None, [1]])
def test_decode_rejects_ids_not_in_the_vocabulary(gpt4, bad):
    ours, _ = gpt4
    with pytest.raises(ValueError, match=rf"token id {regex.escape(repr(bad))} is not in the vocabulary"):
        ours.decode([15339, bad])


def test_no_cache_and_no_network_is_one_clear_error(tmp_path, monkeypatch):
    import tiktoken.load
    import tiktoken.registry

    from minbpe import GPT4Tokenizer
    from zero_to_hero import UserError

    def offline(url, *args, **kwargs):
        raise ConnectionError(url)

    monkeypatch.setattr(tiktoken.load, "read_file", offline)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    with pytest.raises(UserError, match="cl100k_base.*TIKTOKEN_CACHE_DIR"):
        GPT4Tokenizer()
