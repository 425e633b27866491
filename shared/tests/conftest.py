from pathlib import Path

from zero_to_hero.mirrors import use_sibling_mirrors

# The offline mirrors beside the checkout, as nox and CI set them (../shared/README.md): tests never download.
use_sibling_mirrors(Path(__file__).resolve().parents[2])
