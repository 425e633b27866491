"""train.py end to end on a tiny file: every stage, metrics.json, plots, determinism, and user mistakes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from makemore.data import Vocab, build_windows, split_words
from makemore.diagnostics import UpdateRatios
from makemore.stages import STAGES, Config, Run, run_stage
from zero_to_hero import UserError

HERE = Path(__file__).resolve().parent.parent
# 80 made-up names: consonant-vowel-consonant, enough for an 80/10/10 split
WORDS = [a + b + c for a in "bdkm" for b in "aeiou" for c in "lnrs"]
FAST = dict(steps=60, batch_size=16, n_hidden=16)


@pytest.fixture
def words_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return str(path)


def stage(model, words_file, out_dir, **kwargs):
    fast = {} if model == "bigram-counts" else FAST if model != "bigram" else dict(steps=60)
    config = Config(model=model, input=words_file, out_dir=str(out_dir), device="cpu", log=False, **{**fast, **kwargs})
    return run_stage(config)


PLOTS = {
    "bigram-counts": ["bigram_counts.png"],
    "bigram": ["loss.png"],
    "mlp": ["loss.png", "lr_finder.png"],
    "bn-mlp": ["loss.png", "activations.png", "activation_grads.png", "weight_grads.png", "update_ratios.png",
               "activations_init.png", "activation_grads_init.png", "weight_grads_init.png"],
    "manual-mlp": ["loss.png"],
}  # fmt: skip


@pytest.mark.parametrize("model", list(STAGES))
def test_builders_only_build(model, tmp_path):
    """A stage's builder makes its model and training step: no files, no training, no log lines."""
    c = Config(model=model, out_dir=str(tmp_path), device="cpu", **({} if model == "bigram-counts" else FAST))
    c = c.resolved()
    vocab = Vocab.from_words(WORDS)
    data = {name: list(build_windows(ws, vocab, c.block_size)) for name, ws in zip("train val test".split(),
            split_words(WORDS, c.seed), strict=True)}  # fmt: skip
    run = Run(c, WORDS, vocab, data, torch.Generator().manual_seed(0), torch.device("cpu"), tmp_path, UpdateRatios())
    built, train_step = STAGES[model].build(run)
    assert list(tmp_path.iterdir()) == [] and run.update_ratios.calls == 0
    X, Y = data["train"]
    assert built(X[:5]).shape == (5, len(vocab))
    assert (train_step is None) == (model == "bigram-counts")
    if train_step is not None:  # the step it returns trains the model it returns
        before = built(X).detach().clone()
        train_step(X[:16], Y[:16], 0.1)
        assert not torch.equal(built(X).detach(), before)


@pytest.mark.parametrize("model", list(PLOTS))
def test_every_stage_writes_metrics_plots_and_samples(model, words_file, tmp_path):
    metrics = stage(model, words_file, tmp_path / "out")
    on_disk = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert on_disk == metrics
    for key in ("train_loss", "val_loss", "test_loss", "steps", "seconds", "params"):
        assert key in metrics
    assert 0 < metrics["train_loss"] < 3.5 and 0 < metrics["val_loss"] < 4
    assert len(metrics["samples"]) == 20
    assert all(set(w) <= set("bdkmaeioulnrs") for w in metrics["samples"])
    for name in PLOTS[model]:
        assert (tmp_path / "out" / name).read_bytes()[:4] == b"\x89PNG", name
    if model == "bigram-counts":
        assert metrics["params"] == 0 and metrics["steps"] == 0
        # every name is 3 letters from fixed sets: the smoothed bigram NLL is known in closed form only
        # roughly, but it must be below the uniform model's ln(14)
        assert metrics["dataset_nll_unsmoothed"] < metrics["dataset_nll"] < 2.64
    else:
        assert metrics["steps"] == metrics["config"]["steps"] > 0 and metrics["params"] > 0
    if model == "bigram":  # the counting model on the same split, for comparison
        assert 0 < metrics["counts_train_loss"] < 3.5 and 0 < metrics["counts_val_loss"] < 4


def test_seeded_runs_are_identical(words_file, tmp_path):
    a = stage("manual-mlp", words_file, tmp_path / "a")
    b = stage("manual-mlp", words_file, tmp_path / "b")
    c = stage("manual-mlp", words_file, tmp_path / "c", seed=7)
    for key in ("train_loss", "val_loss", "test_loss", "samples"):
        assert a[key] == b[key]
        assert a[key] != c[key]


def test_bigram_nll_of_the_names_data_set(tmp_path):
    """The lecture's figure: 2.4540 unsmoothed, 2.4546 with +1 smoothing, over all 228,146 bigrams."""
    metrics = run_stage(Config(model="bigram-counts", out_dir=str(tmp_path), device="cpu", log=False, samples=0))
    assert round(metrics["dataset_nll_unsmoothed"], 4) == 2.4540
    assert round(metrics["dataset_nll"], 4) == 2.4546


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(model="gpt"), "unknown model"),
        (dict(model="bigram", block_size=3), "one previous character"),
        (dict(steps=-1), "--steps"),
        (dict(lr=0.0), "--lr"),
        (dict(block_size=0), "--block-size"),
        (dict(model="bn-mlp", batch_size=1), "at least 2"),
        (dict(device="tpu"), "unknown device"),
    ],
)
def test_bad_settings_are_user_errors(kwargs, message, words_file, tmp_path):
    with pytest.raises(UserError, match=message):
        run_stage(Config(input=words_file, out_dir=str(tmp_path), log=False, **kwargs))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b" \n\n\t\n", "no usable lines"),
        (b"anna\n\xc3\x28bob\n", "not UTF-8"),
        (b"j.r.r.\nanna\n", "contains '.'"),
        (b"anna\nbob\n", "need at least 3 words for a train/val/test split, got 2"),
    ],
)
def test_bad_input_files_are_user_errors(content, message, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        run_stage(Config(input=str(path), out_dir=str(tmp_path / "out"), device="cpu", log=False))
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_user_errors_exit_2_without_traceback(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"anna\n\xff\xfebob\n")
    result = subprocess.run(
        [sys.executable, "train.py", "--input", str(path), "--out-dir", str(tmp_path / "out"), "--device", "cpu"],
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_explains_every_flag():
    result = subprocess.run([sys.executable, "train.py", "--help"], cwd=HERE, capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--model", "--steps", "--batch-size", "--lr", "--block-size", "--seed", "--device", "--input",
                 "--out-dir", "--n-embd", "--n-hidden", "--l2", "--threads", "--samples"):  # fmt: skip
        assert flag in result.stdout
    assert "bigram-counts" in result.stdout and "manual-mlp" in result.stdout
