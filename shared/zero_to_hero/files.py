"""Outputs that are whole or absent: write to a temporary file beside the target, then rename it into place.

    with atomic_path(out_dir / "ckpt.pt") as tmp:
        torch.save(checkpoint, tmp)
    write_json(out_dir / "metrics.json", metrics)

A crash or an exception mid-write leaves the previous file (or none), never half of one: os.replace is
atomic on one file system, and the temporary file sits in the target's own folder.
"""

import contextlib
import json
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yields `<path>.tmp` to write; it becomes `path` when the block completes and is removed if it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path, data, indent: int = 2) -> None:
    """`data` as JSON in `path`, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")
