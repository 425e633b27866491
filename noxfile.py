"""Every package's tests, each in its own virtualenv, plus lint.

    nox            # everything
    nox -l         # list the sessions
    nox -s minbpe  # one package

A package is any top-level folder with a pyproject.toml: new ones are picked up automatically.
Installs are constrained by constraints.txt (torch==2.13.0 is the local CPU build).
"""

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = sorted(p.parent.name for p in ROOT.glob("*/pyproject.toml"))
CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))

nox.options.sessions = ["lint", *PACKAGES]
nox.options.reuse_existing_virtualenvs = False


def _package_session(package: str):
    def session_fn(session: nox.Session) -> None:
        if package != "shared":
            session.install(*CONSTRAINTS, str(ROOT / "shared"))
        session.install(*CONSTRAINTS, f"{ROOT / package}[test]")
        session.chdir(ROOT / package)
        session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)

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
