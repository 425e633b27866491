"""train.py and sample.py as a user runs them: real processes, exit codes, files written."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1]


def run(script, *args, cwd):
    return subprocess.run([sys.executable, str(HERE / script), *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny training run shared by the tests below (~2 s)."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "text.txt").write_text("to be or not to be, that is the question\n" * 40)
    tiny = ["--n_layer=1", "--n_head=2", "--n_embd=16", "--block_size=16", "--batch_size=4", "--max_iters=30"]
    tiny += ["--lr_decay_iters=30", "--warmup_iters=5", "--eval_interval=15", "--eval_iters=2", "--log_interval=10"]
    result = run("train.py", *tiny, "--dataset=text.txt", "--device=cpu", "--out_dir=run", cwd=folder)
    return folder, result


def test_train_writes_checkpoint_metrics_and_prints_a_sample(trained):
    folder, result = trained
    assert result.returncode == 0, result.stderr
    metrics = json.loads((folder / "run/metrics.json").read_text())
    assert metrics["iters"] == 30 and metrics["val_loss"] < 3.0 and metrics["config"]["n_layer"] == 1
    assert (folder / "run/ckpt.pt").is_file() and (folder / "out/data/text-char/train.bin").is_file()
    assert "step 10/30 | loss " in result.stdout and " tokens/s | ETA " in result.stdout
    assert "eval iter 15: train loss" in result.stdout
    sample = result.stdout.split("-" * 40 + "\n")[1]
    assert len(sample) > 300 and set(sample) <= set("to be or not to be, that is the question\n")


def test_sample_is_seeded_and_reads_prompt_files(trained):
    folder, _ = trained
    args = ["--out_dir=run", "--max_new_tokens=40", "--num_samples=2", "--device=cpu"]
    a = run("sample.py", *args, "--seed=1", "--start=to be", cwd=folder)
    b = run("sample.py", *args, "--seed=1", "--start=to be", cwd=folder)
    c = run("sample.py", *args, "--seed=2", "--start=to be", cwd=folder)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout != c.stdout
    assert a.stdout.startswith("to be") and a.stdout.count("-" * 40) == 1
    (folder / "prompt.txt").write_text("to be")
    assert run("sample.py", *args, "--seed=1", "--start=FILE:prompt.txt", cwd=folder).stdout == a.stdout


def test_resume_from_the_cli_continues_to_the_new_max_iters(trained):
    folder, _ = trained
    result = run(
        "train.py",
        "--init_from=resume",
        "--out_dir=run",
        "--dataset=text.txt",
        "--max_iters=40",
        "--device=cpu",
        "--log_interval=10",
        "--eval_interval=10",
        "--eval_iters=2",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    assert "resumed from run/ckpt.pt at iter 30" in result.stdout and "step 40/40 |" in result.stdout
    assert json.loads((folder / "run/metrics.json").read_text())["iters"] == 40


@pytest.mark.parametrize(
    "script, args, message",
    [
        ("train.py", ["--n_layr=3"], "unknown arguments --n_layr=3; valid keys: out_dir, init_from"),
        ("train.py", ["--batch_size=big"], "config key 'batch_size' (from the command line) needs an integer"),
        ("train.py", ["missing_config.py"], "config file 'missing_config.py' not found"),
        ("train.py", ["--dataset=nope.txt", "--device=cpu"], "unknown data set or missing file 'nope.txt'"),
        ("train.py", ["--device=cuda:7"], "device 'cuda:7' asked for, but"),  # no CUDA, or fewer GPUs
        ("sample.py", ["--out_dir=nowhere"], "no checkpoint at nowhere/ckpt.pt"),
        ("sample.py", ["--out_dir=bad"], "checkpoint bad/ckpt.pt is corrupt"),
        ("sample.py", ["--out_dir=run", "--start=FILE:none.txt"], "cannot read prompt file none.txt"),
        ("sample.py", ["--out_dir=run", "--start=ZZZ"], "characters not in the vocabulary: 'Z'"),
        ("sample.py", ["--out_dir=run", "--temperature=-1"], "--temperature must be 0 (greedy) or"),
    ],
)
def test_user_errors_exit_2_with_one_line(trained, script, args, message):
    folder, _ = trained
    (folder / "bad").mkdir(exist_ok=True)
    (folder / "bad/ckpt.pt").write_bytes(b"\x00" * 100)
    result = run(script, *args, cwd=folder)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_help_explains_every_key():
    result = subprocess.run([sys.executable, str(HERE / "train.py"), "--help"], capture_output=True, text=True)
    from nanogpt.config import KEYS

    assert result.returncode == 0
    for key in KEYS:
        assert f"--{key}" in result.stdout
