"""save() / load(): round trips, the human-readable .vocab, and every kind of broken .model file."""

import pytest

from minbpe import BasicTokenizer, GPT4oTokenizer, RegexTokenizer
from minbpe.fileformat import render_token

TEXT = "hello world! Hello, World? 1234 hello\n\n\tworld 你好 😀 \\back\\slash\r\n"
SPECIAL = {"<|endoftext|>": 400, "<|line\nbreak|>": 401, "<|back\\slash|>": 402}


def trained(cls, special=False, **kwargs):
    tokenizer = cls(**kwargs)
    tokenizer.train(TEXT * 3, 300)
    if special:
        tokenizer.register_special_tokens(SPECIAL)
    return tokenizer


CASES = [
    (BasicTokenizer, {}),
    (RegexTokenizer, {}),
    (RegexTokenizer, {"pattern": r"\w+|\s+|[^\w\s]+|\r\n"}),  # a custom pattern with \r and \n escapes
]


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("cls, kwargs", CASES)
def test_round_trip(tmp_path, cls, kwargs, special):
    tokenizer = trained(cls, special, **kwargs)
    tokenizer.save(tmp_path / "tok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok.model", "tok.vocab"]  # no temporary files left
    loaded = cls().load(tmp_path / "tok.model")
    assert loaded.merges == tokenizer.merges and list(loaded.merges) == list(tokenizer.merges)
    assert loaded.special_tokens == tokenizer.special_tokens
    assert loaded.pattern == tokenizer.pattern and loaded.vocab == tokenizer.vocab
    text = TEXT + "".join(SPECIAL) if special else TEXT
    assert loaded.encode(text, allowed_special="all") == tokenizer.encode(text, allowed_special="all")


def test_model_file_format(tmp_path):
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 259)
    tokenizer.register_special_tokens({"<|end|>": 300})
    tokenizer.save(tmp_path / "tok")
    lines = (tmp_path / "tok.model").read_text().splitlines()
    assert lines[:2] == ["minbpe v2", "pattern "]
    assert lines[2] == "bytes " + " ".join(map(str, range(256)))
    assert lines[3:] == ["merges 3", "97 97", "256 97", "257 98", "special 1", "300 <|end|>"]
    # our files before v2 said "minbpe v1" in the same layout: still read
    (tmp_path / "old.model").write_text("\n".join(["minbpe v1", *lines[1:]]) + "\n")
    assert BasicTokenizer().load(tmp_path / "old.model").merges == tokenizer.merges


def test_pretrained_survives_save_and_load(tmp_path, pretrained):
    """GPT-4o's byte permutation, merges, pattern and special tokens, through a plain RegexTokenizer."""
    ours, theirs = pretrained("o200k_base")
    ours.save(tmp_path / "o200k")
    loaded = RegexTokenizer().load(tmp_path / "o200k.model")
    text = "Tokenizers are fun: 123456 ʕ•ᴥ•ʔ 👨‍👩‍👧 <|endoftext|>"
    assert loaded.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")
    assert type(ours) is GPT4oTokenizer and loaded.byte_ids == ours.byte_ids


def test_vocab_file_is_for_people(tmp_path):
    tokenizer = BasicTokenizer()
    tokenizer.train("é\n\n é\n\n é", 262)  # é is two bytes: c3 a9
    tokenizer.register_special_tokens({"<|end|>": 262})
    tokenizer.save(tmp_path / "tok")
    lines = (tmp_path / "tok.vocab").read_text().splitlines()
    assert lines[10] == "[\\u000a] 10"  # control characters escaped
    assert lines[0xC3] == "[\\xc3] 195"  # a lone UTF-8 lead byte shown as its hex value
    assert lines[97] == "[a] 97" and lines[92] == "[\\\\] 92"
    assert "[\\xc3][\\xa9] -> [é] 256" in lines  # partial bytes become a character
    assert lines[-1] == "[<|end|>] 262 special"
    assert len(lines) == 256 + 6 + 1


@pytest.mark.parametrize(
    "token, shown",
    [
        (b"hello", "hello"),
        (b" world", " world"),
        (b"\t\r\n", "\\u0009\\u000d\\u000a"),
        (b"\xe4\xbd", "\\xe4\\xbd"),  # the first two bytes of 你
        (b"\xe4\xbd\xa0", "你"),
        (b"a\\xb", "a\\\\xb"),  # a real backslash is doubled, so it cannot look like a byte escape
        (b"\xe2\x80\x8b", "\\u200b"),  # zero width space
        (b"\xff", "\\xff"),
    ],
)
def test_render_token(token, shown):
    assert render_token(token) == shown


def write_model(tmp_path, text: str | bytes):
    path = tmp_path / "bad.model"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


BYTES = " ".join(map(str, range(256)))
GOOD = f"minbpe v2\npattern \nbytes {BYTES}\nmerges 2\n97 97\n256 98\nspecial 1\n300 <|e|>\n"


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("", 1, "file ends early: expected the header"),
        ("minbpe v3\n", 1, "unsupported format version 'minbpe v3'"),
        ("PK\x03\x04 zip", 1, "not a minbpe model"),
        (GOOD.replace("pattern \n", "pattern [a-\n"), 2, "invalid split pattern"),
        (GOOD.replace("pattern \n", ""), 2, "expected 'pattern ...'"),
        (GOOD.replace(" 255\n", " 254\n"), 3, "byte ids must be 0..255, each once"),
        (GOOD.replace(" 255\n", "\n"), 3, "expected 256 non-negative integer(s)"),
        (GOOD.replace("merges 2", "merges two"), 4, "expected 1 non-negative integer(s) (number of merges)"),
        (GOOD.replace("256 98", "256 x"), 6, "expected 2 non-negative integer(s)"),
        (GOOD.replace("256 98", "257 98"), 6, "from a token that does not exist yet"),
        (GOOD.replace("256 98", "97 97"), 6, "appears twice"),
        (GOOD.split("256 98")[0], 6, "file ends early: expected 2 merges (truncated file?)"),
        (GOOD.replace("merges 2", "merges 3"), 7, "expected 2 non-negative integer(s)"),
        (GOOD.split("300 <|e|>")[0], 8, "file ends early: expected 1 special tokens"),
        (GOOD.replace("300 <|e|>", "257 <|e|>"), 8, "special token id 257 collides"),
        (GOOD.replace("300 <|e|>", "300"), 8, "special token text missing"),
        (GOOD + "extra\n", 9, "unexpected content after the last special token"),
        (GOOD.replace("special 1\n300 <|e|>", "special 2\n300 <|e|>\n301 <|e|>"), 9, "appears twice"),
        (GOOD.encode().replace(b"<|e|>", b"<|\xff|>"), 8, "not UTF-8 text"),
    ],
)
def test_broken_model_files(tmp_path, text, line, message):
    path = write_model(tmp_path, text)
    with pytest.raises(ValueError) as error:
        BasicTokenizer().load(path)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert message in str(error.value)


def test_good_model_file_loads(tmp_path):
    tokenizer = BasicTokenizer().load(write_model(tmp_path, GOOD))
    assert tokenizer.encode("aab<|e|>", allowed_special="all") == [257, 300]


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match=rf"^{tmp_path / 'nope.model'}: cannot read tokenizer model: No such file"):
        RegexTokenizer().load(tmp_path / "nope.model")


def test_wrong_class_for_the_model(tmp_path):
    trained(RegexTokenizer).save(tmp_path / "regex")
    trained(BasicTokenizer).save(tmp_path / "basic")
    with pytest.raises(ValueError, match=r"regex.model:2: model has a split pattern; load it with RegexTokenizer"):
        BasicTokenizer().load(tmp_path / "regex.model")
    with pytest.raises(ValueError, match=r"basic.model:2: model has no split pattern; load it with BasicTokenizer"):
        RegexTokenizer().load(tmp_path / "basic.model")


def test_failed_load_leaves_the_tokenizer_as_it_was(tmp_path):
    tokenizer = trained(BasicTokenizer)
    before = dict(tokenizer.merges)
    with pytest.raises(ValueError):
        tokenizer.load(write_model(tmp_path, GOOD.split("256 98")[0]))
    assert tokenizer.merges == before


@pytest.mark.parametrize("pattern, message", [("", "the split pattern is empty"), ("[a-", "invalid split pattern")])
def test_bad_patterns(pattern, message):
    with pytest.raises(ValueError, match=message):
        RegexTokenizer(pattern)
