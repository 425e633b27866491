"""train.py end to end on a tiny word list, its errors, and the checkpoint it writes."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from wavenet.checkpoint import load_model
from wavenet.sampling import sample
from wavenet.training import lr_at, make_split, mean_per

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import train as train_script  # noqa: E402


@pytest.fixture
def word_file(tmp_path, words):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(words) + "\n")
    return path


@pytest.mark.parametrize("model", ["hierarchical", "dilated", "flat"])
def test_train_writes_everything(tmp_path, word_file, model, capsys):
    out = tmp_path / "out"
    argv = ["--model", model, "--input", str(word_file), "--steps", "40", "--batch-size", "8", "--out-dir", str(out)]
    metrics = train_script.main(argv + ["--log-every", "20", "--samples", "5", "--n-embd", "6", "--n-hidden", "16"])
    printed = capsys.readouterr().out
    assert printed.count("ETA") == 2 and "val loss" in printed
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == metrics
    for key in ("train_loss", "val_loss", "test_loss", "params", "steps", "seconds", "examples_per_s", "tokens_per_s"):
        assert key in saved
    assert saved["steps"] == 40 and saved["model"] == model and len(saved["samples"]) == 5
    assert 0 < saved["train_loss"] < math.log(23) + 0.5 and math.isfinite(saved["test_loss"])
    if model != "dilated":  # one context, one prediction
        assert saved["tokens_per_s"] == pytest.approx(saved["examples_per_s"])
    else:  # every character of each word: several predictions per example
        assert saved["tokens_per_s"] > 2 * saved["examples_per_s"]
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "samples.txt").read_text().splitlines() == saved["samples"]
    assert not list(out.glob("*.tmp"))

    # the checkpoint reloads into the same model: same test loss from the words it was split from
    model_back, vocab, kind = load_model(out / "model.pt")
    assert kind == model and not model_back.training
    assert sum(p.numel() for p in model_back.parameters()) == saved["params"]
    from wavenet.data import load_words, split_words
    from wavenet.training import evaluate

    _, _, test_words = split_words(load_words(str(word_file)), seed=42)
    assert evaluate(model_back, make_split(test_words, vocab, 8, kind)) == pytest.approx(saved["test_loss"], rel=1e-5)
    names = sample(model_back, vocab, 8, 10, torch.Generator().manual_seed(0))
    assert len(names) == 10 and all(set(n) <= set(vocab.itos[1:]) for n in names)


def test_unreadable_or_foreign_checkpoint_is_a_user_error(tmp_path):
    from wavenet.model import Config
    from zero_to_hero import UserError

    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match=f"checkpoint {bad} is corrupt or not a checkpoint"):
        load_model(bad)
    with pytest.raises(UserError, match=f"checkpoint {tmp_path} is a folder"):
        load_model(tmp_path)
    foreign = tmp_path / "foreign.pt"  # readable, but another program's dict
    torch.save({"model_state_dict": {"w": torch.zeros(2)}}, foreign)
    with pytest.raises(UserError, match="is not a wavenet checkpoint \\(KeyError"):
        load_model(foreign)
    wrong_shapes = tmp_path / "wrong.pt"  # our keys, tensors that don't fit the config
    config = Config(vocab_size=3, block_size=2, n_embd=2, n_hidden=4)
    state = {"kind": "hierarchical", "config": config.to_dict(), "chars": ".ab", "parameters": [torch.zeros(1)]}
    torch.save(state | {"buffers": []}, wrong_shapes)
    with pytest.raises(UserError, match="tensors do not fit the model"):
        load_model(wrong_shapes)


def run_cli(*args):
    return subprocess.run([sys.executable, "train.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--block-size", "6"], "block size must be a power of two"),
        (
            ["--block-size", "3", "--model", "dilated"],
            "for the dilated model, got 3; --model flat takes any block size",
        ),
        (["--block-size", "0", "--model", "flat"], "block size must be at least 1, got 0"),
        (["--input", "/nonexistent/names.txt"], "missing file"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--lr", "-1"], "--lr must be a positive number"),
        (["--lr", "nan"], "--lr must be a positive number"),
        (["--lr", "inf"], "--lr must be a positive number"),
        (["--threads", "0"], "--threads must be 'auto' or a whole number >= 1"),
        (["--device", "tpu"], "unknown device"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(args, message, tmp_path):
    result = run_cli(*args, "--out-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "metrics.json").exists()


def test_help_and_unknown_model():
    assert "--batch-size" in run_cli("--help").stdout
    result = run_cli("--model", "transformer")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_lecture_schedule_and_loss_curve():
    assert lr_at(149_999, 200_000, 0.1) == 0.1 and lr_at(150_000, 200_000, 0.1) == pytest.approx(0.01)
    assert mean_per([1, 2, 3, 4, 5], 2) == [1.5, 3.5, 5]


def test_flat_with_the_lectures_block_size_3(tmp_path, word_file):
    """--model flat takes block sizes that aren't powers of two; its checkpoint reloads with them."""
    out = tmp_path / "out"
    argv = ["--model", "flat", "--block-size", "3", "--input", str(word_file), "--steps", "30", "--batch-size", "8"]
    metrics = train_script.main(argv + ["--n-embd", "10", "--n-hidden", "200", "--samples", "3", "--out-dir", str(out)])
    assert metrics["model"] == "flat" and metrics["params"] == 23 * 10 + 30 * 200 + 2 * 200 + 200 * 23 + 23
    model_back, vocab, kind = load_model(out / "model.pt")
    assert kind == "flat" and model_back(torch.zeros(2, 3, dtype=torch.long)).shape == (2, len(vocab))


def test_bad_block_size_is_one_line(tmp_path):
    result = run_cli("--block-size", "3", "--out-dir", str(tmp_path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0  # one line: the problem and the fix
    assert "for the hierarchical model, got 3; --model flat takes any block size" in result.stderr


def test_out_dir_is_checked_before_training_and_a_model_is_not_overwritten(tmp_path, word_file):
    (tmp_path / "file").write_text("x")
    result = run_cli("--input", str(word_file), "--steps", "3", "--out-dir", str(tmp_path / "file"))
    assert result.returncode == 2 and "is a file, not a folder" in result.stderr and "step" not in result.stdout
    out = tmp_path / "out"
    assert run_cli("--input", str(word_file), "--steps", "3", "--out-dir", str(out)).returncode == 0
    saved = (out / "model.pt").read_bytes()
    again = run_cli("--input", str(word_file), "--steps", "3", "--out-dir", str(out), "--seed", "7")
    assert (
        again.returncode == 2 and "already holds a trained model.pt" in again.stderr and "--overwrite" in again.stderr
    )
    assert (out / "model.pt").read_bytes() == saved
    replaced = run_cli("--input", str(word_file), "--steps", "3", "--out-dir", str(out), "--seed", "7", "--overwrite")
    assert replaced.returncode == 0 and (out / "model.pt").read_bytes() != saved


def test_sample_py_samples_a_saved_model(tmp_path, word_file):
    out = tmp_path / "out"
    assert run_cli("--input", str(word_file), "--steps", "3", "--out-dir", str(out), "--model", "flat").returncode == 0
    sample_py = [sys.executable, "sample.py", "--out-dir", str(out), "-n", "5", "--seed", "3"]
    first = subprocess.run(sample_py, cwd=ROOT, capture_output=True, text=True, timeout=60)
    second = subprocess.run(sample_py, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"flat model from {out / 'model.pt'}:") and len(first.stdout.splitlines()) == 6
    assert first.stdout == second.stdout  # seeded
    missing = subprocess.run(
        [*sample_py[:2], "--out-dir", str(tmp_path / "none")], cwd=ROOT, capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"error: no checkpoint at {tmp_path / 'none' / 'model.pt'}")
    assert f"train one with `python train.py --out-dir {tmp_path / 'none'}` first" in missing.stderr


@pytest.mark.parametrize("n", [3, 4, 5, 7, 9, 10, 11, 100])
def test_tiny_word_lists_train_with_every_split_non_empty(n):
    from wavenet.data import split_words

    splits = split_words([f"w{i}" for i in range(n)], seed=0)
    assert all(len(words) >= 1 for words in splits) and sum(map(len, splits)) == n
