"""Run lecture walkthroughs as notebooks: each `lectures/*.py` (jupytext percent format) becomes an .ipynb,
executed cell by cell in a fresh Jupyter kernel, and is saved with its outputs; with `--html`, each walkthrough
is also rendered to a static HTML page (nbconvert), with an index page in lecture order: the course as pages.

    pip install jupytext nbclient ipykernel nbconvert    # (or: pip install "./shared[notebooks]")
    python -m zero_to_hero.notebooks micrograd makemore --out out/notebooks          # fast mode
    python -m zero_to_hero.notebooks makemore/lectures/02_bigram.py --full             # the full lecture
    python -m zero_to_hero.notebooks micrograd --html out/pages                       # + out/pages/index.html

`nox -s notebooks` runs every package's lectures this way (and renders and browser-checks the pages); `nox -s book`
builds the full-mode pages into out/book/. These tools are needed here only, so they are an optional extra,
never a dependency of a lecture package. A notebook that raises is reported with the failing cell, the other
notebooks still run, and the run ends with exit status 1; so does a walkthrough that shows fewer figures inline
than it saved (a figure saved some other way than `lecture.savefig`/`lecture.savegraph`), or none at all.
"""

import argparse
import datetime
import os
import re
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


IMAGE_TYPES = ("image/png", "image/svg+xml")
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")
WALKTHROUGH = re.compile(r"^\d\d_\w+\.py$")  # NN_<name>.py; exercises_NN.py show no figures

# Full mode keeps every walkthrough under 10 minutes on a 2-core CPU; where the lecture's own run is longer, these
# cells train less than the lecture does (from each walkthrough's text). The book's page for that lecture says so.
SHORTER_THAN_THE_LECTURE = {
    "04_batchnorm": 'the five training runs of the loss log ("fixing the initial loss" to "add a batch norm '
    'layer") train 50,000 steps each where the lecture trains 200,000 (`LECTURE04_LOG_STEPS=200000` runs the '
    "lecture's count), so their losses are 0.03–0.1 higher; the deep BatchNorm net of the diagnostics trains "
    "30,000 steps (`python train.py --model bn-mlp` runs 200,000).",
    "06_wavenet": "every row of the performance log trains 40,000 steps where the lecture trains 200,000 (the "
    "walkthrough prints the `python train.py ...` command that runs 200,000).",
    "07_gpt": "each stage of the build trains 3,000 steps, and the scaled-up GPT is 4 layers of 128 channels trained "
    "1,500 steps on the CPU, where the lecture trains 6 layers of 384 channels for 5,000 steps on an A100 "
    "(`python train.py configs/shakespeare_char.py` on a GPU).",
    "09_gpt2": "the GPT-2 run is a small model trained a few hundred steps on Shakespeare, where the lecture trains "
    "GPT-2 (124M) on 10B tokens of FineWeb-Edu on 8 GPUs; the speed-up measurements use a 4-layer model.",
}


def count_images(notebook) -> int:
    """Image outputs (PNG or SVG: a figure or a graph drawing) in a notebook's code cells."""
    return sum(
        1
        for cell in notebook["cells"]
        if cell.get("cell_type") == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") in ("display_data", "execute_result")
        and any(kind in output.get("data", {}) for kind in IMAGE_TYPES)
    )


def figure_files(folder: Path) -> dict[str, int]:
    """{path: modification time} of the figure files under `folder` (the walkthroughs' out/lectures/)."""
    if not folder.is_dir():
        return {}
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.suffix.lower() in FIGURE_SUFFIXES}


def figures_saved(before: dict[str, int], after: dict[str, int]) -> int:
    """How many figure files a run wrote: new ones and ones rewritten since `before`."""
    return sum(before.get(path) != mtime for path, mtime in after.items())


def check_images(name: str, notebook, saved: int, walkthrough: bool) -> str | None:
    """Why a notebook's figures are not all inline (None when they are): fewer images than figures saved, or a
    walkthrough with no image at all."""
    shown = count_images(notebook)
    if walkthrough and shown == 0:
        return f"{name}: no figure inline (0 image outputs); a walkthrough shows its figures with lecture.savefig"
    if shown < saved:
        return (
            f"{name}: {shown} image outputs but {saved} figures saved: save each figure with lecture.savefig "
            "(graphviz drawings: lecture.savegraph as the cell's last expression) so it also shows inline"
        )
    return None


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


# nbconvert's lab template without its <script> tags (require.js, MathJax, mermaid from a CDN): the pages are
# read offline, and a script that cannot load is a console error. The walkthroughs write no LaTeX.
OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})], template_file="offline.html.j2"
    )


def title_of(notebook, default: str) -> str:
    """The first markdown heading of a notebook."""
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "markdown":
            match = re.search(r"^#+\s+(.+)$", cell["source"], re.MULTILINE)
            if match:
                return match.group(1).strip()
    return default


def render_page(notebook_path: Path, html_path: Path, note: str) -> str:
    """Render an executed notebook to a static HTML page (outputs and figures inline), `note` as a first cell;
    returns the page's title."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    title = title_of(notebook, notebook_path.stem)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(note))
    body, _ = _exporter().from_notebook_node(notebook, resources={"metadata": {"name": title}})
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return title


def build_pages(notebooks: list[Path], html_dir: Path, full: bool) -> Path:
    """One HTML page per executed walkthrough notebook (NN_name.html) and index.html linking them in lecture order."""
    import nbformat

    html_dir.mkdir(parents=True, exist_ok=True)
    for old in html_dir.glob("*.html"):  # pages of an earlier build (another set of lectures) would go unlinked
        old.unlink()
    date = datetime.date.today().isoformat()
    if full:
        mode = f"Built in full mode on {date} with `nox -s book`."
    else:
        mode = (
            f"Built in fast mode on {date} (small step counts, as the tests run it): the numbers are not the "
            "lecture's. `nox -s book` builds these pages in full mode."
        )
    entries = []
    for notebook_path in sorted(notebooks, key=lambda p: p.name):
        note = mode
        shorter = SHORTER_THAN_THE_LECTURE.get(notebook_path.stem)
        if full and shorter:
            note += f" The lecture's own run is longer than 10 minutes on a CPU; here {shorter}"
        page = html_dir / (notebook_path.stem + ".html")
        title = render_page(notebook_path, page, f"*{note}*  [All lectures](index.html)")
        entries.append(f"{len(entries) + 1}. [{title}]({page.name})")
    index = nbformat.v4.new_notebook()
    index.cells.append(
        nbformat.v4.new_markdown_cell(
            "# Neural Networks: Zero to Hero, the walkthroughs\n\n"
            "Each lecture replayed cell by cell, with its outputs and figures, as `python -m zero_to_hero.notebooks` "
            f"ran it.\n\n*{mode}*\n\n" + "\n".join(entries)
        )
    )
    body, _ = _exporter().from_notebook_node(index, resources={"metadata": {"name": "Zero to Hero: the walkthroughs"}})
    (html_dir / "index.html").write_text(body, encoding="utf-8")
    return html_dir / "index.html"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", help="package folders (all their lectures) or lectures/*.py files")
    parser.add_argument("--out", default="out/notebooks", help="where the executed notebooks go")
    parser.add_argument("--full", action="store_true", help="full mode (default: fast mode, LECTURES_FAST=1)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one cell may run")
    parser.add_argument("--html", metavar="DIR", help="also render each walkthrough to DIR/NN_name.html + index.html")
    args = parser.parse_args(argv)
    tools = ["jupytext", "nbclient", "ipykernel"] + (["nbconvert"] if args.html else [])
    for tool in tools:
        try:
            __import__(tool)
        except ImportError:
            raise UserError(f"{tool} is missing: pip install {' '.join(tools)}") from None
    files = lecture_files(args.targets)
    out_dir = Path(args.out).resolve()
    os.environ["LECTURES_FAST"] = "0" if args.full else "1"  # the kernels inherit the environment
    os.environ["LECTURES_OUT"] = str(Path(os.environ.get("LECTURES_OUT", out_dir)).resolve())
    os.environ["MPLBACKEND"] = "Agg"
    figures = Path(os.environ["LECTURES_OUT"]) / "lectures"
    import nbformat
    from nbclient.exceptions import CellExecutionError

    failed, executed = [], []
    for path in files:
        start = time.perf_counter()
        before = figure_files(figures)
        try:
            target = execute(path, out_dir, args.timeout)
        except CellExecutionError as e:
            failed.append(path)
            print(f"FAILED {path} ({time.perf_counter() - start:.1f} s)\n{str(e)[-3000:]}", flush=True)
            continue
        saved = figures_saved(before, figure_files(figures))
        notebook = nbformat.read(target, as_version=4)
        walkthrough = bool(WALKTHROUGH.match(path.name))
        problem = check_images(path.name, notebook, saved, walkthrough=walkthrough)
        if problem:
            failed.append(path)
            print(f"FAILED {problem}", flush=True)
            continue
        images = f"{count_images(notebook)} images inline, {saved} figures saved"
        print(f"ok     {path} -> {target} ({time.perf_counter() - start:.1f} s; {images})", flush=True)
        if walkthrough:
            executed.append(target)
    print(f"{len(files) - len(failed)} of {len(files)} notebooks ran with their figures inline")
    if args.html and executed:
        index = build_pages(executed, Path(args.html).resolve(), full=args.full)
        print(f"{len(executed)} pages and {index}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
