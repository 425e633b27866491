"""Loss and HellaSwag curves of a training run, from its <out_dir>/log.jsonl.

    python -m nanogpt.plot --out_dir=out/gpt2-fineweb                 # writes out/gpt2-fineweb/log.png
    python -m nanogpt.plot --out_dir=... --no-baselines               # without GPT-2 124M's lines

The horizontal lines are OpenAI's GPT-2 124M: val loss 3.2924 on FineWeb-Edu's val shard and HellaSwag
acc_norm 0.2955 (the figures of the course's GPT-2 reproduction), to be beaten.
"""

import argparse
import json
from pathlib import Path

from zero_to_hero import UserError, run_main

GPT2_124M = {"val_loss": 3.2924, "hellaswag": 0.2955}


def read_log(path) -> dict:
    """{'train': [(step, loss)], 'val': [(step, val_loss)], 'hellaswag': [(step, acc_norm)]} from log.jsonl."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no log at {path}; train first (train.py writes <out_dir>/log.jsonl)")
    series = {"train": [], "val": [], "hellaswag": []}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash
        kind, step = record.get("type"), record.get("step")
        if kind == "train":
            series["train"].append((step, record["loss"]))
        elif kind == "eval":
            series["val"].append((step, record["val_loss"]))
        elif kind == "hellaswag":
            series["hellaswag"].append((step, record["acc_norm"]))
    if not series["train"] and not series["val"]:
        raise UserError(f"{path} holds no training or evaluation lines")
    return series


def plot(series: dict, out_path, baselines: bool = True) -> Path:
    try:
        import matplotlib
    except ImportError:
        raise UserError("plotting needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    for name, label in (("train", "train loss"), ("val", "val loss")):
        if series[name]:
            left.plot(*zip(*series[name], strict=True), label=label)
    if baselines:
        left.axhline(GPT2_124M["val_loss"], color="r", linestyle="--", label="OpenAI GPT-2 (124M) val")
    left.set_xlabel("step"), left.set_ylabel("loss"), left.set_yscale("log"), left.legend()
    if series["hellaswag"]:
        right.plot(*zip(*series["hellaswag"], strict=True), label="ours (acc_norm)")
    if baselines:
        right.axhline(GPT2_124M["hellaswag"], color="r", linestyle="--", label="OpenAI GPT-2 (124M)")
    right.set_xlabel("step"), right.set_ylabel("HellaSwag acc_norm"), right.legend()
    out_path = Path(out_path)
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
    return out_path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", required=True, help="the run's folder (holding log.jsonl)")
    parser.add_argument("--output", help="the PNG to write (default: <out_dir>/log.png)")
    parser.add_argument("--no-baselines", action="store_true", help="leave out GPT-2 124M's horizontal lines")
    args = parser.parse_args(argv)
    series = read_log(Path(args.out_dir) / "log.jsonl")
    path = plot(series, args.output or Path(args.out_dir) / "log.png", not args.no_baselines)
    last = {k: v[-1] for k, v in series.items() if v}
    print(f"wrote {path}; last: " + ", ".join(f"{k} {v[1]:.4f} at step {v[0]}" for k, v in last.items()))


if __name__ == "__main__":
    run_main(main)
