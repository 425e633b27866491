"""The original minbpe's results, files and call style work with ours (karpathy/minbpe, its tests and train.py).

Checked once by hand as well (2026-11-29): the original's tests/test_tokenizer.py, unchanged, passes against this
package (21 passed), and a .model file saved by the original loads here and encodes identically.
"""

import hashlib

import pytest
import tiktoken

import minbpe.base
from minbpe import BasicTokenizer, GPT4Tokenizer, RegexTokenizer
from minbpe.regex_tokenizer import GPT4_SPLIT_PATTERN
from zero_to_hero.datasets import read_text

# sha256 of the merges "a,b a,b ..." (in order) that the original minbpe learns on taylorswift to vocab 512,
# from running its BasicTokenizer / RegexTokenizer().train(text, 512) (2026-11-29, karpathy/minbpe master).
ORIGINAL_512 = {
    BasicTokenizer: "3cdcf7665d08f80888c80a51fcd35b04c294455b1763ede2332902dedf26ff08",
    RegexTokenizer: "07bf1d2bcee914fe1e335237eb5c707bbac5eec0929b2834b4d48399eaeedd23",
}


@pytest.mark.parametrize("cls", [BasicTokenizer, RegexTokenizer])
def test_taylorswift_512_learns_the_originals_merges(cls):
    # (the lecture's trainer learns the same merges as the fast one: test_training.py checks that on many texts)
    tokenizer = cls()
    tokenizer.train(read_text("taylorswift"), 512)
    flat = " ".join(f"{a},{b}" for a, b in tokenizer.merges)
    assert hashlib.sha256(flat.encode()).hexdigest() == ORIGINAL_512[cls]


def test_the_lecture_helpers_are_where_the_original_keeps_them():
    assert minbpe.base.get_stats([1, 2, 3, 1, 2]) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    counts = {(1, 2): 5}
    assert minbpe.base.get_stats([1, 2], counts) is counts and counts == {(1, 2): 6}
    assert minbpe.base.merge([1, 2, 3, 1, 2], (1, 2), 4) == [4, 3, 4]
    assert list(minbpe.base.get_stats([5, 6, 7])) == [(5, 6), (6, 7)]  # in the order they occur


SPECIALS = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258}
TEXT = "<|endoftext|>hello world<|fim_prefix|> again"


def test_the_originals_allowed_special_values():
    tokenizer = GPT4Tokenizer()
    enc = tiktoken.get_encoding("cl100k_base")
    assert tokenizer.encode(TEXT, "all") == enc.encode(TEXT, allowed_special="all")  # positional, as the original
    assert tokenizer.encode(TEXT, allowed_special="none") == enc.encode(TEXT, disallowed_special=())
    with pytest.raises(ValueError, match="special token '<\\|endoftext\\|>'"):
        tokenizer.encode(TEXT, allowed_special="none_raise")
    assert tokenizer.encode("plain", "none_raise") == enc.encode("plain")
    assert tokenizer.encode(TEXT, {"<|fim_prefix|>"}, disallowed_special=()) == enc.encode(
        TEXT, allowed_special={"<|fim_prefix|>"}, disallowed_special=()
    )


def original_model_file(path, pattern: str, merges: list[tuple[int, int]], special: dict[str, int], newline="\n"):
    """A .model file in the original's layout: version, raw pattern, special tokens, then merges to the end."""
    lines = ["minbpe v1", pattern, str(len(special))]
    lines += [f"{token} {token_id}" for token, token_id in special.items()]
    lines += [f"{a} {b}" for a, b in merges]
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("cls, pattern", [(BasicTokenizer, ""), (RegexTokenizer, GPT4_SPLIT_PATTERN)])
def test_the_originals_model_files_load(tmp_path, cls, pattern, newline):
    trained = cls() if not pattern else cls(pattern)
    trained.train("the cat sat on the mat with the hat " * 8, 256 + 20)
    trained.register_special_tokens({"<|endoftext|>": 100257})
    path = original_model_file(tmp_path / "orig.model", pattern, list(trained.merges), trained.special_tokens, newline)
    loaded = cls().load(path)
    assert loaded.merges == trained.merges and list(loaded.merges) == list(trained.merges)
    assert loaded.special_tokens == {"<|endoftext|>": 100257} and loaded.pattern == trained.pattern
    text = "the hat sat<|endoftext|>on a mat"
    assert loaded.encode(text, "all") == trained.encode(text, "all")


def test_our_files_are_v2_and_the_original_v1_is_told_apart(tmp_path):
    tokenizer = RegexTokenizer()
    tokenizer.train("aaabdaaabac", 259)
    tokenizer.save(tmp_path / "ours")
    assert (tmp_path / "ours.model").read_text().splitlines()[0] == "minbpe v2"
    # CRLF line ends on our own format load too
    crlf = (tmp_path / "ours.model").read_bytes().replace(b"\n", b"\r\n")
    (tmp_path / "crlf.model").write_bytes(crlf)
    assert RegexTokenizer().load(tmp_path / "crlf.model").merges == tokenizer.merges


@pytest.mark.parametrize(
    "body, line, message",
    [
        (["minbpe v1", "", "x"], 3, "expected the number of special tokens"),
        (["minbpe v1", "", "1"], 4, "file ends early: expected 1 special tokens"),
        (["minbpe v1", "", "0", "97 97", "97"], 5, "expected a merge"),
        (["minbpe v1", "", "0", "97 300"], 4, "does not exist yet"),
        (["minbpe v1", "", "1", "<|e|> 256", "97 97"], 4, "collides"),
        (["minbpe v1", "[a-", "0"], 2, "invalid split pattern"),
    ],
)
def test_a_broken_original_file_names_the_line(tmp_path, body, line, message):
    path = tmp_path / "bad.model"
    path.write_text("\n".join(body) + "\n")
    with pytest.raises(ValueError) as error:
        BasicTokenizer().load(path)
    assert str(error.value).startswith(f"{path}:{line}: ") and message in str(error.value)
    assert "original minbpe's v1 format" in str(error.value)


# karpathy/minbpe, minbpe/regex.py: GPT4_SPLIT_PATTERN as the original defines it (reference data, written out).
ORIGINAL_GPT4_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s+"""
)


@pytest.mark.parametrize(
    "text, original, tiktokens",
    [
        ("hello world\n   ", ["hello", " world", "\n", "   "], ["hello", " world", "\n   "]),
        ("a\n\n \t", ["a", "\n\n", " \t"], ["a", "\n\n \t"]),
        ("x \n", ["x", " \n"], ["x", " \n"]),  # no whitespace after the newline: the same
    ],
)
def test_regex_tokenizer_splits_as_the_original_and_gpt4_as_tiktoken(text, original, tiktokens):
    """RegexTokenizer() uses the original minbpe's GPT-4 pattern (no `\\s++$`): on text ending in a newline and
    whitespace it splits as the original does; GPT4Tokenizer keeps tiktoken's current cl100k pattern."""
    import regex

    assert RegexTokenizer().pattern == ORIGINAL_GPT4_PATTERN
    assert regex.findall(ORIGINAL_GPT4_PATTERN, text) == original == RegexTokenizer().split(text)
    gpt4 = GPT4Tokenizer()
    assert gpt4.pattern == tiktoken.get_encoding("cl100k_base")._pat_str
    assert gpt4.split(text) == tiktokens
    assert gpt4.encode_ordinary(text) == tiktoken.get_encoding("cl100k_base").encode_ordinary(text)
    trained = RegexTokenizer()
    trained.train(("ab\n  " * 3 + "ab ab\n \n") * 5 + text, 256 + 6)
    pieces = [list(piece.encode()) for piece in regex.findall(ORIGINAL_GPT4_PATTERN, text)]
    assert trained.encode_ordinary(text) == [i for piece in pieces for i in _apply(trained.merges, piece)]


def _apply(merges, ids):
    """The original's _encode_chunk: merge the pair with the lowest merge index until none is left."""
    while len(ids) >= 2:
        pairs = list(zip(ids, ids[1:], strict=False))
        pair = min(pairs, key=lambda p: merges.get(p, float("inf")))
        if pair not in merges:
            break
        ids = minbpe.base.merge(ids, pair, merges[pair])
    return ids
