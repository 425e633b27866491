"""Loss and HellaSwag curves of a training run, from its <out_dir>/log.jsonl.

    python -m nanogpt.plot --out_dir=out/gpt2-fineweb                 # writes out/gpt2-fineweb/log.png
    python -m nanogpt.plot --out_dir=... --no-baselines               # without the GPT-2/GPT-3 124M lines

The horizontal lines are the lecture's final figure's (build-nanogpt's play.ipynb): OpenAI's GPT-2 124M
checkpoint, val loss 3.2924 on FineWeb-Edu's val shard and HellaSwag acc_norm 0.2945, and GPT-3 124M's
HellaSwag 0.337 (from GPT-3's paper) -- the marks a 124M reproduction is to beat.
"""

import argparse
import json
import math
from pathlib import Path

from zero_to_hero import UserError, run_main
from zero_to_hero.files import atomic_path, prepare_out_dir

# (label, value, colour) of each horizontal line, as the lecture's final figure draws them
BASELINES = {
    "loss": [("OpenAI GPT-2 (124M) checkpoint val", 3.2924, "r")],
    "hellaswag": [("OpenAI GPT-2 (124M) checkpoint", 0.2945, "r"), ("OpenAI GPT-3 (124M) checkpoint", 0.337, "g")],
}
FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "webp", "eps", "ps")  # what matplotlib's Agg backend writes


FIELDS = {"train": "loss", "eval": "val_loss", "hellaswag": "acc_norm"}  # the record type -> the value plotted
SERIES = {"train": "train", "eval": "val", "hellaswag": "hellaswag"}


def read_log(path) -> dict:
    """{'train': [(step, loss)], 'val': [(step, val_loss)], 'hellaswag': [(step, acc_norm)]} from log.jsonl.

    A last line cut short by a crash is skipped; any other line that is not a record of train.py's log (not
    JSON, not an object, a train/eval/hellaswag record without a numeric step and value) is one clear error
    naming the line. Records of other types (samples...) are not plotted."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no log at {path}; train first (train.py writes <out_dir>/log.jsonl)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text: not a log.jsonl written by train.py") from None
    except OSError as e:
        raise UserError(f"cannot read {path} ({(e.strerror or str(e)).lower()})") from None
    series = {"train": [], "val": [], "hellaswag": []}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):
                continue  # the last line, cut by a crash
            raise UserError(f"{path}, line {n}: not JSON ({line[:40]!r}); is this a log.jsonl of train.py?") from None
        if not isinstance(record, dict):
            raise UserError(f"{path}, line {n}: a JSON {type(record).__name__}, not a log record of train.py")
        kind = record.get("type")
        if kind not in FIELDS:
            continue
        step, value = record.get("step"), record.get(FIELDS[kind])
        if not _number(step) or not _number(value):
            raise UserError(
                f"{path}, line {n}: a {kind!r} record needs a numeric 'step' and {FIELDS[kind]!r}, "
                f"got step={step!r}, {FIELDS[kind]}={value!r}"
            )
        series[SERIES[kind]].append((step, value))
    if not series["train"] and not series["val"]:
        raise UserError(f"{path} holds no training or evaluation lines")
    return series


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_output(out_path) -> Path:
    """The PNG (or any format matplotlib writes, by its suffix) to write: its folder is created, and a folder,
    an unknown suffix or a folder that takes no files is one clear line — before any drawing."""
    out_path = Path(out_path)
    if out_path.is_dir():
        raise UserError(f"--output {out_path} is a folder; give a file name such as {out_path / 'log.png'}")
    suffix = out_path.suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise UserError(f"--output {out_path}: unknown image type {suffix or '(none)'!r}; use .png, .pdf or .svg")
    prepare_out_dir(out_path.parent, "--output's folder")
    return out_path


def draw(series: dict, baselines: bool = True):
    """The figure: losses (log scale) on the left, HellaSwag on the right, each with its baseline lines."""
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
    if series["hellaswag"]:
        right.plot(*zip(*series["hellaswag"], strict=True), label="ours (acc_norm)")
    for ax, kind in ((left, "loss"), (right, "hellaswag")):
        for label, value, colour in BASELINES[kind] if baselines else ():
            ax.axhline(value, color=colour, linestyle="--", label=label)
    left.set_xlabel("step"), left.set_ylabel("loss"), left.set_yscale("log"), left.legend()
    right.set_xlabel("step"), right.set_ylabel("HellaSwag acc_norm"), right.legend()
    return fig


def plot(series: dict, out_path, baselines: bool = True) -> Path:
    out_path = check_output(out_path)  # before drawing
    fig = draw(series, baselines)
    import matplotlib.pyplot as plt  # after draw(): it names a missing matplotlib in one line and picks Agg

    fig.tight_layout()
    try:
        with atomic_path(out_path) as tmp:  # a failed write leaves the previous figure, never half of one
            fig.savefig(tmp, dpi=100, format=out_path.suffix.lstrip(".").lower())
    except OSError as e:
        raise UserError(f"cannot write {out_path} ({(e.strerror or str(e)).lower()})") from None
    finally:
        plt.close(fig)
    return out_path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", required=True, help="the run's folder (holding log.jsonl)")
    parser.add_argument("--output", help="the PNG to write (default: <out_dir>/log.png)")
    parser.add_argument("--no-baselines", action="store_true", help="leave out the GPT-2/GPT-3 124M lines")
    args = parser.parse_args(argv)
    series = read_log(Path(args.out_dir) / "log.jsonl")
    path = plot(series, args.output or Path(args.out_dir) / "log.png", not args.no_baselines)
    last = {k: v[-1] for k, v in series.items() if v}
    print(f"wrote {path}; last: " + ", ".join(f"{k} {v[1]:.4f} at step {v[0]}" for k, v in last.items()))


if __name__ == "__main__":
    run_main(main)
