"""The lecture walkthroughs (lectures/*.py) run in fast mode; their RESULT lines hold the lecture's numbers."""

from pathlib import Path

from zero_to_hero.lectures import parse_exercises, parse_results, run_walkthrough

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
