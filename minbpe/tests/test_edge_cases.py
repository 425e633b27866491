"""Issue 25: the library's edge cases refused clearly, files the original minbpe reads, train.py keeps trained work."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minbpe import BasicTokenizer, GPT4Tokenizer, RegexTokenizer

TRAIN_PY = Path(__file__).resolve().parents[1] / "train.py"
TEXT = "the cat sat on the mat with the hat\nthe hat sat\n  " * 8


def original_load(model_file: str):
    """The original minbpe's Tokenizer.load (karpathy/minbpe, base.py), re-implemented step for step: returns
    (pattern, special_tokens, merges) as it would set them. Its asserts are kept: a file it refuses fails here."""
    assert model_file.endswith(".model")
    merges, special_tokens, idx = {}, {}, 256
    with open(model_file, encoding="utf-8") as f:  # text mode: universal newlines, as the original
        version = f.readline().strip()
        assert version == "minbpe v1"
        pattern = f.readline().strip()
        num_special = int(f.readline().strip())
        for _ in range(num_special):
            special, special_idx = f.readline().strip().split()
            special_tokens[special] = int(special_idx)
        for line in f:
            idx1, idx2 = map(int, line.split())
            merges[(idx1, idx2)] = idx
            idx += 1
    return pattern, special_tokens, merges


def original_decode(merges, special_tokens, ids) -> str:
    """The original's vocabulary (bytes, merges in order, then special tokens) and decode."""
    vocab = {i: bytes([i]) for i in range(256)}
    for (a, b), i in merges.items():
        vocab[i] = vocab[a] + vocab[b]
    for text, i in special_tokens.items():
        vocab[i] = text.encode("utf-8")
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


@pytest.mark.parametrize("cls", [BasicTokenizer, RegexTokenizer])
def test_v1_files_are_read_by_the_originals_load(tmp_path, cls):
    tokenizer = cls()
    tokenizer.train(TEXT, 256 + 30)
    tokenizer.register_special_tokens({"<|endoftext|>": 1000, "<|fim|>": 1001})
    tokenizer.save(str(tmp_path / "tok"), format="v1")
    lines = (tmp_path / "tok.model").read_text().splitlines()
    assert lines[:5] == ["minbpe v1", tokenizer.pattern, "2", "<|endoftext|> 1000", "<|fim|> 1001"]
    pattern, special, merges = original_load(str(tmp_path / "tok.model"))
    assert pattern == tokenizer.pattern and special == tokenizer.special_tokens
    assert merges == tokenizer.merges and list(merges) == list(tokenizer.merges)
    ids = tokenizer.encode("the hat<|fim|> sat", "all")
    assert original_decode(merges, special, ids) == tokenizer.decode(ids) == "the hat<|fim|> sat"
    loaded = cls().load(tmp_path / "tok.model")  # and ours reads it back
    assert loaded.merges == tokenizer.merges and loaded.special_tokens == tokenizer.special_tokens
    assert (tmp_path / "tok.vocab").is_file()


@pytest.mark.parametrize(
    "make, problem",
    [
        (GPT4Tokenizer, "single bytes are permuted"),
        (lambda: RegexTokenizer(r" \w+|\s+"), "whitespace at an end"),
        (lambda: RegexTokenizer("\\w+|\n"), "a line break"),
        (lambda: _with_special("<|end of text|>"), "special token '<|end of text|>' is not one word"),
        (lambda: _with_special("merges"), "would not read back the same"),
    ],
)
def test_tokenizers_that_do_not_fit_v1_are_refused_and_nothing_is_written(tmp_path, make, problem):
    tokenizer = make()
    with pytest.raises(ValueError, match=f"cannot save .* in the original minbpe's v1 format: .*{problem}"):
        tokenizer.save(str(tmp_path / "tok"), format="v1")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match='format must be "v2"'):
        BasicTokenizer().save(str(tmp_path / "tok"), format="v3")


def _with_special(text):
    tokenizer = BasicTokenizer()
    tokenizer.register_special_tokens({text: 300})
    return tokenizer


@pytest.mark.parametrize("text", ["\ud800", "ok\udfff", "<|\ud83d|>"])
def test_a_special_token_that_is_not_encodable_text_is_refused_and_not_kept(text):
    tokenizer = BasicTokenizer()
    tokenizer.register_special_tokens({"<|a|>": 300})
    with pytest.raises(ValueError, match="is not encodable text .*special tokens must be valid Unicode"):
        tokenizer.register_special_tokens({"<|b|>": 301, text: 302})
    assert tokenizer.special_tokens == {"<|a|>": 300} and sorted(tokenizer.vocab)[-1] == 300
    assert tokenizer.decode([300]) == "<|a|>"
    with pytest.raises(ValueError, match="has id True"):
        tokenizer.register_special_tokens({"<|c|>": True})


@pytest.mark.parametrize(
    "bad, message",
    [
        ([104, 1.0], r"token id 1\.0 is not in the vocabulary \(token ids are integers, got float\)"),
        ([True], r"token id True is not in the vocabulary \(token ids are integers, got bool\)"),
        ([104, -1], r"token id -1 is not in the vocabulary \(256 tokens\)"),
        ([256], r"token id 256 is not in the vocabulary"),
    ],
)
def test_decode_names_the_bad_id(bad, message):
    with pytest.raises(ValueError, match=message):
        BasicTokenizer().decode(bad)


def test_decode_takes_any_integers_and_refuses_a_lone_id():
    tokenizer = BasicTokenizer()
    assert tokenizer.decode(np.array([104, 105])) == tokenizer.decode([104, 105]) == "hi"
    for bad in (104, "hi", None):
        with pytest.raises(TypeError, match="ids must be a sequence of token ids"):
            tokenizer.decode(bad)


@pytest.mark.parametrize("cls", [BasicTokenizer, RegexTokenizer])
def test_text_that_is_not_a_str_or_empty_is_refused(cls):
    tokenizer = cls()
    with pytest.raises(TypeError, match=r"text must be a str, got bytes \(decode bytes first"):
        tokenizer.encode(b"abc")
    for call in (tokenizer.encode, tokenizer.encode_ordinary):
        with pytest.raises(TypeError, match="text must be a str, got NoneType"):
            call(None)
    with pytest.raises(TypeError, match="text must be a str, got list"):
        tokenizer.train(["abc"], 300)
    with pytest.raises(ValueError, match="the training text is empty"):
        tokenizer.train("", 300)
    assert tokenizer.merges == {}


def run(*args, cwd):
    return subprocess.run([sys.executable, str(TRAIN_PY), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_train_script_keeps_trained_models_unless_asked_and_writes_v1(tmp_path):
    (tmp_path / "in.txt").write_text("".join(f"line {i}: the quick brown fox {i * i}\n" for i in range(200)))
    args = ["--input", "in.txt", "--vocab-size", "280", "--out-dir", "o", "--tokenizers", "regex"]
    assert run(*args, cwd=tmp_path).returncode == 0
    before = (tmp_path / "o" / "regex.model").read_bytes()
    again = run(*args, "--vocab-size", "300", cwd=tmp_path)
    assert again.returncode == 2 and again.stderr == (
        "error: --out-dir o already holds trained regex.model; pass --overwrite to replace them, "
        "or choose another --out-dir\n"
    )
    assert (tmp_path / "o" / "regex.model").read_bytes() == before
    basic = run("--input", "in.txt", "--vocab-size", "280", "--out-dir", "o", "--tokenizers", "basic", cwd=tmp_path)
    assert basic.returncode == 0, basic.stderr  # only the tokenizers being trained count
    replaced = run(*args, "--vocab-size", "300", "--overwrite", "--format", "v1", cwd=tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    pattern, special, merges = original_load(str(tmp_path / "o" / "regex.model"))
    assert len(merges) == 300 - 256 and special == {} and pattern == RegexTokenizer().pattern
