import random
from pathlib import Path

import pytest
import torch

from nanogpt.config import load_config
from zero_to_hero.mirrors import use_sibling_mirrors


@pytest.fixture(autouse=True)
def _quiet_torch():
    torch.manual_seed(0)  # tests that do not seed themselves still run the same way every time


@pytest.fixture
def corpus(tmp_path):
    """A small text file with learnable structure (repeated words), ~6,000 characters."""
    rng = random.Random(0)
    words = ["the", "king", "queen", "shall", "speak", "now", "and", "not", "before", "thee"]
    lines = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(150)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def tiny_config(corpus, tmp_path):
    """A config that trains in well under a second: returns a function taking overrides."""

    def make(**overrides):
        values = dict(
            dataset=str(corpus), out_dir=str(tmp_path / "out"), data_dir=str(tmp_path / "data"), device="cpu",
            n_layer=2, n_head=2, n_embd=16, block_size=16, batch_size=4, max_iters=12, lr_decay_iters=12,
            warmup_iters=2, eval_interval=6, eval_iters=2, log_interval=1, learning_rate=1e-2, min_lr=1e-3,
            threads="1",  # one fixed thread count: two trainers of one test sum in the same order
        )  # fmt: skip
        values.update(overrides)
        values["out_dir"] = str(tmp_path / values["out_dir"])  # a relative one ("unused") too: the Trainer creates it
        return load_config(None, values)

    return make


# tiktoken's encoding files and the course data (hellaswag among it) from the offline mirrors beside the
# checkout, as nox and CI set them: tests never download
use_sibling_mirrors(Path(__file__).resolve().parents[2])
