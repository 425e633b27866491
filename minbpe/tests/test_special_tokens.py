"""Special tokens with tiktoken's semantics, checked against tiktoken's cl100k_base."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minbpe import BasicTokenizer, RegexTokenizer

TEXT = "<|fim_prefix|>def f():<|fim_suffix|>\n    return 1<|fim_middle|>  <|endoftext|>end<|endoftext|>"


def same_outcome(ours, theirs, text, **kwargs):
    """Both return the same ids, or both raise ValueError."""
    try:
        expected = theirs.encode(text, **kwargs)
    except ValueError:
        with pytest.raises(ValueError, match="text contains the special token"):
            ours.encode(text, **kwargs)
        return None
    assert ours.encode(text, **kwargs) == expected
    return expected


OPTIONS = [
    {},
    {"allowed_special": "all"},
    {"allowed_special": {"<|endoftext|>"}},
    {"allowed_special": {"<|endoftext|>"}, "disallowed_special": ()},
    {"allowed_special": {"<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"}, "disallowed_special": ()},
    {"disallowed_special": ()},
    {"disallowed_special": {"<|fim_middle|>"}},
    {"disallowed_special": {"return"}},  # any string can be forbidden
    {"allowed_special": "all", "disallowed_special": ()},
    {"allowed_special": {"not a special token"}, "disallowed_special": ()},  # ignored, as in tiktoken
]


@pytest.mark.parametrize("options", OPTIONS, ids=range(len(OPTIONS)))
def test_like_tiktoken(gpt4, options):
    ours, theirs = gpt4
    for text in [TEXT, "no special tokens here", "<|endoftext|>", "<|endoftext|", "<|endoftext|><|endoftext|>"]:
        same_outcome(ours, theirs, text, **options)


def test_outcomes(gpt4):
    ours, _ = gpt4
    with pytest.raises(ValueError, match=r"special token '<\|fim_prefix\|>', which is not allowed"):
        ours.encode(TEXT)  # the default guards against control tokens in user text
    ids = ours.encode(TEXT, allowed_special="all")
    assert ids[0] == 100258 and ids.count(100257) == 2
    assert ours.decode(ids) == TEXT
    ordinary = ours.encode(TEXT, disallowed_special=())
    assert ordinary == ours.encode_ordinary(TEXT) and 100257 not in ordinary
    assert ours.decode(ordinary) == TEXT


@given(st.lists(st.sampled_from(["<|endoftext|>", "<|fim_prefix|>", "<|endofprompt|>", "<|", "|>", "a", " ", "\n"])))
def test_generated(gpt4, parts):
    ours, theirs = gpt4
    text = "".join(parts)
    for options in OPTIONS:
        same_outcome(ours, theirs, text, **options)


@pytest.mark.parametrize("bad", ["none", "<|endoftext|>", "None"])
def test_a_bare_string_is_not_a_set(gpt4, bad):
    ours, _ = gpt4
    if bad != "none":  # "none" (and "none_raise") are the original minbpe's allowed_special values
        with pytest.raises(ValueError, match='expected "all" or a set of strings'):
            ours.encode("hi", allowed_special=bad)
    with pytest.raises(ValueError, match='expected "all" or a set of strings'):
        ours.encode("hi", disallowed_special=bad)


@pytest.mark.parametrize("cls", [BasicTokenizer, RegexTokenizer])
def test_registered_on_a_trained_tokenizer(cls):
    tokenizer = cls()
    tokenizer.train("hello world, hello you", 260)
    tokenizer.register_special_tokens({"<|end|>": 300, "<|endoftext|>": 301})  # one is a prefix of the other
    text = "hello<|end|>world<|endoftext|>"
    ids = tokenizer.encode(text, allowed_special="all")
    assert ids == tokenizer.encode("hello") + [300] + tokenizer.encode("world") + [301]
    assert tokenizer.decode(ids) == text
    assert tokenizer.encode(text, allowed_special={"<|end|>"}, disallowed_special=()) == (
        tokenizer.encode("hello") + [300] + tokenizer.encode_ordinary("world<|endoftext|>")
    )


@pytest.mark.parametrize(
    "tokens, message",
    [
        ({"<|x|>": 259}, "collides with a byte or a merge; use an id >= 260"),
        ({"<|x|>": 65}, "collides with a byte or a merge"),
        ({"<|x|>": -1}, "collides with a byte or a merge"),
        ({"<|x|>": "300"}, "has id '300'"),
        ({"": 300}, "must be a non-empty str"),
        ({"<|x|>": 300, "<|y|>": 300}, r"\[300\] used more than once"),
    ],
)
def test_register_errors(tokens, message):
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 260)
    with pytest.raises(ValueError, match=message):
        tokenizer.register_special_tokens(tokens)
    assert tokenizer.special_tokens == {}  # nothing half-registered


def test_register_collision_with_an_existing_special_token():
    tokenizer = BasicTokenizer()
    tokenizer.register_special_tokens({"<|a|>": 300})
    with pytest.raises(ValueError, match=r"\[300\] used more than once"):
        tokenizer.register_special_tokens({"<|b|>": 300})
    tokenizer.register_special_tokens({"<|a|>": 301})  # re-registering a token moves it
    assert tokenizer.special_tokens == {"<|a|>": 301} and tokenizer.decode([301]) == "<|a|>"
