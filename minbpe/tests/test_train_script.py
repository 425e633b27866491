"""train.py end to end on a small file, and its user errors (exit 2, one line, no traceback)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from minbpe import BasicTokenizer, RegexTokenizer
from minbpe.compression import held_out_split

TRAIN_PY = Path(__file__).resolve().parents[1] / "train.py"
TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog {i * i}\n" for i in range(200))


def run(*args, cwd):
    return subprocess.run([sys.executable, str(TRAIN_PY), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_trains_saves_and_reports(tmp_path):
    (tmp_path / "input.txt").write_text(TEXT)
    result = run("--input", "input.txt", "--vocab-size", "300", "--out-dir", "o", "--pattern", "gpt2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "o"
    assert sorted(p.name for p in out.iterdir()) == [
        "basic.model", "basic.vocab", "metrics.json", "regex.model", "regex.vocab",
    ]  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    train, held_out = held_out_split(TEXT, 0.1)
    assert held_out.startswith("line 180: ") and train + held_out == TEXT
    assert (metrics["train_bytes"], metrics["held_out_bytes"]) == (len(train), len(held_out))
    for name, cls in [("basic", BasicTokenizer), ("regex", RegexTokenizer)]:
        tokenizer = cls().load(out / f"{name}.model")
        assert tokenizer.size == metrics[name]["vocab_size"] == 300
        assert metrics[name]["train_bytes_per_token"] == round(len(train) / len(tokenizer.encode(train)), 4)
        assert metrics[name]["held_out_bytes_per_token"] == round(len(held_out) / len(tokenizer.encode(held_out)), 4)
        assert metrics[name]["train_seconds"] > 0
        assert f"{name}: 300 tokens, trained in" in result.stdout
    assert RegexTokenizer().load(out / "regex.model").pattern.startswith("'(?:[sdmt]|ll|ve|re)")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--vocab-size", "256"], "--vocab-size must be above 256"),
        (["--held-out-fraction", "1"], "--held-out-fraction must be between 0 and 1"),
        (["--input", "missing.txt"], "missing.txt"),
        (["--input", "tiny.txt"], "tiny.txt is empty (no text to train on)"),
        (["--input", "short.txt"], "too short to split"),
        (["--out-dir", "tiny.txt/o"], "cannot write into --out-dir"),
    ],
)
def test_user_errors(tmp_path, args, message):
    (tmp_path / "tiny.txt").write_text("  \n\n ")
    (tmp_path / "short.txt").write_text("one line\n")
    result = run("--out-dir", "o", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "o").exists()


def test_help_explains_every_flag(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    flags = ["--input", "--vocab-size", "--held-out-fraction", "--tokenizers", "--pattern", "--out-dir", "--verbose"]
    assert all(flag in result.stdout for flag in flags)


def test_held_out_split():
    assert held_out_split("a\nb\nc\nd\n", 0.3) == ("a\nb\n", "c\nd\n")  # cut back to the last line break
    assert held_out_split("abcdefghij", 0.2) == ("abcdefgh", "ij")  # no line break: cut anywhere
    with pytest.raises(ValueError, match="between 0 and 1"):
        held_out_split("abc", 0.0)
