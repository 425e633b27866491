"""Plumbing shared by the Zero to Hero packages: data sets, devices, seeding, atomic files, CLI errors."""

from zero_to_hero.errors import UserError, run_main

__all__ = ["UserError", "run_main"]
