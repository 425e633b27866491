"""bench.py's worker on a tiny problem: it imports this micrograd and both training loops agree."""

import json
import os
import random
import subprocess
import sys

from micrograd.moons import make_moons
from micrograd.nn import MLP

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_worker_runs_the_lecture_loop_and_sgd_on_the_same_problem(tmp_path):
    X, y = make_moons(12, noise=0.1, seed=0)
    random.seed(0)
    weights = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    problem = {"X": X.tolist(), "y": y.tolist(), "weights": weights, "steps": 3, "chain_depth": 50}
    problem["chain_repeats"] = 2
    (tmp_path / "problem.json").write_text(json.dumps(problem))
    cmd = [sys.executable, "-I", os.path.join(ROOT, "bench.py"), "--worker"]
    cmd += [str(tmp_path / "problem.json"), str(tmp_path / "result.json"), ROOT]
    subprocess.run(cmd, check=True)
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["module"] == os.path.join(ROOT, "micrograd")  # -I: nothing but the given root
    lecture, ours = result["runs"]["lecture loop"], result["runs"]["micrograd.moons.sgd"]
    assert lecture["losses"] == ours["losses"] and len(lecture["losses"]) == 3
    assert all(loss > 0 for loss in lecture["losses"]) and len(set(lecture["losses"])) == 3
    assert len(result["chain_seconds"]) == 2
