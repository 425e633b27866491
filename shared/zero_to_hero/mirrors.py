"""The offline mirrors beside a checkout: `../shared/data` (the course data sets) and `../shared/tiktoken_cache`
(tiktoken's encoding files), as ../shared/README.md lays them out. Tests and nox use them when they are there and
the user has not chosen otherwise, so a test never downloads.

Only the standard library: the noxfile loads this file by path, before any package is installed.
"""

import os
from pathlib import Path

# environment variable -> the folder under the mirror root that it points at
FOLDERS = {"ZERO_TO_HERO_MIRROR": "data", "TIKTOKEN_CACHE_DIR": "tiktoken_cache"}


def sibling_mirrors(checkout) -> dict[str, str]:
    """{variable: folder} for the mirrors in `<checkout>/../shared` that exist and whose variable is not set."""
    root = Path(checkout).resolve().parent / "shared"
    found = {name: root / folder for name, folder in FOLDERS.items()}
    return {name: str(path) for name, path in found.items() if name not in os.environ and path.is_dir()}


def use_sibling_mirrors(checkout) -> dict[str, str]:
    """Set the variables `sibling_mirrors` finds in this process's environment; returns what was set."""
    chosen = sibling_mirrors(checkout)
    os.environ.update(chosen)
    return chosen
