"""Training: the Wikipedia example, the fast trainer against a naive one, and training errors."""

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minbpe import BasicTokenizer, RegexTokenizer, reference
from minbpe.reference import merge
from minbpe.training import learn_merges
from zero_to_hero.datasets import read_text


def naive_merges(chunks: list[list[int]], first_id: int, num_merges: int) -> list[tuple[tuple[int, int], int]]:
    """The lecture's loop (reference.py) as (pair, count) for each merge."""
    return [(pair, count) for pair, _, count in reference.learn_merges(chunks, first_id, num_merges)]


def random_corpus(rng: random.Random) -> str:
    """Words over a small random alphabet, drawn with Zipf-like frequencies: many ties and repeats."""
    alphabet = rng.sample("abcdefghij klmn\néü😀", rng.randint(3, 10))
    words = ["".join(rng.choices(alphabet, k=rng.randint(1, 8))) for _ in range(rng.randint(5, 60))]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return " ".join(rng.choices(words, weights, k=rng.randint(50, 800)))


@pytest.mark.parametrize("cls", [BasicTokenizer, RegexTokenizer])
def test_wikipedia_example(cls):
    tokenizer = cls()
    tokenizer.train("aaabdaaabac", 256 + 3)
    assert tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    # Wikipedia's X = ZY (aa, ab, aa+ab) breaks the tie for the second merge the other way; the original
    # minbpe (and we) take the pair seen first, aa+a, then aaa+b: the same ids in the end
    assert tokenizer.merges == {(97, 97): 256, (256, 97): 257, (257, 98): 258}
    assert tokenizer.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"


def test_verbose_prints_each_merge(capsys):
    BasicTokenizer().train("aaabdaaabac", 259, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "merge 1: (97, 97) -> 256 [aa] x4",
        "merge 2: (256, 97) -> 257 [aaa] x2",
        "merge 3: (257, 98) -> 258 [aaab] x2",
    ]


chunk_lists = st.lists(st.lists(st.integers(0, 5), max_size=40), min_size=1, max_size=8)


@given(chunk_lists, st.integers(1, 40))
def test_fast_trainer_matches_naive(chunks, num_merges):
    counts = Counter(tuple(c) for c in chunks)
    fast = [(pair, count) for pair, _, count in learn_merges(counts, 256, num_merges)]
    assert fast == naive_merges([list(c) for c in chunks], 256, num_merges)


@given(st.text(alphabet="ab c\n", max_size=300), st.integers(1, 30))
def test_regex_trainer_matches_naive_on_words(text, num_merges):
    tokenizer = RegexTokenizer()
    expected = naive_merges([list(w.encode()) for w in tokenizer.split(text)], 256, num_merges)
    if not expected:
        return
    tokenizer.train(text, 256 + num_merges)
    assert list(tokenizer.merges) == [pair for pair, _ in expected]


@given(st.text(alphabet="the cat sat on a mat;.\n", max_size=400))
def test_encode_matches_applying_merges_in_order(text):
    """Encoding (lowest merge id first, again and again) = replaying the merges in training order."""
    training_text = "the cat sat on the mat; the hat is on the cat. " * 20 + "unique tail 12345"
    for cls in (BasicTokenizer, RegexTokenizer):
        tokenizer = cls()
        tokenizer.train(training_text, 300)
        expected = []
        for piece in tokenizer.split(text) if cls is RegexTokenizer else [text]:
            ids = list(piece.encode())
            for pair, new_id in tokenizer.merges.items():
                ids = merge(ids, pair, new_id)
            expected += ids
        assert tokenizer.encode(text) == expected
        assert tokenizer.encode_ordinary(text, reference=True) == expected  # the lecture's loop agrees


@pytest.mark.parametrize("seed", range(40))
def test_fast_trainer_learns_the_references_merges_on_random_corpora(seed):
    """Same merges, same order, as the lecture's loop: random texts, vocabulary sizes and tokenizers."""
    rng = random.Random(seed)
    text = random_corpus(rng)
    cls = (BasicTokenizer, RegexTokenizer)[seed % 2]
    vocab_size = rng.randint(257, 400)
    fast, slow = cls(), cls()
    fast.train(text, vocab_size)
    slow.train(text, vocab_size, reference=True)
    assert len(fast.merges) > 0 and fast.merges == slow.merges
    assert fast.encode(text) == slow.encode(text)


@pytest.mark.parametrize("cls", [BasicTokenizer, RegexTokenizer])
def test_fast_trainer_learns_the_references_merges_on_real_text(cls):
    text = read_text("taylorswift")[:15000]
    fast, slow = cls(), cls()
    fast.train(text, 400)
    slow.train(text, 400, reference=True)
    assert fast.merges == slow.merges


def test_reference_training_continues_from_existing_merges_too():
    text = "low lower lowest newer newest wider widest " * 10
    fast, slow = RegexTokenizer(), RegexTokenizer()
    fast.train(text, 280)
    slow.train(text, 270, reference=True)
    slow.train(text, 280, reference=True)
    assert fast.merges == slow.merges


def test_ties_go_to_the_pair_that_occurs_first_in_the_text():
    # every pair occurs once: the first one in the text wins, as in the original minbpe (not the smallest, xa)
    for cls in (BasicTokenizer, RegexTokenizer):
        for flag in (False, True):
            tokenizer = cls()
            tokenizer.train("zyxa", 259, reference=flag)
            assert list(tokenizer.merges) == [(122, 121), (256, 120), (257, 97)]  # zy, then zy+x, zyx+a
    # across chunks: "cd" and "ab" occur twice each; "cd" comes first in the text
    for flag in (False, True):
        tokenizer = RegexTokenizer(r"\S+|\s+")
        tokenizer.train("cd ab cd ab", 257, reference=flag)
        assert list(tokenizer.merges) == [(99, 100)]


def test_regex_merges_never_cross_pieces():
    text = "dog. dog! dog? hotdog, 123456 dogs\n\n  dog"
    tokenizer = RegexTokenizer()
    tokenizer.train(text * 5, 320)
    pieces = tokenizer.split(text)
    assert pieces[:4] == ["dog", ".", " dog", "!"]
    assert tokenizer.encode(text) == [i for piece in pieces for i in tokenizer.encode(piece)]
    for token in tokenizer.vocab.values():  # a merged token is always inside one piece
        assert tokenizer.split(token.decode("utf-8", "replace")) in ([], [token.decode("utf-8", "replace")])


def test_basic_merges_cross_spaces():
    tokenizer = BasicTokenizer()
    tokenizer.train("e te te te te", 258)
    assert tokenizer.vocab[256] == b"e " and tokenizer.vocab[257] == b"e t"  # "e ", " t", "te" tie: "e " is first


def test_training_continues_from_existing_merges():
    text = "low lower lowest newer newest wider widest " * 10
    once, twice = RegexTokenizer(), RegexTokenizer()
    once.train(text, 300)
    twice.train(text, 280)
    twice.train(text, 300)
    assert twice.merges == once.merges


def test_training_stops_when_nothing_is_left_to_merge():
    tokenizer = BasicTokenizer()
    tokenizer.train("abcd", 1000)
    assert tokenizer.merges == {(97, 98): 256, (256, 99): 257, (257, 100): 258}  # ties: the first in the text
    assert tokenizer.encode("abcd") == [258]


@given(st.text(max_size=200))
def test_trained_round_trip(text):
    for cls in (BasicTokenizer, RegexTokenizer):
        tokenizer = cls()
        tokenizer.train("hello world, hello tokenizer! 你好 😀😀 " * 3, 280)
        assert tokenizer.decode(tokenizer.encode(text)) == text


def test_lone_surrogates_are_replaced_as_in_tiktoken():
    tokenizer = RegexTokenizer()
    tokenizer.train("abc", 257)
    assert tokenizer.decode(tokenizer.encode("a\ud800b")) == "a\ufffdb"
    assert tokenizer.decode(tokenizer.encode("\ud83d\ude00")) == "😀"  # a split pair is joined


@pytest.mark.parametrize(
    "vocab_size, message",
    [
        (255, "vocab_size must be an int >= 256"),
        (256.5, "vocab_size must be an int >= 256"),
        ("512", "vocab_size must be an int >= 256"),
        (256, "not above the current size 256"),
    ],
)
def test_bad_vocab_size(vocab_size, message):
    with pytest.raises(ValueError, match=message):
        BasicTokenizer().train("some text", vocab_size)


def test_vocab_size_must_grow():
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 259)
    with pytest.raises(ValueError, match="not above the current size 259"):
        tokenizer.train("aaabdaaabac", 259)


def test_special_tokens_in_the_way_of_new_merges():
    tokenizer = RegexTokenizer()
    tokenizer.register_special_tokens({"<|end|>": 260})
    with pytest.raises(ValueError, match=r"special token ids \[260\] collide"):
        tokenizer.train("aaabdaaabac", 300)
    tokenizer.train("aaabdaaabac", 259)  # ids 256..258 are free
    assert tokenizer.encode("aa<|end|>", allowed_special="all") == [256, 260]
