"""zero_to_hero.encodings: tiktoken's encodings, and one clear line when they cannot be loaded."""

import hashlib

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry

from zero_to_hero import UserError
from zero_to_hero.encodings import get_encoding

GPT2_FILES = [
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
]


@pytest.fixture
def no_network(monkeypatch):
    def offline(url, *args, **kwargs):
        raise ConnectionError(f"no network for {url}")

    monkeypatch.setattr(tiktoken.load, "read_file", offline)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # nothing loaded in this process yet


def test_an_empty_cache_offline_names_the_variable(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    with pytest.raises(UserError, match=rf"'gpt2'.*ConnectionError.*\({tmp_path}\).*TIKTOKEN_CACHE_DIR"):
        get_encoding("gpt2")


def test_a_corrupt_cache_offline_names_the_variable(tmp_path, monkeypatch, no_network):
    for url in GPT2_FILES:  # tiktoken names cached files by the sha1 of their URL and checks their sha256
        (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"truncated")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    with pytest.raises(UserError, match="TIKTOKEN_CACHE_DIR"):
        get_encoding("gpt2")


def test_a_good_cache_loads_and_an_unknown_name_is_refused():
    assert get_encoding("gpt2").encode("hello world") == [31373, 995]  # from the cache nox points at, or the network
    with pytest.raises(UserError, match="unknown tiktoken encoding 'gpt3'.*cl100k_base"):
        get_encoding("gpt3")
