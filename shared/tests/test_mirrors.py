import importlib.util
from pathlib import Path

import zero_to_hero.mirrors as mirrors


def _checkout_with_mirrors(tmp_path, *folders):
    checkout = tmp_path / "main"
    checkout.mkdir()
    for folder in folders:
        (tmp_path / "shared" / folder).mkdir(parents=True)
    return checkout


def test_points_unset_variables_at_existing_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("ZERO_TO_HERO_MIRROR", raising=False)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    checkout = _checkout_with_mirrors(tmp_path, "data")  # no tiktoken_cache: that variable stays unset
    assert mirrors.use_sibling_mirrors(checkout) == {"ZERO_TO_HERO_MIRROR": str(tmp_path / "shared" / "data")}
    import os

    assert os.environ["ZERO_TO_HERO_MIRROR"] == str(tmp_path / "shared" / "data")
    assert "TIKTOKEN_CACHE_DIR" not in os.environ


def test_a_users_choice_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("ZERO_TO_HERO_MIRROR", "/somewhere/else")
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    checkout = _checkout_with_mirrors(tmp_path, "data", "tiktoken_cache")
    assert mirrors.sibling_mirrors(checkout) == {"TIKTOKEN_CACHE_DIR": str(tmp_path / "shared" / "tiktoken_cache")}


def test_no_mirrors_nothing_set(tmp_path, monkeypatch):
    monkeypatch.delenv("ZERO_TO_HERO_MIRROR", raising=False)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    assert mirrors.use_sibling_mirrors(_checkout_with_mirrors(tmp_path)) == {}


def test_loads_by_path_without_the_package(tmp_path):
    """The noxfile loads the module from its file, before zero_to_hero is installed anywhere."""
    spec = importlib.util.spec_from_file_location("standalone_mirrors", Path(mirrors.__file__))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.FOLDERS == mirrors.FOLDERS and "zero_to_hero" not in module.__dict__
