"""The fast encoder (encoder.py) against the lecture's (reference.py) and tiktoken: merge loops, cache, ASCII split,
whole tokens, batches."""

import random
import re
import string

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from minbpe import BasicTokenizer, RegexTokenizer, batch, encoder, reference, unicode16
from minbpe.encoder import PieceEncoder, merge_by_rank, merge_by_scan, replay_merges
from minbpe.regex_tokenizer import (
    ASCII_SPLITS,
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    GPT4O_SPLIT_PATTERN,
    MINBPE_GPT4_SPLIT_PATTERN,
)
from zero_to_hero.datasets import read_text

POOL = batch.ProcessPoolExecutor
PATTERNS = {"gpt2": GPT2_SPLIT_PATTERN, "cl100k_base": GPT4_SPLIT_PATTERN, "o200k_base": GPT4O_SPLIT_PATTERN}


@pytest.fixture(scope="module")
def trained():
    """A Regex and a Basic tokenizer with 300 merges over a small alphabet: long chains of merges."""
    text = "".join(random.Random(0).choices("aab b\n", k=5000))
    tokenizers = RegexTokenizer(), BasicTokenizer()
    for tokenizer in tokenizers:
        tokenizer.train(text, 556)
    return tokenizers


@given(st.lists(st.integers(0, 4), max_size=200))
def test_merge_loops_agree_with_the_lecture(trained, ids):
    # byte values 0..4 are rare in training text, so map them to the trained alphabet first
    ids = [b"ab \n"[i % 4] for i in ids]
    for tokenizer in trained:
        expected = reference.encode_chunk(list(ids), tokenizer.merges)
        assert merge_by_scan(list(ids), tokenizer.merges) == expected
        assert merge_by_rank(list(ids), tokenizer.merges) == expected
        assert replay_merges(list(ids), tokenizer.merges) == expected


@given(st.text(alphabet="aab b\nc", max_size=400))
def test_encode_agrees_with_the_lecture(trained, text):
    for tokenizer in trained:
        assert tokenizer.encode_ordinary(text) == tokenizer.encode_ordinary(text, reference=True)


@given(st.text(alphabet="aab b\nc", max_size=400))
def test_the_lecture_path_is_the_lecture_code(trained, text):
    """reference=True runs reference.py's encode_chunk (Regex, each piece) or basic.py's loop (Basic)."""
    regex_tokenizer, basic_tokenizer = trained
    pieces = [regex_tokenizer.byte_tokens(piece) for piece in regex_tokenizer.split(text)]
    expected = [i for ids in pieces for i in reference.encode_chunk(ids, regex_tokenizer.merges)]
    assert regex_tokenizer.encode_ordinary(text, reference=True) == expected
    expected = reference.encode_chunk(list(text.encode()), basic_tokenizer.merges)
    assert basic_tokenizer.encode_ordinary(text, reference=True) == expected


def test_long_pieces_take_the_heap_and_agree(trained):
    regex_tokenizer, _ = trained
    text = "ab" * 300 + " " + "a" * 1000 + "\n" * 97  # pieces far above HEAP_MIN_IDS
    assert max(len(p.encode()) for p in regex_tokenizer.split(text)) >= 10 * encoder.HEAP_MIN_IDS
    assert regex_tokenizer.encode_ordinary(text) == regex_tokenizer.encode_ordinary(text, reference=True)


def test_real_text_agrees_with_the_lecture():
    text = read_text("taylorswift")
    tokenizer = RegexTokenizer()
    tokenizer.train(text[:50_000], 600)
    held_out = text[-20_000:]
    expected = tokenizer.encode_ordinary(held_out, reference=True)
    assert tokenizer.encode_ordinary(held_out) == expected  # every piece new: encoded from its bytes
    assert tokenizer.encode_ordinary(held_out) == expected  # now every piece from the cache
    assert tokenizer.to_tiktoken().encode_ordinary(held_out) == expected  # and tiktoken with the same merges


def test_the_cache_holds_short_pieces_and_starts_over_when_full(trained, monkeypatch):
    tokenizer = trained[0]
    pieces = tokenizer.split("a" * 300 + " ab ab b")
    pieces_encoder = PieceEncoder(tokenizer.merges, tokenizer.byte_ids)
    ids = pieces_encoder.encode(pieces)
    assert ids == tokenizer.encode_ordinary("a" * 300 + " ab ab b", reference=True)
    assert set(pieces_encoder.cache) == {" ab", " b"}  # the 300-character piece was not kept
    monkeypatch.setattr(encoder, "CACHE_MAX_ENTRIES", 2)
    assert pieces_encoder.encode([*pieces, " aab"]) == ids + tokenizer.encode_ordinary(" aab", reference=True)
    assert pieces_encoder.cache == {}  # 3 entries > 2: started over


def test_whole_tokens_are_looked_up_not_merged(trained):
    tokenizer = trained[0]
    pieces_encoder = PieceEncoder(tokenizer.merges, tokenizer.byte_ids, whole_tokens={" ab": (7,)})
    assert pieces_encoder.encode([" ab", " b", " ab"]) == [7, *pieces_encoder.encode_piece(" b"), 7]


# ---- the ASCII split ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [*PATTERNS.values(), MINBPE_GPT4_SPLIT_PATTERN], ids=[*PATTERNS, "minbpe_gpt4"])
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_split_equals_the_unicode_split(pattern, text):
    assert ASCII_SPLITS[pattern].findall(text) == unicode16.split(regex.compile(pattern), text)


@pytest.mark.parametrize("name", PATTERNS)
def test_ascii_split_on_every_ascii_character_in_context(pretrained, name):
    ours, theirs = pretrained(name)
    contexts = ["{}", "a{}b", "A{0}{0}{0}Ab", " {} x", "  {}\n", "'{}ll ", "12{}345", "\r\n{}\t \n"]
    for code in range(128):
        for context in contexts:
            text = context.format(chr(code))
            assert ours.encode_ordinary(text) == theirs.encode_ordinary(text), (code, context)


def test_the_ascii_split_is_for_ascii_text_and_known_patterns_only():
    known = {GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, GPT4O_SPLIT_PATTERN, MINBPE_GPT4_SPLIT_PATTERN}
    assert set(ASCII_SPLITS) == known
    assert RegexTokenizer().split("Ünïcode words") == ["Ünïcode", " words"]  # through `regex`: Ü is a letter
    assert RegexTokenizer(r"\p{L}+|\s+|.").split("café au") == ["café", " ", "au"]  # a custom pattern: `regex`


# ---- the Unicode 17 check ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain ASCII", False),
        ("déjà vu, 日本語, 😀", False),  # all below or above, but none of the changed characters
        ("ʕ", True),  # U+0295, reclassified
        ("text \U00010940 more", True),  # Sidetic, new in Unicode 17
        ("\u088f", True),  # the first changed code point
        ("\u088e", False),
    ],
)
def test_affected_finds_the_characters_unicode_17_changed(text, expected):
    assert unicode16.affected(text) is expected


# ---- pretrained: a piece that is a token is that token ------------------------------------------------------


@pytest.mark.parametrize("name", PATTERNS)
def test_every_token_encodes_to_itself_through_the_merges(pretrained, name):
    """The shortcut (tiktoken's first step) gives what the merges would."""
    ours, _ = pretrained(name)
    whole_tokens = ours.whole_tokens()
    assert len(whole_tokens) > 0.99 * len(ours.merges)
    merges_only = PieceEncoder(ours.merges, ours.byte_ids)  # no shortcut
    for text, ids in whole_tokens.items():
        assert merges_only.encode_piece(text) == ids


def test_special_tokens_are_not_whole_tokens(gpt4):
    ours, theirs = gpt4
    assert "<|endoftext|>" not in ours.whole_tokens()
    assert ours.encode("<|endoftext|>", disallowed_special=()) == theirs.encode("<|endoftext|>", disallowed_special=())


# ---- batches ---------------------------------------------------------------------------------------------


def texts_for_batches():
    rng = random.Random(1)
    return ["".join(rng.choices(string.ascii_letters + " \n.,'é", k=rng.randint(0, 3000))) for _ in range(12)]


@pytest.mark.parametrize("num_workers", [None, 1, 2])
def test_encode_ordinary_batch_equals_one_by_one(gpt4, num_workers):
    ours, theirs = gpt4
    texts = texts_for_batches()
    expected = [theirs.encode_ordinary(t) for t in texts]
    assert ours.encode_ordinary_batch(texts, num_workers=num_workers) == expected
    assert ours.encode_ordinary_batch(iter(texts), num_workers=num_workers) == expected  # any iterable


def test_encode_batch_with_special_tokens_in_processes(gpt4):
    ours, theirs = gpt4
    texts = ["a<|endoftext|>b", "<|fim_prefix|>x", "plain"]
    expected = theirs.encode_batch(texts, allowed_special="all")
    assert ours.encode_batch(texts, allowed_special="all", num_workers=2) == expected
    with pytest.raises(ValueError, match=re.escape("special token '<|endoftext|>'")):  # raised in a worker
        ours.encode_batch(texts, num_workers=2)


def test_large_batches_use_processes(gpt4, monkeypatch):
    ours, theirs = gpt4
    monkeypatch.setattr(batch, "PARALLEL_MIN_CHARS", 100)
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 3)
    used = []
    monkeypatch.setattr(batch, "ProcessPoolExecutor", lambda n, **kw: used.append(n) or POOL(n, **kw))
    texts = texts_for_batches()
    assert ours.encode_ordinary_batch(texts) == [theirs.encode_ordinary(t) for t in texts]
    assert used == [3]
    used.clear()
    assert ours.encode_ordinary_batch(["short", "texts"]) == [theirs.encode_ordinary(t) for t in ["short", "texts"]]
    assert used == []  # below PARALLEL_MIN_CHARS: encoded here


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2"])
def test_batch_rejects_a_bad_number_of_workers(gpt4, bad):
    with pytest.raises(ValueError, match="num_workers must be a positive int or None"):
        gpt4[0].encode_ordinary_batch(["a", "b"], num_workers=bad)


def test_empty_batch(gpt4):
    assert gpt4[0].encode_ordinary_batch([]) == [] and gpt4[0].encode_batch([], num_workers=2) == []


def test_split_follows_the_shipped_classes_where_regex_disagrees(monkeypatch):
    """If tiktoken's engine had 'é' in no class (as an older Unicode would), the split keeps it apart."""
    real = unicode16.shipped_classes()
    fake = bytearray(real)
    fake[ord("é")] = 0  # "other"
    monkeypatch.setattr(unicode16, "shipped_classes", lambda: bytes(fake))
    unicode16._translation.cache_clear()
    try:
        assert unicode16.translation()[ord("é")] == "\u0378"
        assert unicode16.split(regex.compile(r"\p{L}+|\S+|\s+"), "café au lait") == ["caf", "é", " ", "au", " ", "lait"]
    finally:
        monkeypatch.undo()
        unicode16._translation.cache_clear()
    assert unicode16.split(regex.compile(r"\p{L}+|\S+|\s+"), "café") == ["café"]
