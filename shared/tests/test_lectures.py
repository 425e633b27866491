"""The walkthrough plumbing: fast mode, RESULT and EXERCISE lines, figures, running a walkthrough file."""

import sys
import textwrap

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
from zero_to_hero.notebooks import lecture_files


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
    path = Walkthrough("02").savefig(fig, "line.png", docs=True)
    assert path.read_bytes().startswith(b"\x89PNG") and not (package / "docs").exists()
    clean.setattr(sys, "argv", [str(package / "lectures" / "02_x.py"), "--save-docs"])
    Walkthrough("02").savefig(fig, "line.png", docs=True)
    assert (package / "docs" / "02_line.png").read_bytes().startswith(b"\x89PNG")
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
