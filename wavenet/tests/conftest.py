import pytest
import torch

from wavenet.data import Vocab

# A small, fixed vocabulary of made-up words: tests never need the real data set.
WORDS = [
    "ava", "emma", "olivia", "mia", "isabella", "sophia", "charlotte", "amelia", "harper", "evelyn",
    "abigail", "ella", "liam", "noah", "oliver", "elijah", "james", "lucas", "mason", "ethan",
    "bo", "x", "alexandrina", "zoe", "maximilian", "jo", "anna", "hannah", "otto", "eve",
]  # fmt: skip


@pytest.fixture
def words():
    return list(WORDS)


@pytest.fixture
def vocab():
    return Vocab.from_words(WORDS)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)  # tiny tensors: threads only add noise
