import pytest
import torch

from wavenet.data import Vocab, build_windows, load_words, padded_sequences, split_words
from zero_to_hero import UserError


def test_vocab_puts_boundary_first(vocab, words):
    assert vocab.itos[0] == "."
    assert vocab.itos[1:] == tuple(sorted(set("".join(words))))
    assert vocab.stoi == {ch: i for i, ch in enumerate(vocab.itos)}
    assert vocab.decode(vocab.encode("emma")) == "emma"
    assert Vocab.from_words(["ba", "ab"]).itos == (".", "a", "b")
    with pytest.raises(UserError, match="'#' are not in the vocabulary"):
        vocab.encode("ann#")


def test_build_windows_of_one_word():
    vocab = Vocab(tuple(".aem"))
    x, y = build_windows(["emma"], vocab, block_size=3)
    assert vocab.decode(y.tolist()) == "emma."
    assert [vocab.decode(row) for row in x.tolist()] == ["...", "..e", ".em", "emm", "mma"]
    x, y = build_windows([], vocab, block_size=3)
    assert x.shape == (0, 3) and y.shape == (0,)


def test_padded_sequences_hold_every_context(vocab, words):
    """Output position t of the dilated model sees x[t : t + block_size]: exactly context t of the word."""
    block = 8
    x, y = padded_sequences(words, vocab, block)
    T = max(map(len, words)) + 1
    assert x.shape == (len(words), block - 1 + T) and y.shape == (len(words), T)
    for i, word in enumerate(words):
        cx, cy = build_windows([word], vocab, block)
        n = len(word) + 1
        assert torch.equal(y[i, :n], cy) and torch.all(y[i, n:] == -1)
        for t in range(n):
            assert torch.equal(x[i, t : t + block], cx[t])


def test_split_is_seeded_disjoint_and_80_10_10():
    words = [f"w{i:03d}" for i in range(1000)]
    a, b, c = split_words(words, seed=1), split_words(words, seed=1), split_words(words, seed=2)
    assert a == b and a != c
    assert isinstance(a, tuple) and [len(part) for part in a] == [800, 100, 100]
    assert sorted(a[0] + a[1] + a[2]) == words
    assert split_words(["a", "b", "c"], seed=0) == (["a"], ["c"], ["b"])  # every split non-empty even when tiny
    with pytest.raises(UserError, match="at least 3 words"):
        split_words(["a", "b"], seed=0)
    with pytest.raises(ValueError, match="summing to 1"):
        split_words(words, seed=0, fractions=(0.8, 0.1))


def test_load_words_from_a_file(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("anna\n\n  bob \ncarl\n")
    assert load_words(str(path)) == ["anna", "bob", "carl"]


def test_load_words_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="missing file"):
        load_words(str(tmp_path / "nope.txt"))


def test_split_follows_the_lecture_recipe():
    """random.seed(42); random.shuffle(words); cut at int(0.8 n) and int(0.9 n) — the lecture's split."""
    import random

    words = [f"w{i}" for i in range(1001)]
    expected = list(words)
    random.seed(42)
    random.shuffle(expected)
    assert split_words(words, seed=42) == (expected[:800], expected[800:900], expected[900:])


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
