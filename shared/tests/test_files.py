import json

import pytest

from zero_to_hero.files import atomic_path, write_json


def test_write_json_replaces_the_file_whole(tmp_path):
    path = tmp_path / "deep" / "metrics.json"
    write_json(path, {"loss": 1.5})
    write_json(path, {"loss": 1.25, "steps": [1, 2]})
    assert json.loads(path.read_text()) == {"loss": 1.25, "steps": [1, 2]}
    assert sorted(p.name for p in path.parent.iterdir()) == ["metrics.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]
