"""The shared data pipeline: words, vocabulary, split by word, context windows, bad input."""

import ast
from pathlib import Path

import pytest
import torch

from makemore.data import Vocab, build_windows, load_words, split_words
from zero_to_hero import UserError


def write(tmp_path, content: bytes):
    path = tmp_path / "words.txt"
    path.write_bytes(content)
    return str(path)


def test_load_words_strips_and_drops_empty_lines(tmp_path):
    path = write(tmp_path, b"  emma \n\n\tava\r\n   \nzoe")
    assert load_words(path) == ["emma", "ava", "zoe"]


@pytest.mark.parametrize(
    "content, message",
    [(b"", "is empty"), (b"  \n\t\n \r\n", "no usable lines"), (b"emma\n\xff\xfeava\n", "not UTF-8")],
)
def test_load_words_bad_input(tmp_path, content, message):
    with pytest.raises(UserError, match=message):
        load_words(write(tmp_path, content))


def test_load_words_missing_file(tmp_path):
    with pytest.raises(UserError, match="missing file"):
        load_words(str(tmp_path / "nope.txt"))


def test_vocab_puts_boundary_first_then_sorted_characters():
    vocab = Vocab.from_words(["emma", "ava", "zoe"])
    assert vocab.itos == (".", "a", "e", "m", "o", "v", "z")
    assert vocab.stoi == {".": 0, "a": 1, "e": 2, "m": 3, "o": 4, "v": 5, "z": 6}
    assert len(vocab) == 7
    assert vocab.encode("emma") == [2, 3, 3, 1]
    assert vocab.decode([2, 3, 3, 1]) == "emma"
    assert vocab.decode(torch.tensor([6, 4, 2])) == "zoe"


def test_vocab_of_all_lowercase_letters_has_27_symbols():
    vocab = Vocab.from_words(["abcdefghijklm", "nopqrstuvwxyz", "anna"])
    assert len(vocab) == 27
    assert vocab.itos[0] == "." and vocab.itos[1] == "a" and vocab.itos[26] == "z"


def test_vocab_refuses_the_boundary_character_and_unknown_characters():
    with pytest.raises(UserError, match="item 2 .*'.'"):
        Vocab.from_words(["emma", "j.r.", "ava"])
    with pytest.raises(UserError, match="not in the vocabulary"):
        Vocab.from_words(["emma"]).encode("bob")


def test_split_is_seeded_by_word_and_covers_everything():
    words = [f"w{i}" for i in range(100)]
    train, val, test = split_words(words, seed=42)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert sorted(train + val + test) == sorted(words)
    assert split_words(words, seed=42) == (train, val, test)
    assert split_words(words, seed=43) != (train, val, test)
    assert words == [f"w{i}" for i in range(100)]  # the caller's list is not shuffled in place


def test_split_matches_the_lecture_recipe():
    import random

    words = [f"w{i}" for i in range(50)]
    expected = list(words)
    random.seed(42)
    random.shuffle(expected)  # lecture 3: random.seed(42); random.shuffle(words); cut at 80% and 90%
    assert split_words(words, seed=42) == (expected[:40], expected[40:45], expected[45:])


def test_windows_of_one_word():
    vocab = Vocab.from_words(["emma"])  # . a e m -> 0 1 2 3
    X, Y = build_windows(["emma"], vocab, block_size=3)
    assert X.dtype == Y.dtype == torch.long
    assert X.tolist() == [[0, 0, 0], [0, 0, 2], [0, 2, 3], [2, 3, 3], [3, 3, 1]]
    assert Y.tolist() == [2, 3, 3, 1, 0]


@pytest.mark.parametrize("block_size", [1, 2, 5, 8])
def test_window_shapes(block_size):
    words = ["emma", "olivia", "ava", "x"]
    vocab = Vocab.from_words(words)
    X, Y = build_windows(words, vocab, block_size)
    n = sum(len(w) + 1 for w in words)
    assert X.shape == (n, block_size) and Y.shape == (n,)
    assert (X[0] == 0).all()  # every word starts from a context of '.'


def test_windows_of_no_words_and_bad_block_size():
    vocab = Vocab.from_words(["ab"])
    X, Y = build_windows([], vocab, 3)
    assert X.shape == (0, 3) and Y.shape == (0,)
    with pytest.raises(ValueError):
        build_windows(["ab"], vocab, 0)


def definitions(path, wanted) -> dict[str, str]:
    """{name: its syntax tree, dumped} of the top-level definitions of a Python file whose name `wanted` accepts."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        name = getattr(node, "name", None)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        if name and wanted(name):
            found[name] = ast.dump(node)
    return found


def test_the_shared_code_and_its_tests_are_the_same_in_wavenet():
    """data.py's shared functions and the test_shared_* block below are copies in wavenet (each package stands
    alone); in the monorepo, a change to one copy only fails here."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "wavenet" / "wavenet" / "data.py").is_file():
        pytest.skip("makemore outside the monorepo: no wavenet beside it")
    names = ["BOUNDARY", "Vocab", "build_windows", "load_words", "split_words"]
    ours = definitions(root / "makemore" / "makemore" / "data.py", names.__contains__)
    assert sorted(ours) == names
    assert ours == definitions(root / "wavenet" / "wavenet" / "data.py", names.__contains__)
    shared_tests = definitions(Path(__file__), lambda name: name.startswith("test_shared_"))
    assert shared_tests
    assert shared_tests == definitions(
        root / "wavenet" / "tests" / "test_data.py", lambda n: n.startswith("test_shared_")
    )


# --- The behaviour makemore's and wavenet's data.py share: the same block in both packages' test_data.py ----------


@pytest.mark.parametrize(
    "content, words",
    [
        (b"emma\nava\n", ["emma", "ava"]),
        (b"  emma \r\n\n\tava\t\n\n", ["emma", "ava"]),  # stripped, blank lines dropped, CRLF
        (b"zo\xc3\xab\n", ["zo\u00eb"]),  # UTF-8
    ],
)
def test_shared_load_words(tmp_path, content, words):
    path = tmp_path / "words.txt"
    path.write_bytes(content)
    assert load_words(str(path)) == words


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"words\.txt is empty; give a file with one item per line"),
        (b"\n \n\t\n", r"words\.txt has no usable lines \(only whitespace\)"),
        (b"emma\n\xff\n", "not UTF-8"),
    ],
)
def test_shared_load_words_refuses(tmp_path, content, message):
    path = tmp_path / "words.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_words(str(path))


def test_shared_dot_is_refused_by_the_vocabulary_with_its_item_number(tmp_path):
    path = tmp_path / "words.txt"
    path.write_bytes(b"emma\nj.r.\n")
    words = load_words(str(path))  # a file with '.' loads: the vocabulary refuses it, whatever the words came from
    assert words == ["emma", "j.r."]
    message = r"^item 2 \('j\.r\.'\) contains '\.', which marks start/end of a word; remove it from the data$"
    with pytest.raises(UserError, match=message):
        Vocab.from_words(words)
    assert Vocab.from_words(["emma", "bo"]).itos == (".", "a", "b", "e", "m", "o")


@pytest.mark.parametrize(
    "n, sizes",
    [(3, (1, 1, 1)), (4, (2, 1, 1)), (5, (3, 1, 1)), (9, (7, 1, 1)), (10, (8, 1, 1)), (20, (16, 2, 2))],
)
def test_shared_split_gives_every_split_a_word(n, sizes):
    """The lecture's cuts int(0.8 n), int(0.9 n), moved just enough that no split is empty (by hand: n = 4 cuts at
    int(3.2) = 3 and int(3.6) = 3, an empty val; moved to 2 and 3)."""
    words = [f"w{i}" for i in range(n)]
    train, val, test = split_words(words, seed=0)
    assert (len(train), len(val), len(test)) == sizes
    assert sorted(train + val + test) == sorted(words)


def test_shared_split_refuses_fewer_than_three_words_and_bad_fractions():
    for words in ([], ["a"], ["a", "b"]):
        with pytest.raises(UserError, match=f"need at least 3 words for a train/val/test split, got {len(words)}"):
            split_words(words, seed=0)
    with pytest.raises(ValueError, match="summing to 1"):
        split_words(["a", "b", "c"], seed=0, fractions=(0.8, 0.1))
    with pytest.raises(ValueError, match="summing to 1"):
        split_words(["a", "b", "c"], seed=0, fractions=(0.5, 0.5, 0.5))


def test_shared_windows_by_hand():
    vocab = Vocab.from_words(["emma", "bo"])  # . a b e m o
    X, Y = build_windows(["bo"], vocab, block_size=2)
    assert X.tolist() == [[0, 0], [0, 2], [2, 5]] and Y.tolist() == [2, 5, 0]
    assert build_windows([], vocab, 2)[0].shape == (0, 2)
    with pytest.raises(ValueError, match="block_size must be >= 1"):
        build_windows(["bo"], vocab, 0)
    with pytest.raises(UserError, match="'z' are not in the vocabulary"):
        build_windows(["zo"], vocab, 2)
