"""The few lines every lecture walkthrough (`<package>/lectures/NN_<name>.py`) shares.

A walkthrough replays one lecture cell by cell (jupytext percent format: it runs as a script and opens
as a notebook). It starts with

    from zero_to_hero.lectures import Walkthrough
    lecture = Walkthrough("02")                  # the lecture's number in the course
    steps = lecture.steps(full=200_000, fast=2_000)
    ...
    lecture.result("nll", 2.4540, lecture=2.454)    # RESULT nll 2.4540 (lecture: 2.454)
    lecture.savefig(fig, "counts.png", docs=True)   # out/lectures/02/counts.png (+ docs/ with --save-docs)

Fast mode (`--fast` on the command line, or LECTURES_FAST=1 for notebooks) uses the small step counts;
the tests and `nox -s notebooks` run it. Figures go under $LECTURES_OUT/lectures/NN/ (default: out/ in the
current folder). Inside a Jupyter kernel sys.argv belongs to the kernel, so only `--fast` and `--save-docs`
are ever looked for there, and the environment variables work everywhere.

Exercises (`exercises_NN.py`) report each blank with an `Exercises` checker:

    exercises = Exercises()
    exercises.check("tanh backward", lambda: max_diff_of_learner_vs_torch(), tol=1e-6)
    exercises.summary()                          # EXERCISE lines, then "2 of 9 exercises done"

Tests parse the output with `parse_results` / `parse_exercises`, or run a file with `run_walkthrough`.
"""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

RESULT_LINE = re.compile(r"^RESULT (\S+) (.+?) \(lecture: (.*)\)$")
EXERCISE_LINE = re.compile(r"^EXERCISE (.+?): (not done|wrong|right|error)\b(.*)$")


def _flag(name: str) -> bool:
    return name in sys.argv[1:]


def fast_mode() -> bool:
    """True with `--fast` on the command line or LECTURES_FAST set to 1/true/yes."""
    return _flag("--fast") or os.environ.get("LECTURES_FAST", "").strip().lower() in ("1", "true", "yes")


def _format(value, fmt: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(int(value))
    return format(float(value), fmt)


class Walkthrough:
    """Mode, step counts, RESULT lines and figure files of one lecture walkthrough."""

    def __init__(self, number: str):
        self.number = number
        self.fast = fast_mode()
        self.save_docs = _flag("--save-docs")
        self.out_dir = Path(os.environ.get("LECTURES_OUT", "out")) / "lectures" / number
        self.out_dir.mkdir(parents=True, exist_ok=True)
        mode = "fast mode (small step counts)" if self.fast else "full mode (pass --fast for a quick run)"
        print(f"lecture {number}: {mode}; figures in {self.out_dir}")

    def steps(self, full: int, fast: int) -> int:
        """`full` normally, `fast` in fast mode."""
        return fast if self.fast else full

    def result(self, key: str, ours, lecture, fmt: str = ".4f") -> None:
        """Print `RESULT <key> <ours> (lecture: <theirs>)`: our number (formatted with `fmt`) beside the one the
        lecture shows, written as given (2.454 stays 2.454; a string such as "-" where the lecture has none)."""
        if not re.fullmatch(r"\S+", key):
            raise ValueError(f"a RESULT key is one word, got {key!r}")
        print(f"RESULT {key} {_format(ours, fmt)} (lecture: {_format(lecture, '')})")

    def savefig(self, fig, name: str, docs: bool = False, dpi: int = 100) -> Path:
        """Save a matplotlib figure as out/lectures/NN/<name>; with `--save-docs` and docs=True, in docs/ too."""
        path = self.out_dir / name
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        if docs and self.save_docs:
            docs_dir = Path(sys.argv[0]).resolve().parent.parent / "docs"  # <package>/lectures/x.py -> <package>/docs
            docs_dir.mkdir(exist_ok=True)
            fig.savefig(docs_dir / f"{self.number}_{name}", dpi=dpi, bbox_inches="tight")
        return path


class Exercises:
    """Runs each exercise check and says: not done, wrong (by how much), or right."""

    def __init__(self):
        self.status: dict[str, str] = {}

    def check(self, name: str, attempt, tol: float = 1e-6) -> str:
        """`attempt()` runs the learner's code and returns how far it is from the reference (a max abs diff,
        0.0 for an exact match, or a bool: True = right). NotImplementedError means the blank is not filled."""
        try:
            diff = attempt()
        except NotImplementedError:
            status = "not done"
        except Exception as e:  # the learner's code may fail in any way; say how, and go on to the next one
            status = f"error ({type(e).__name__}: {e})"
        else:
            if isinstance(diff, bool):
                status = "right" if diff else "wrong"
            elif diff is None or not math.isfinite(float(diff)) or float(diff) > tol:
                status = f"wrong (max diff {float(diff) if diff is not None else float('nan'):.3g})"
            else:
                status = f"right (max diff {float(diff):.3g})"
        self.status[name] = status
        print(f"EXERCISE {name}: {status}")
        return status

    @property
    def done(self) -> int:
        return sum(status.startswith("right") for status in self.status.values())

    def summary(self) -> None:
        print(f"{self.done} of {len(self.status)} exercises done")


def parse_results(text: str) -> dict[str, tuple[str, str]]:
    """{key: (ours, lecture)} from the RESULT lines of a walkthrough's output, as printed."""
    found = {}
    for line in text.splitlines():
        match = RESULT_LINE.match(line.strip())
        if match:
            found[match.group(1)] = (match.group(2), match.group(3))
    return found


def parse_exercises(text: str) -> dict[str, str]:
    """{exercise name: 'not done' | 'wrong' | 'right' | 'error'} from an exercise file's output."""
    found = {}
    for line in text.splitlines():
        match = EXERCISE_LINE.match(line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def run_walkthrough(path, out_dir, *args: str, timeout: float = 300, env: dict | None = None):
    """Run a walkthrough (or exercise file) in fast mode as a subprocess, figures under `out_dir`.

    Returns the CompletedProcess; raises AssertionError with its output if it failed."""
    path = Path(path)
    environment = {**os.environ, "LECTURES_OUT": str(out_dir), "MPLBACKEND": "Agg", **(env or {})}
    proc = subprocess.run(
        [sys.executable, str(path), "--fast", *args],
        capture_output=True,
        text=True,
        cwd=path.parent.parent,
        env=environment,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{path.name} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc
