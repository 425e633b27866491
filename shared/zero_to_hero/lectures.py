"""The few lines every lecture walkthrough (`<package>/lectures/NN_<name>.py`) shares.

A walkthrough replays one lecture cell by cell (jupytext percent format: it runs as a script and opens
as a notebook). It starts with

    from zero_to_hero.lectures import Walkthrough
    lecture = Walkthrough("02")                  # the lecture's number in the course
    steps = lecture.steps(full=200_000, fast=2_000)
    ...
    lecture.result("nll", 2.4540, lecture=2.454)    # RESULT nll 2.4540 (lecture: 2.454)
    lecture.savefig(fig, "counts.png", docs=True)   # out/lectures/02/counts.png (+ docs/ with --save-docs)
    lecture.savegraph(draw_dot(loss), "loss.png")   # a graphviz drawing: the PNG, and the SVG inline in a notebook
    lecture.show_png("run.png")                     # a PNG another program wrote into out/lectures/NN/: shown the same

Fast mode (`--fast` on the command line, or LECTURES_FAST=1 for notebooks) uses the small step counts;
the tests and `nox -s notebooks` run it. Figures go under $LECTURES_OUT/lectures/NN/ (default: out/ in the
current folder). In a Jupyter kernel (`in_notebook()`) every saved figure is also shown inline in its cell
and then closed, so it appears once, whatever matplotlib backend the walkthrough chose.

Run as a script, a walkthrough knows three flags (`--fast`, `--save-docs`, `--help`) and refuses any other
argument in one line with exit status 2, and a UserError (a missing data set without network or mirror, ...)
ends it with its one-line message and exit status 2, not a traceback; in a notebook the same error shows as
that one line. Inside a Jupyter kernel sys.argv belongs to the kernel, so only `--fast` and `--save-docs` are
ever looked for there, and the environment variables work everywhere.

Exercises (`exercises_NN.py`) report each blank with an `Exercises` checker:

    exercises = Exercises()
    exercises.check("tanh backward", lambda: max_diff_of_learner_vs_torch(), tol=1e-6)
    exercises.summary()                          # EXERCISE lines, then "2 of 9 exercises done"

Tests parse the output with `parse_results` / `parse_exercises`, or run a file with `run_walkthrough`.
"""

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from zero_to_hero.errors import UserError

RESULT_LINE = re.compile(r"^RESULT (\S+) (.+?) \(lecture: (.*)\)$")
EXERCISE_LINE = re.compile(r"^EXERCISE (.+?): (not done|wrong|right|error)\b(.*)$")


# the flags a walkthrough run as a script accepts (exercise files: the same; --save-docs does nothing there)
FLAGS = {
    "--fast": "small step counts (seconds, what the tests run); also LECTURES_FAST=1",
    "--save-docs": "also copy the figures the package's README shows into <package>/docs/",
    "--help": "show this message and exit",
}
INSTALL_DOT = (
    "install graphviz for its `dot` program (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
)


def _flag(name: str) -> bool:
    return name in sys.argv[1:]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (ipykernel running an IPython shell), where figures can be shown inline."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _display_png(data: bytes) -> None:
    from IPython.display import Image, display

    display(Image(data=data, format="png"))


def _usage(script: Path) -> str:
    """The walkthrough's title and first paragraph (its module docstring, or its first markdown cell) + flags."""
    main = sys.modules.get("__main__")
    text = (getattr(main, "__doc__", None) or "").strip()
    if not text:
        try:
            source = script.read_text(encoding="utf-8").splitlines()
        except OSError:
            source = []
        # the first `# %% [markdown]` cell (after jupytext's `# ---` header, if any): its comment lines
        first = next((k for k, line in enumerate(source) if line.startswith("# %% [markdown]")), None)
        lines = []
        for line in source[first + 1 :] if first is not None else []:
            if line.startswith("# %%") or not line.startswith("#"):
                break
            lines.append(line[2:] if line.startswith("# ") else line[1:])
        text = "\n".join(lines).strip()
    paragraphs = [re.sub(r"^#+\s*", "", p) for p in re.split(r"\n\s*\n", text) if p.strip()]  # no "# " heading
    intro = "\n\n".join(paragraphs[:2])
    flags = "\n".join(f"  {flag:<12} {help}" for flag, help in FLAGS.items())
    return (
        f"usage: python {script.name} [--fast] [--save-docs] [--help]\n\n{intro}\n\noptions:\n{flags}\n\n"
        "environment: LECTURES_FAST=1 (fast mode), LECTURES_OUT=<folder> (figures under <folder>/lectures/NN/, "
        "default out/)"
    )


def _one_line_errors(etype, value, tb, previous=sys.excepthook):
    """sys.excepthook of a walkthrough run as a script: a UserError is one line and exit status 2."""
    if issubclass(etype, UserError):
        print(f"error: {value}", file=sys.stderr)
        sys.stderr.flush()
        sys.exit(2)  # raised inside the hook, CPython exits with this status
    previous(etype, value, tb)


def _notebook_error(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for a UserError in a cell: the one-line message instead of a traceback."""
    stb = [f"error: {value}"]
    shell._showtraceback(etype, value, stb)
    return stb


def _as_script(caller_depth: int = 2) -> bool:
    """True when the walkthrough itself runs as `python lectures/x.py` (not imported, not in a kernel)."""
    return sys._getframe(caller_depth).f_globals.get("__name__") == "__main__" and not in_notebook()


def _check_arguments(script: Path) -> None:
    """`--help` prints the usage and exits 0; any argument other than FLAGS is one line and exit status 2."""
    arguments = sys.argv[1:]
    if "--help" in arguments or "-h" in arguments:
        print(_usage(script))
        sys.exit(0)
    unknown = [a for a in arguments if a not in FLAGS]
    if unknown:
        what = "flag" if unknown[0].startswith("-") else "argument"
        print(
            f"error: unknown {what} {unknown[0]!r} for {script.name}; known flags: {', '.join(FLAGS)}",
            file=sys.stderr,
        )
        sys.exit(2)


def _setup_errors() -> None:
    """One-line UserErrors: sys.excepthook as a script; IPython's custom exception handler in a kernel."""
    if in_notebook():
        from IPython import get_ipython

        get_ipython().set_custom_exc((UserError,), _notebook_error)
    else:
        sys.excepthook = _one_line_errors


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
        if _as_script():
            _check_arguments(Path(sys.argv[0]))
            _setup_errors()
        elif in_notebook():
            _setup_errors()
        self.number = number
        self.notebook = in_notebook()
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

    def savefig(self, fig, name: str, docs: bool = False, dpi: int = 100) -> None:
        """Save a matplotlib figure as out/lectures/NN/<name> (with `--save-docs` and docs=True, in docs/ too),
        show it inline when running in a notebook, and close it (so it is shown once and memory is freed).
        Returns nothing: a cell that ends with it shows the figure, not a path."""
        import matplotlib.pyplot as plt

        try:
            fig.savefig(self.out_dir / name, dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
        self.show_png(name, docs)

    def show_png(self, name: str, docs: bool = False) -> None:
        """out/lectures/NN/<name>, a PNG written by savefig or by another program (`python -m nanogpt.plot
        --output=...`): copied to docs/ like savefig's (with `--save-docs` and docs=True), shown inline in a
        notebook (the PNG itself: inline whatever matplotlib backend is in use, even Agg)."""
        path = self.out_dir / name
        self._copy_to_docs(path, docs)
        if self.notebook:
            _display_png(path.read_bytes())

    def savegraph(self, drawing, name: str, docs: bool = False):
        """Save a graphviz drawing (micrograd's draw_dot) as a PNG like savefig, and return it, so that as a
        cell's last expression it shows inline (SVG) in a notebook. Without graphviz's `dot` program, print one
        line saying how to get it, return None and go on."""
        if shutil.which("dot") is None:
            print(f"{name} not drawn: {INSTALL_DOT}")
            return None
        path = self.out_dir / name
        path.write_bytes(drawing.pipe(format="png"))
        self._copy_to_docs(path, docs)
        return drawing

    def _copy_to_docs(self, path: Path, docs: bool) -> None:
        if docs and self.save_docs:
            docs_dir = Path(sys.argv[0]).resolve().parent.parent / "docs"  # <package>/lectures/x.py -> <package>/docs
            docs_dir.mkdir(exist_ok=True)
            shutil.copyfile(path, docs_dir / f"{self.number}_{path.name}")


class Exercises:
    """Runs each exercise check and says: not done, wrong (by how much), or right."""

    def __init__(self):
        if _as_script():
            _check_arguments(Path(sys.argv[0]))
            _setup_errors()
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
