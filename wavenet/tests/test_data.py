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


@pytest.mark.parametrize(
    "content, message",
    [(b"\n \n", "holds no words"), (b"ann.a\n", "marks word boundaries"), (b"\xff\xfe\n", "not UTF-8")],
)
def test_load_words_rejects_bad_files(tmp_path, content, message):
    path = tmp_path / "w.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_words(str(path))


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
