"""train.py end to end: the lecture's run reaches 100% accuracy and writes its outputs; bad flags exit 2."""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "train.py"), *args], capture_output=True, text=True, cwd=ROOT, env=env
    )


def test_default_run_reaches_full_accuracy_and_writes_plot_graph_and_metrics(tmp_path):
    result = run("--out-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["accuracy"] == 1.0
    assert metrics["steps"] == 100 and metrics["parameters"] == 337 and metrics["seconds"] > 0
    assert 0 < metrics["loss"] < 0.05
    assert (tmp_path / "moons.png").read_bytes().startswith(b"\x89PNG")
    assert "shape=record" in (tmp_path / "neuron.dot").read_text()
    if shutil.which("dot"):
        assert "<svg" in (tmp_path / "neuron.svg").read_text()
    lines = [line for line in result.stdout.splitlines() if line.startswith("step")]
    assert len(lines) == 100 and lines[0].startswith("step 1/100 | loss ") and lines[-1].startswith("step 100/100")
    assert "lr 1.00e+00" in lines[0] and "ms/step" in lines[0] and "examples/s" in lines[0] and "ETA" in lines[0]


def test_without_dot_it_still_writes_the_dot_source(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # python runs by its full path; dot is not found
    result = run("--steps", "2", "--out-dir", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr
    assert "apt-get install graphviz" in result.stdout
    assert not (tmp_path / "out" / "neuron.svg").exists()
    assert (tmp_path / "out" / "neuron.dot").exists()
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["outputs"]["neuron_svg"] is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--steps", "0"], "error: --steps must be at least 1, got 0"),
        (["--out-dir", "FILE/sub"], "error: cannot write into --out-dir"),
        (["--out-dir", "FILE"], "is a file, not a folder"),
        (["--seed", "-1"], "error: --seed must be in [0, 2**32), got -1"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path, args, message):
    (tmp_path / "FILE").write_text("not a folder")
    args = [a.replace("FILE", str(tmp_path / "FILE")) for a in args]
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
