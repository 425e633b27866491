"""Every package's tests, each in its own virtualenv, plus lint.

    nox            # everything
    nox -l         # list the sessions
    nox -s minbpe  # one package
    nox -s notebooks     # every lectures/*.py walkthrough executed as a notebook (fast mode), as pages, in a browser
    nox -s book          # not run by default: the walkthroughs in full mode as pages, out/book/index.html
    nox -s minbpe_newest_regex, nanogpt_corpora   # parity with the newest regex; nanogpt's optional corpora extra
    nox -s minbpe_bench  # not run by default: minbpe/bench.py, with rustbpe and tokenizers to compare

A package is any top-level folder with a pyproject.toml: new ones are picked up automatically.
Installs are constrained by constraints.txt (torch==2.13.0 is the local CPU build).
"""

import importlib.util
from pathlib import Path

import nox

ROOT = Path(__file__).parent
# The offline mirrors beside the checkout (../shared, see ../shared/README.md), used when present and not
# already chosen: tests that read the real course data or tiktoken's encodings then never need the network.
# zero_to_hero/mirrors.py is plain standard library, loaded from its file: nothing is installed here yet.
_spec = importlib.util.spec_from_file_location("mirrors", ROOT / "shared" / "zero_to_hero" / "mirrors.py")
mirrors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mirrors)
MIRROR_ENV = mirrors.sibling_mirrors(ROOT)
PACKAGES = sorted(p.parent.name for p in ROOT.glob("*/pyproject.toml"))
CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))

nox.options.sessions = ["lint", *PACKAGES, "minbpe_newest_regex", "nanogpt_corpora", "notebooks"]
nox.options.reuse_existing_virtualenvs = False


def _package_session(package: str):
    def session_fn(session: nox.Session) -> None:
        if package != "shared":
            session.install(*CONSTRAINTS, str(ROOT / "shared"))
        # shared's tests run a tiny notebook in a Jupyter kernel (figures inline): its `notebooks` extra too
        session.install(*CONSTRAINTS, f"{ROOT / package}[{'test,notebooks' if package == 'shared' else 'test'}]")
        session.chdir(ROOT / package)
        session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs, env=MIRROR_ENV)

    session_fn.__doc__ = f"pytest for {package}/"
    return session_fn


for _package in PACKAGES:
    nox.session(name=_package)(_package_session(_package))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check + ruff format --check over the whole repository."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", str(ROOT))
    session.run("ruff", "format", "--check", str(ROOT))


@nox.session
def minbpe_newest_regex(session: nox.Session) -> None:
    """minbpe's tiktoken-parity tests with the newest `regex` (what `pip install ./minbpe` gives), not the pin."""
    session.install(*CONSTRAINTS, str(ROOT / "shared"), f"{ROOT / 'minbpe'}[test]")
    session.install("--upgrade", "regex")
    session.run("python", "-c", "import regex; print('regex', regex.__version__)")
    session.chdir(ROOT / "minbpe")
    tests = ["tests/test_pretrained.py", "tests/test_encoding.py"]
    session.run("pytest", "-q", "-p", "no:cacheprovider", *(session.posargs or tests), env=MIRROR_ENV)


@nox.session
def nanogpt_corpora(session: nox.Session) -> None:
    """nanogpt's Parquet and Hugging Face datasets inputs, with its optional `corpora` extra (installed here only)."""
    session.install(*CONSTRAINTS, str(ROOT / "shared"), f"{ROOT / 'nanogpt'}[test,corpora]")
    session.chdir(ROOT / "nanogpt")
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *(session.posargs or ["tests/test_corpora.py"]),
        env=MIRROR_ENV,
    )


@nox.session(default=False)
def minbpe_bench(session: nox.Session) -> None:
    """minbpe/bench.py next to rustbpe and Hugging Face tokenizers, installed here only (never dependencies)."""
    session.install(*CONSTRAINTS, str(ROOT / "shared"), str(ROOT / "minbpe"), "rustbpe", "tokenizers")
    session.chdir(ROOT / "minbpe")
    session.run("python", "bench.py", *session.posargs, env=MIRROR_ENV)


def _install_lectures(session: nox.Session) -> list[str]:
    """shared's `notebooks` extra, every package with lectures (with its `lectures` extra where it has one:
    minbpe's sentencepiece comparison) and playwright for the browser check; returns those packages' names."""
    lectures = [package for package in PACKAGES if (ROOT / package / "lectures").is_dir()]
    packages = [
        f"{ROOT / p}[lectures]" if "\nlectures = " in (ROOT / p / "pyproject.toml").read_text() else str(ROOT / p)
        for p in lectures
        if p != "shared"
    ]
    session.install(*CONSTRAINTS, f"{ROOT / 'shared'}[notebooks]", *packages, "playwright")
    return lectures


@nox.session
def notebooks(session: nox.Session) -> None:
    """Every package's lectures/*.py converted with jupytext and executed as a notebook (fast mode), each holding
    its figures inline; the walkthroughs rendered to HTML pages + index (nbconvert) and opened in headless Chromium.

    jupytext, nbclient, ipykernel, nbconvert (shared's `notebooks` extra) and playwright are installed in this
    session only; Chromium is the system's (`apt-get install chromium`; .ci/run installs it)."""
    lectures = _install_lectures(session)
    out = ROOT / "out" / "notebooks"
    targets = session.posargs or [str(ROOT / package) for package in lectures]
    pages = out / "html"
    run = ("python", "-m", "zero_to_hero.notebooks", *targets, "--out", str(out), "--html", str(pages))
    session.run(*run, env=MIRROR_ENV)
    session.run("python", "-m", "zero_to_hero.browser_check", str(pages), env=MIRROR_ENV)


@nox.session(default=False)
def book(session: nox.Session) -> None:
    """The course as pages: every walkthrough executed in FULL mode as a notebook and rendered to
    out/book/NN_name.html, with out/book/index.html in lecture order; then the browser check. Each
    walkthrough's full mode takes at most 10 minutes on a laptop CPU, and they run one after the other."""
    _install_lectures(session)
    walkthroughs = sorted(ROOT.glob("*/lectures/[0-9][0-9]_*.py"), key=lambda p: p.name)
    out = ROOT / "out" / "book"
    targets = session.posargs or [str(p) for p in walkthroughs]
    run = ("python", "-m", "zero_to_hero.notebooks", *targets, "--full", "--timeout", "1800")
    session.run(*run, "--out", str(out / "notebooks"), "--html", str(out), env=MIRROR_ENV)
    session.run("python", "-m", "zero_to_hero.browser_check", str(out), env=MIRROR_ENV)
