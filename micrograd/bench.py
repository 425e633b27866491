"""Time this micrograd against the original (micrograd 0.1.0 from PyPI) on the same work.

    flock /tmp/z2h-cpu.lock python bench.py      # on a quiet machine; writes out/bench/bench.json

Both packages are imported as `micrograd`, so the original lives in its own virtualenv
(--venv, created on first use with `pip install micrograd==0.1.0`; never a dependency of ours) and
each side runs in a fresh subprocess of this same file (`--worker`). Both get the same JSON problem:
the moons data and the initial weights of MLP(2, [16, 16, 1]). Measured, with the interpreter's
default garbage collection:

  step   one full-batch moons training step: forward, backward, SGD update (the lecture's loop,
         identical code for both), seconds per step; plus ours through micrograd.moons.sgd, which
         pauses the cyclic collector during the step. Loss trajectories must agree to 1e-9.
  chain  backward() of a chain of --chain-depth relu nodes; the original's backward recurses, so its
         worker raises the recursion limit (ours needs no such thing).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- the worker: runs inside a subprocess, against whichever `micrograd` it can import ---------------


def lecture_step(MLP, Value, model, X, y, k, steps):
    """The moons demo's training step, written once for both packages."""
    scores = [model(list(map(Value, row))) for row in X]
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    loss = data_loss + reg_loss
    model.zero_grad()
    loss.backward()
    learning_rate = 1.0 - 0.9 * k / steps
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return loss.data


def worker(problem_path, result_path, package_root):
    if package_root:
        sys.path.insert(0, package_root)
    import micrograd
    from micrograd.engine import Value
    from micrograd.nn import MLP

    with open(problem_path, encoding="utf-8") as f:
        problem = json.load(f)
    X, y, steps = problem["X"], problem["y"], problem["steps"]

    def fresh_model():
        model = MLP(2, [16, 16, 1])
        for p, w in zip(model.parameters(), problem["weights"], strict=True):
            p.data = w
        return model

    result = {"module": os.path.dirname(micrograd.__file__), "runs": {}}
    model, losses, seconds = fresh_model(), [], []
    for k in range(steps):
        start = time.perf_counter()
        losses.append(lecture_step(MLP, Value, model, X, y, k, steps))
        seconds.append(time.perf_counter() - start)
    result["runs"]["lecture loop"] = {"losses": losses, "seconds": seconds}

    try:
        from micrograd.moons import sgd  # ours only
    except ImportError:
        pass
    else:
        model, losses, seconds = fresh_model(), [], []
        start = time.perf_counter()
        for _, loss, _, _ in sgd(model, X, y, steps):
            losses.append(loss)
            seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
        result["runs"]["micrograd.moons.sgd"] = {"losses": losses, "seconds": seconds}

    depth = problem["chain_depth"]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2 * depth + 1000))
    chain_seconds = []
    for _ in range(problem["chain_repeats"]):
        x = Value(1.0)
        out = x
        for _ in range(depth):
            out = out.relu()
        start = time.perf_counter()
        out.backward()
        chain_seconds.append(time.perf_counter() - start)
        assert x.grad == 1.0
        del out, x
    result["chain_seconds"] = chain_seconds
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


# ---- the driver --------------------------------------------------------------------------------------


def ensure_original(venv):
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print(f"creating {venv} with micrograd==0.1.0 (the original, for comparison only)")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    probe = subprocess.run([python, "-I", "-c", "import micrograd.engine"], capture_output=True)
    if probe.returncode != 0:
        install = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "micrograd==0.1.0"], capture_output=True, text=True
        )
        if install.returncode != 0:
            from zero_to_hero import UserError

            raise UserError(f"could not pip install micrograd==0.1.0 into {venv}: {install.stderr.strip()[-300:]}")
    return python


def run_worker(python, problem_path, result_path, package_root):
    cmd = [python, "-I", os.path.abspath(__file__), "--worker", problem_path, result_path, package_root]
    subprocess.run(cmd, check=True)
    with open(result_path, encoding="utf-8") as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="training steps timed per run (default 20)")
    parser.add_argument("--chain-depth", type=int, default=100_000, help="nodes in the deep chain (default 100000)")
    parser.add_argument("--chain-repeats", type=int, default=3, help="deep-chain backward() timings (default 3)")
    parser.add_argument("--seed", type=int, default=1337, help="data and initial weights (default 1337)")
    parser.add_argument("--venv", default="out/bench-venv", help="virtualenv for the original (default out/bench-venv)")
    parser.add_argument("--out-dir", default="out/bench", help="problem and results (default out/bench)")
    args = parser.parse_args()

    import random

    from micrograd.moons import make_moons
    from micrograd.nn import MLP
    from zero_to_hero import UserError
    from zero_to_hero.files import prepare_out_dir, write_json

    if args.steps < 1 or args.chain_depth < 1 or args.chain_repeats < 1:
        raise UserError("--steps, --chain-depth and --chain-repeats must be at least 1")
    prepare_out_dir(args.out_dir)
    X, y = make_moons(100, noise=0.1, seed=args.seed)
    random.seed(args.seed)
    problem = {
        "X": X.tolist(),
        "y": y.tolist(),
        "weights": [p.data for p in MLP(2, [16, 16, 1]).parameters()],
        "steps": args.steps,
        "chain_depth": args.chain_depth,
        "chain_repeats": args.chain_repeats,
    }
    problem_path = os.path.join(args.out_dir, "problem.json")
    with open(problem_path, "w", encoding="utf-8") as f:
        json.dump(problem, f)

    original_python = ensure_original(args.venv)
    original = run_worker(original_python, problem_path, os.path.join(args.out_dir, "original.json"), "")
    ours = run_worker(sys.executable, problem_path, os.path.join(args.out_dir, "ours.json"), HERE)
    assert original["module"] != ours["module"], "both workers imported the same micrograd"

    reference = original["runs"]["lecture loop"]
    rows = [("micrograd 0.1.0 (original)", "lecture loop", reference)]
    rows += [("this micrograd", name, run) for name, run in ours["runs"].items()]
    base = statistics.median(reference["seconds"])
    print(f"moons MLP(2, [16, 16, 1]), 100 points, {args.steps} steps; median seconds per step")
    print("| package | training loop | s/step | speed-up | max loss difference |")
    print("| --- | --- | --- | --- | --- |")
    summary = {"steps": args.steps, "seed": args.seed, "chain_depth": args.chain_depth, "rows": []}
    for package, loop, run in rows:
        median = statistics.median(run["seconds"])
        diff = max(abs(a - b) for a, b in zip(run["losses"], reference["losses"], strict=True))
        if diff > 1e-9:
            raise SystemExit(f"{package} ({loop}): losses differ from the original by {diff:.3g} > 1e-9")
        print(f"| {package} | {loop} | {median:.4f} | {base / median:.1f}x | {diff:.1e} |")
        summary["rows"].append({"package": package, "loop": loop, "s_per_step": median, "speedup": base / median})
        summary["rows"][-1]["max_loss_difference"] = diff

    chain_original = statistics.median(original["chain_seconds"])
    chain_ours = statistics.median(ours["chain_seconds"])
    print(f"\nbackward() of a {args.chain_depth}-node relu chain; median seconds")
    print(f"| micrograd 0.1.0 | {chain_original:.4f} |\n| this micrograd | {chain_ours:.4f} |")
    print(f"speed-up {chain_original / chain_ours:.1f}x")
    summary["chain"] = {"original_s": chain_original, "ours_s": chain_ours, "speedup": chain_original / chain_ours}
    write_json(os.path.join(args.out_dir, "bench.json"), summary)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:  # inside the original's virtualenv: no zero_to_hero there
        worker(*sys.argv[2:5])
    else:
        from zero_to_hero import run_main

        run_main(main)
