"""to_tiktoken(): a tokenizer trained here, run by tiktoken, must encode exactly as ours does."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minbpe import GPT2_SPLIT_PATTERN, GPT4O_SPLIT_PATTERN, RegexTokenizer
from zero_to_hero.datasets import read_text


@pytest.fixture(scope="module")
def taylorswift():
    text = read_text("taylorswift")
    return text[:150_000], text[150_000:]  # train / held out


@pytest.mark.parametrize("pattern", [None, GPT2_SPLIT_PATTERN, GPT4O_SPLIT_PATTERN], ids=["gpt4", "gpt2", "gpt4o"])
def test_real_text(taylorswift, pattern):
    train, held_out = taylorswift
    tokenizer = RegexTokenizer(pattern)
    tokenizer.train(train, 512)
    tokenizer.register_special_tokens({"<|endoftext|>": 512, "<|pad|>": 520})
    encoding = tokenizer.to_tiktoken("taylor")
    assert encoding.name == "taylor" and encoding.n_vocab == 521
    text = held_out + "<|endoftext|>" + train[:5000] + "<|pad|>"
    for options in [{"allowed_special": "all"}, {"disallowed_special": ()}]:
        assert encoding.encode(text, **options) == tokenizer.encode(text, **options)
    assert encoding.decode(tokenizer.encode(held_out)) == held_out


@pytest.fixture(scope="module")
def small():
    tokenizer = RegexTokenizer()
    tokenizer.train("The quick brown fox jumps over the lazy dog; 12345 dogs! 狐狸 🦊🦊 " * 4, 330)
    return tokenizer, tokenizer.to_tiktoken()


@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=100))
def test_generated_text(small, text):
    tokenizer, encoding = small
    assert encoding.encode_ordinary(text) == tokenizer.encode_ordinary(text)


@given(st.lists(st.sampled_from(["ab", "abc", "bc", "cab", " ", "a", "c\n", "ca", "bca", "aaa", "cc"]), min_size=1))
def test_trained_on_generated_text(parts):
    """Merges learned by training have always been reproducible by tiktoken (refusals are tested below)."""
    text = "".join(parts)
    tokenizer = RegexTokenizer(r"\S+|\s+")
    tokenizer.train(text, 300)
    probe = text + " abcabc bcab cabca aabbcc aaaa"
    assert tokenizer.to_tiktoken().encode(probe) == tokenizer.encode(probe)


def model_with_merges(tmp_path, merges: list[str]):
    # In .model files a backslash is written twice (newlines as \n), so the pattern \S+|\s+ reads:
    lines = ["minbpe v1", r"pattern \\S+|\\s+", "bytes " + " ".join(map(str, range(256))), f"merges {len(merges)}"]
    (tmp_path / "m.model").write_text("\n".join([*lines, *merges, "special 0"]) + "\n")
    return RegexTokenizer().load(tmp_path / "m.model")


def test_refuses_two_tokens_with_the_same_bytes(tmp_path):
    tokenizer = model_with_merges(tmp_path, ["97 98", "256 99", "98 99", "97 258"])  # 257 and 259 are both "abc"
    with pytest.raises(ValueError, match=r"tokens 257 and 259 have the same bytes b'abc'"):
        tokenizer.to_tiktoken()


def test_refuses_merges_that_tiktoken_cannot_rebuild(tmp_path):
    # "abc" was made from "ab" + "c", but "bc" has a lower rank, so tiktoken would build "a" + "bc".
    tokenizer = model_with_merges(tmp_path, ["98 99", "97 98", "257 99"])
    with pytest.raises(ValueError, match=r"does not rebuild token 258 from its merge \(257, 99\)"):
        tokenizer.to_tiktoken()
    assert tokenizer.encode("abc") == [97, 256]  # why: our encoder applies "bc" first too, never reaching 258


def test_pretrained_round_trip(gpt4):
    ours, theirs = gpt4
    encoding = ours.to_tiktoken("cl100k_copy")
    assert encoding._mergeable_ranks == theirs._mergeable_ranks
    assert encoding._special_tokens == theirs._special_tokens and encoding._pat_str == theirs._pat_str
