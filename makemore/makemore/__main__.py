"""python -m makemore: the model zoo's command line, makemore/zoo/cli.py (`--help` lists the flags)."""

from makemore.zoo.cli import cli

if __name__ == "__main__":
    cli()
