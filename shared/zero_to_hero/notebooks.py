"""Run lecture walkthroughs as notebooks: each `lectures/*.py` (jupytext percent format) becomes an .ipynb,
executed cell by cell in a fresh Jupyter kernel, and is saved with its outputs.

    pip install jupytext nbclient ipykernel     # (or: pip install "./shared[notebooks]")
    python -m zero_to_hero.notebooks micrograd makemore --out out/notebooks          # fast mode
    python -m zero_to_hero.notebooks makemore/lectures/02_bigram.py --full             # the full lecture

`nox -s notebooks` runs every package's lectures this way. The three tools are needed here only, so they are
an optional extra, never a dependency of a lecture package. A notebook that raises stops the run with exit
status 1 and names the cell.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from zero_to_hero.errors import UserError, run_main


def lecture_files(targets: list[str]) -> list[Path]:
    """The walkthrough files named by `targets`: .py files, or package folders (their lectures/*.py)."""
    files = []
    for target in targets:
        path = Path(target)
        if path.is_file() and path.suffix == ".py":
            files.append(path)
        elif (path / "lectures").is_dir():
            files.extend(sorted((path / "lectures").glob("*.py")))
        else:
            raise UserError(f"{target}: neither a lectures/*.py file nor a package folder with a lectures/ folder")
    return files


def execute(path: Path, out_dir: Path, timeout: int) -> Path:
    """Convert `path` to a notebook, execute it with the package folder as working directory, save it."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    package_dir = path.resolve().parent.parent
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(package_dir)}}
    )
    target = out_dir / package_dir.name / (path.stem + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        client.execute()
    finally:
        nbformat.write(notebook, target)  # with the outputs so far, also when a cell failed
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", help="package folders (all their lectures) or lectures/*.py files")
    parser.add_argument("--out", default="out/notebooks", help="where the executed notebooks go")
    parser.add_argument("--full", action="store_true", help="full mode (default: fast mode, LECTURES_FAST=1)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one cell may run")
    args = parser.parse_args(argv)
    try:
        import jupytext  # noqa: F401
        import nbclient  # noqa: F401
    except ImportError as e:
        raise UserError(f"{e.name} is missing: pip install jupytext nbclient ipykernel") from None
    files = lecture_files(args.targets)
    out_dir = Path(args.out).resolve()
    os.environ["LECTURES_FAST"] = "0" if args.full else "1"  # the kernels inherit the environment
    os.environ.setdefault("LECTURES_OUT", str(out_dir))
    os.environ["MPLBACKEND"] = "Agg"
    from nbclient.exceptions import CellExecutionError

    failed = []
    for path in files:
        start = time.perf_counter()
        try:
            target = execute(path, out_dir, args.timeout)
        except CellExecutionError as e:
            failed.append(path)
            print(f"FAILED {path} ({time.perf_counter() - start:.1f} s)\n{str(e)[-3000:]}", flush=True)
        else:
            print(f"ok     {path} -> {target} ({time.perf_counter() - start:.1f} s)", flush=True)
    print(f"{len(files) - len(failed)} of {len(files)} notebooks ran")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
