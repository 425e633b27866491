"""The walkthrough plumbing: fast mode, RESULT and EXERCISE lines, figures, running a walkthrough file."""

import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zero_to_hero import UserError
from zero_to_hero.lectures import (
    Exercises,
    Walkthrough,
    fast_mode,
    parse_exercises,
    parse_results,
    run_walkthrough,
)
from zero_to_hero.notebooks import (
    SHORTER_THAN_THE_LECTURE,
    build_pages,
    check_images,
    count_images,
    figure_files,
    figures_saved,
    lecture_files,
)


@pytest.fixture
def clean(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["walkthrough.py"])
    monkeypatch.delenv("LECTURES_FAST", raising=False)
    monkeypatch.setenv("LECTURES_OUT", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize(
    "argv, env, expected",
    [
        ([], None, False),
        (["--fast"], None, True),
        ([], "1", True),
        ([], "true", True),
        ([], "0", False),
        ([], "", False),
        # a Jupyter kernel's own arguments never turn fast mode on
        (["-f", "/tmp/kernel-1.json"], None, False),
    ],
)
def test_fast_mode_from_the_flag_or_the_environment(clean, argv, env, expected):
    clean.setattr(sys, "argv", ["walkthrough.py", *argv])
    if env is not None:
        clean.setenv("LECTURES_FAST", env)
    assert fast_mode() is expected


def test_steps_and_output_folder(clean, tmp_path, capsys):
    full = Walkthrough("02")
    assert full.steps(full=1000, fast=10) == 1000 and full.out_dir == tmp_path / "lectures" / "02"
    assert full.out_dir.is_dir() and "full mode" in capsys.readouterr().out
    clean.setenv("LECTURES_FAST", "1")
    assert Walkthrough("02").steps(full=1000, fast=10) == 10


def test_result_lines_round_trip_through_the_parser(clean, capsys):
    lecture = Walkthrough("03")
    lecture.result("dev_loss", 2.168734, lecture=2.17)
    lecture.result("params", 11897, lecture=11897)
    lecture.result("first_loss", 27.05, lecture="-", fmt=".1f")
    out = capsys.readouterr().out
    assert "RESULT dev_loss 2.1687 (lecture: 2.17)" in out
    assert parse_results(out) == {
        "dev_loss": ("2.1687", "2.17"),
        "params": ("11897", "11897"),
        "first_loss": ("27.1", "-"),
    }
    with pytest.raises(ValueError, match="one word"):
        lecture.result("dev loss", 1.0, lecture=1.0)


def test_savefig_writes_the_png_and_docs_only_when_asked(clean, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    package = tmp_path / "pkg"
    (package / "lectures").mkdir(parents=True)
    clean.setattr(sys, "argv", [str(package / "lectures" / "02_x.py")])
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    lecture = Walkthrough("02")
    assert lecture.savefig(fig, "line.png", docs=True) is None  # a cell ending with it shows no path
    path = lecture.out_dir / "line.png"
    assert path.read_bytes().startswith(b"\x89PNG") and not (package / "docs").exists()
    clean.setattr(sys, "argv", [str(package / "lectures" / "02_x.py"), "--save-docs"])
    Walkthrough("02").savefig(fig, "line.png", docs=True)
    assert (package / "docs" / "02_line.png").read_bytes().startswith(b"\x89PNG")
    (lecture.out_dir / "made.png").write_bytes(path.read_bytes())  # a PNG another program wrote (nanogpt.plot)
    Walkthrough("02").show_png("made.png", docs=True)
    assert (package / "docs" / "02_made.png").read_bytes() == path.read_bytes()
    plt.close(fig)


def test_exercises_say_not_done_wrong_right_or_error(capsys):
    exercises = Exercises()

    def blank():
        raise NotImplementedError

    assert exercises.check("blank", blank) == "not done"
    assert exercises.check("far", lambda: 0.5, tol=1e-6).startswith("wrong (max diff 0.5")
    assert exercises.check("nan", lambda: float("nan")).startswith("wrong")
    assert exercises.check("close", lambda: 1e-9, tol=1e-6).startswith("right")
    assert exercises.check("boolean", lambda: True) == "right"
    assert exercises.check("crash", lambda: 1 / 0).startswith("error (ZeroDivisionError")
    exercises.summary()
    out = capsys.readouterr().out
    assert "2 of 6 exercises done" in out
    assert parse_exercises(out) == {
        "blank": "not done",
        "far": "wrong",
        "nan": "wrong",
        "close": "right",
        "boolean": "right",
        "crash": "error",
    }


def test_run_walkthrough_runs_in_fast_mode_and_reports_failures(tmp_path):
    lectures = tmp_path / "pkg" / "lectures"
    lectures.mkdir(parents=True)
    script = lectures / "01_demo.py"
    script.write_text(
        textwrap.dedent(
            """
            from zero_to_hero.lectures import Walkthrough
            lecture = Walkthrough("01")
            lecture.result("steps", lecture.steps(full=100, fast=3), lecture=100)
            """
        )
    )
    proc = run_walkthrough(script, tmp_path / "out")
    assert parse_results(proc.stdout) == {"steps": ("3", "100")}
    assert (tmp_path / "out" / "lectures" / "01").is_dir()
    script.write_text("raise SystemExit(3)\n")
    with pytest.raises(AssertionError, match="exited 3"):
        run_walkthrough(script, tmp_path / "out")


def test_notebook_targets_are_lecture_files_or_package_folders(tmp_path):
    lectures = tmp_path / "pkg" / "lectures"
    lectures.mkdir(parents=True)
    for name in ("02_b.py", "01_a.py"):
        (lectures / name).write_text("")
    assert [p.name for p in lecture_files([str(tmp_path / "pkg")])] == ["01_a.py", "02_b.py"]
    assert lecture_files([str(lectures / "02_b.py")]) == [lectures / "02_b.py"]
    with pytest.raises(UserError, match="neither"):
        lecture_files([str(tmp_path / "missing")])


DEMO = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       format_name: percent
# ---

# %% [markdown]
# # Lecture 2: a demo walkthrough
#
# What this lecture builds, in one paragraph.
#
# A second paragraph, not part of the usage.

# %%
import os

from zero_to_hero.datasets import fetch
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("02")
print("cells ran")
if os.environ.get("DEMO_FETCH"):
    fetch("names")
"""


def run_demo(tmp_path, name, *args, env=None):
    script = tmp_path / "pkg" / "lectures" / name
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(DEMO)
    environment = {**os.environ, "LECTURES_OUT": str(tmp_path / "out"), **(env or {})}
    environment.pop("LECTURES_FAST", None)
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, env=environment, timeout=120
    )


@pytest.mark.parametrize("args", [["--fasst"], ["--fast", "--sav-docs"], ["extra"], ["-f"]])
def test_unknown_flags_are_refused_in_one_line_before_anything_runs(tmp_path, args):
    proc = run_demo(tmp_path, "02_demo.py", *args)
    assert proc.returncode == 2 and proc.stdout == ""
    bad = next(a for a in args if a not in ("--fast", "--save-docs"))
    assert proc.stderr.strip().splitlines() == [
        f"error: unknown {'flag' if bad.startswith('-') else 'argument'} '{bad}' for 02_demo.py; "
        "known flags: --fast, --save-docs, --help"
    ]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_the_usage_and_runs_nothing(tmp_path, flag):
    proc = run_demo(tmp_path, "02_demo.py", "--fast", flag)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: python 02_demo.py [--fast] [--save-docs] [--help]\n\nLecture 2: a demo")
    assert "What this lecture builds, in one paragraph." in proc.stdout and "second paragraph" not in proc.stdout
    for flag_name in ("--fast", "--save-docs", "--help", "LECTURES_FAST", "LECTURES_OUT"):
        assert flag_name in proc.stdout
    assert "cells ran" not in proc.stdout and not (tmp_path / "out").exists()


def test_known_flags_run_the_walkthrough(tmp_path):
    proc = run_demo(tmp_path, "02_demo.py", "--fast", "--save-docs")
    assert proc.returncode == 0, proc.stderr
    assert "fast mode" in proc.stdout and "cells ran" in proc.stdout


@pytest.mark.parametrize("mirror", ["empty folder", "dead url"])
def test_no_network_and_no_mirror_is_one_line_and_exit_2(tmp_path, mirror):
    """A walkthrough whose data set cannot be fetched (an empty mirror folder, or a mirror URL that refuses
    connections, with an empty cache) ends with the data set's one-line error, not a traceback."""
    (tmp_path / "empty").mkdir()
    with socket.socket() as s:  # bound, never listening: connections are refused, as without network
        s.bind(("127.0.0.1", 0))
        source = str(tmp_path / "empty") if mirror == "empty folder" else f"http://127.0.0.1:{s.getsockname()[1]}"
        env = {"ZERO_TO_HERO_MIRROR": source, "ZERO_TO_HERO_CACHE": str(tmp_path / "cache"), "DEMO_FETCH": "1"}
        proc = run_demo(tmp_path, "02_demo.py", "--fast", env=env)
    assert proc.returncode == 2 and "cells ran" in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    expected = "has no names.txt" if mirror == "empty folder" else "cannot download"
    assert expected in lines[0] and "ZERO_TO_HERO_MIRROR" in lines[0]


def test_other_exceptions_keep_their_traceback(tmp_path):
    script = tmp_path / "pkg" / "lectures" / "03_crash.py"
    script.parent.mkdir(parents=True)
    script.write_text("from zero_to_hero.lectures import Walkthrough\nlecture = Walkthrough('03')\n1 / 0\n")
    environment = {**os.environ, "LECTURES_OUT": str(tmp_path / "out")}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=environment, timeout=120)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "ZeroDivisionError" in proc.stderr


def test_imported_walkthrough_ignores_the_importers_arguments(clean):
    """Constructed from a module that is not __main__ (a test importing it), sys.argv is not the walkthrough's."""
    clean.setattr(sys, "argv", ["pytest", "-q", "-k", "something"])
    assert Walkthrough("02").fast is False


class FakeDrawing:
    """Stands in for a graphviz.Digraph: savegraph only calls pipe(format="png")."""

    def __init__(self):
        self.formats = []

    def pipe(self, format):
        self.formats.append(format)
        return b"\x89PNG\r\n\x1a\nnot really"


def test_savegraph_saves_the_png_and_returns_the_drawing(clean, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text("#!/bin/sh\n")
    (bin_dir / "dot").chmod(0o755)
    clean.setenv("PATH", str(bin_dir))  # a `dot` program is found; the fake drawing renders itself
    drawing = FakeDrawing()
    assert Walkthrough("01").savegraph(drawing, "graph.png") is drawing
    assert drawing.formats == ["png"]
    assert (tmp_path / "lectures" / "01" / "graph.png").read_bytes().startswith(b"\x89PNG")


def test_savegraph_without_dot_says_how_to_get_it_in_one_line(clean, tmp_path, capsys):
    clean.setenv("PATH", str(tmp_path / "nothing-here"))
    lecture = Walkthrough("01")
    capsys.readouterr()
    drawing = FakeDrawing()
    assert lecture.savegraph(drawing, "graph.png") is None
    assert capsys.readouterr().out.splitlines() == [
        "graph.png not drawn: install graphviz for its `dot` program (Debian/Ubuntu: apt-get install graphviz; "
        "macOS: brew install graphviz)"
    ]
    assert drawing.formats == [] and not (tmp_path / "lectures" / "01" / "graph.png").exists()


# ---- notebooks: figures inline, counted ------------------------------------------------------------------------


def image_output(kind="image/png"):
    return {"output_type": "display_data", "data": {kind: "...", "text/plain": "<Figure>"}, "metadata": {}}


def synthetic_notebook(*cells_outputs):
    """A notebook (the nbformat v4 JSON layout) with one code cell per list of outputs, and a markdown cell."""
    cells = [{"cell_type": "markdown", "source": "# Lecture 2: a demo\n\ntext", "metadata": {}}]
    for outputs in cells_outputs:
        cells.append({"cell_type": "code", "source": "", "outputs": outputs, "metadata": {}, "execution_count": 1})
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_images_are_counted_in_display_and_execute_results_only():
    stream = {"output_type": "stream", "name": "stdout", "text": "image/png"}
    svg_result = {"output_type": "execute_result", "data": {"image/svg+xml": "<svg/>"}, "metadata": {}}
    error = {"output_type": "error", "ename": "E", "evalue": "image/png", "traceback": []}
    notebook = synthetic_notebook([stream, image_output()], [svg_result, error], [image_output("text/html")], [])
    assert count_images(notebook) == 2
    assert count_images(synthetic_notebook([stream], [])) == 0


def test_check_images_needs_one_image_per_saved_figure_and_one_at_least(tmp_path):
    two = synthetic_notebook([image_output()], [image_output("image/svg+xml")])
    assert check_images("02_demo.py", two, saved=2, walkthrough=True) is None
    assert "2 image outputs but 3 figures saved" in check_images("02_demo.py", two, saved=3, walkthrough=True)
    empty = synthetic_notebook([])
    assert "no figure inline" in check_images("02_demo.py", empty, saved=0, walkthrough=True)
    assert check_images("exercises_02.py", empty, saved=0, walkthrough=False) is None


def test_figures_saved_counts_new_and_rewritten_files(tmp_path):
    folder = tmp_path / "lectures" / "02"
    folder.mkdir(parents=True)
    (folder / "old.png").write_bytes(b"1")
    (folder / "kept.png").write_bytes(b"1")
    (folder / "notes.txt").write_text("not a figure")
    before = figure_files(tmp_path / "lectures")
    assert len(before) == 2
    os.utime(folder / "old.png", ns=(1, before[str(folder / "old.png")] + 10**9))  # rewritten
    (folder / "new.svg").write_text("<svg/>")
    assert figures_saved(before, figure_files(tmp_path / "lectures")) == 2
    assert figure_files(tmp_path / "missing") == {}


KERNEL_NOTEBOOK = """# %%
import matplotlib
{backend}
import matplotlib.pyplot as plt
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("02")
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
lecture.savefig(fig, "line.png")
plt.close(fig)  # what walkthroughs written before savefig closed the figure still do: harmless

# %%
fig, ax = plt.subplots()
ax.imshow([[0, 1], [1, 0]])
lecture.savefig(fig, "square.png")

# %%
(lecture.out_dir / "copy.png").write_bytes((lecture.out_dir / "line.png").read_bytes())  # as another program would
lecture.show_png("copy.png")

# %%
print("no figure here")

# %%
from zero_to_hero.datasets import DatasetError

raise DatasetError("cannot download names.txt; set ZERO_TO_HERO_MIRROR")
"""


@pytest.mark.parametrize("backend", ['matplotlib.use("Agg")', "# the kernel's own (inline) backend"])
def test_in_a_kernel_each_saved_figure_shows_once_and_a_user_error_is_one_line(tmp_path, monkeypatch, backend):
    """A walkthrough executed in a real Jupyter kernel: each savefig is one PNG output (also where matplotlib's
    inline backend would show open figures itself), the file is saved too, and a UserError is its one line."""
    import jupytext
    from nbclient import NotebookClient

    monkeypatch.setenv("LECTURES_OUT", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = jupytext.reads(KERNEL_NOTEBOOK.format(backend=backend), fmt="py:percent")
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert [count_images({"cells": [cell]}) for cell in notebook.cells] == [1, 1, 1, 0, 0]
    png = outputs[0][-1]["data"]["image/png"]
    assert png and (tmp_path / "lectures" / "02" / "line.png").is_file()
    assert (tmp_path / "lectures" / "02" / "square.png").is_file()
    assert [o["output_type"] for o in outputs[1]] == ["display_data"]  # the figure alone: no Out[] with a path
    assert outputs[2][-1]["data"]["image/png"] == png  # the copied PNG, shown as it is
    errors = [o for o in outputs[4] if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "DatasetError"
    assert errors[0]["traceback"] == ["error: cannot download names.txt; set ZERO_TO_HERO_MIRROR"]


def test_pages_render_offline_with_an_index_in_lecture_order(tmp_path):
    import nbformat

    notebooks = []
    for name, title in (("03_mlp", "Lecture 3: MLP"), ("01_micrograd", "Lecture 1: micrograd")):
        figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
        cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nSome text."), nbformat.v4.new_code_cell(outputs=[figure])]
        notebook = nbformat.v4.new_notebook(cells=cells)
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(notebook, path)
        notebooks.append(path)
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "99_stale.html").write_text("an earlier build")
    index = build_pages(notebooks, tmp_path / "html", full=True)
    pages = sorted(p.name for p in (tmp_path / "html").glob("*.html"))
    assert pages == ["01_micrograd.html", "03_mlp.html", "index.html"]
    text = index.read_text()
    assert text.index('href="01_micrograd.html"') < text.index('href="03_mlp.html"')
    assert "Lecture 1: micrograd" in text and "full mode" in text
    page = (tmp_path / "html" / "01_micrograd.html").read_text()
    assert "<script" not in page and 'src="data:image/png;base64,iVBORw0KGgo="' in page  # nothing to fetch


@pytest.mark.parametrize("full", [True, False])
def test_a_shorter_lecture_says_so_on_its_full_mode_page_only(tmp_path, full):
    import nbformat

    path = tmp_path / "06_wavenet.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lecture 6")]), path)
    build_pages([path], tmp_path / "html", full=full)
    page = (tmp_path / "html" / "06_wavenet.html").read_text()
    said = "The lecture's own run is longer than 10 minutes on a CPU; here every row of the performance log"
    assert (said in page) == full, page[:2000]


@pytest.mark.parametrize("stem", sorted(SHORTER_THAN_THE_LECTURE))
def test_shorter_than_the_lecture_notes_match_their_walkthroughs(stem):
    """The book's hand-written notes name an existing walkthrough, and every step count they say we train
    ("trains 40,000 steps") is a full-mode `lecture.steps(full=...)` of it, so a changed count shows up here."""
    walkthroughs = list(Path(__file__).resolve().parents[2].glob(f"*/lectures/{stem}.py"))
    assert len(walkthroughs) == 1, f"no walkthrough {stem}.py"
    source = walkthroughs[0].read_text(encoding="utf-8")
    full_counts = {int(n.replace("_", "")) for n in re.findall(r"\bfull=([\d_]+)", source)}
    note = SHORTER_THAN_THE_LECTURE[stem]
    for count in re.findall(r"\btrain(?:s|ed)? ([\d,]+) steps", note):
        assert int(count.replace(",", "")) in full_counts, f"{stem}: the note says {count} steps"
    for variable in re.findall(r"`([A-Z0-9_]+)=", note):
        assert f'"{variable}"' in source, f"{stem}: the note names {variable}"


def test_browser_check_without_chromium_fails_in_ci_and_is_skipped_elsewhere(tmp_path, monkeypatch, capsys):
    from zero_to_hero import browser_check

    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.delenv("ZERO_TO_HERO_BROWSER_CHECK", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CI", "1")
    with pytest.raises(UserError, match="Chromium not found, and CI must run the browser check: apt-get install"):
        browser_check.main([str(tmp_path)])
    monkeypatch.delenv("CI")
    monkeypatch.setenv("ZERO_TO_HERO_BROWSER_CHECK", "required")  # what .ci/run sets
    with pytest.raises(UserError, match="Chromium not found"):
        browser_check.main([str(tmp_path)])
    monkeypatch.delenv("ZERO_TO_HERO_BROWSER_CHECK")
    assert browser_check.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("browser check skipped: Chromium not found (apt-get install chromium")


def test_exercise_files_refuse_unknown_flags_too(tmp_path):
    script = tmp_path / "pkg" / "lectures" / "exercises_02.py"
    script.parent.mkdir(parents=True)
    script.write_text("from zero_to_hero.lectures import Exercises\nexercises = Exercises()\nexercises.summary()\n")
    run = [sys.executable, str(script)]
    proc = subprocess.run([*run, "--fsat"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (
        "error: unknown flag '--fsat' for exercises_02.py; known flags: --fast, --save-docs, --help"
    )
    proc = subprocess.run([*run, "--fast"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == "0 of 0 exercises done\n"
