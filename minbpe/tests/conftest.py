"""Shared fixtures: the pretrained tokenizers and their tiktoken oracles, built once per test session."""

from pathlib import Path

import pytest
import tiktoken
from hypothesis import settings

from minbpe import GPT2Tokenizer, GPT4oTokenizer, GPT4Tokenizer
from zero_to_hero.mirrors import use_sibling_mirrors

# Deterministic and leaves nothing behind: no example database in the source tree.
settings.register_profile("minbpe", derandomize=True, deadline=None, database=None, print_blob=False)
settings.load_profile("minbpe")

# The offline mirrors beside the checkout, as CI sets them (../shared/README.md): tests never download.
use_sibling_mirrors(Path(__file__).resolve().parents[2])

PRETRAINED = {"gpt2": GPT2Tokenizer, "cl100k_base": GPT4Tokenizer, "o200k_base": GPT4oTokenizer}


@pytest.fixture(scope="session")
def pretrained():
    """name -> (our tokenizer, tiktoken's encoding), loaded lazily and kept for the session."""
    loaded = {}

    def get(name):
        if name not in loaded:
            loaded[name] = PRETRAINED[name](), tiktoken.get_encoding(name)
        return loaded[name]

    return get


@pytest.fixture(scope="session")
def gpt4(pretrained):
    return pretrained("cl100k_base")
