import json

import numpy as np
import pytest
import tiktoken
import torch

from nanogpt.data import Batches, Tokenizer, prepare
from zero_to_hero import UserError


def test_prepare_char_writes_a_90_10_split_that_decodes_back(corpus, tmp_path):
    text = corpus.read_text()
    meta = prepare(str(corpus), "char", tmp_path / "d")
    train = np.fromfile(tmp_path / "d/train.bin", dtype=np.uint16)
    val = np.fromfile(tmp_path / "d/val.bin", dtype=np.uint16)
    assert len(train) == int(0.9 * len(text)) and len(train) + len(val) == len(text)
    assert meta["itos"] == sorted(set(text)) and meta["vocab_size"] == len(set(text))
    assert json.loads((tmp_path / "d/meta.json").read_text()) == meta
    tokenizer = Tokenizer.from_meta(meta)
    assert tokenizer.decode(train.tolist()) + tokenizer.decode(val.tolist()) == text


def test_prepare_gpt2_matches_tiktoken(corpus, tmp_path):
    text = corpus.read_text()
    meta = prepare(str(corpus), "gpt2", tmp_path / "d")
    ids = np.concatenate([np.fromfile(tmp_path / f"d/{s}.bin", dtype=np.uint16) for s in ("train", "val")])
    assert ids.tolist() == tiktoken.get_encoding("gpt2").encode_ordinary(text)
    assert meta["vocab_size"] == 50257 and Tokenizer.from_meta(meta).decode(ids.tolist()) == text


def test_prepare_is_skipped_when_unchanged_and_redone_when_the_text_changes(corpus, tmp_path):
    prepare(str(corpus), "char", tmp_path / "d")
    stamp = (tmp_path / "d/train.bin").stat().st_mtime_ns
    prepare(str(corpus), "char", tmp_path / "d")
    assert (tmp_path / "d/train.bin").stat().st_mtime_ns == stamp
    corpus.write_text("zzz different text " * 20)
    meta = prepare(str(corpus), "char", tmp_path / "d")
    assert "z" in meta["itos"] and "k" not in meta["itos"]


def test_prepare_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(UserError, match="empty"):
        prepare(str(empty), "char", tmp_path / "d")
    short = tmp_path / "short.txt"
    short.write_text("hello")
    with pytest.raises(UserError, match="only 5 tokens"):
        prepare(str(short), "char", tmp_path / "d")
    with pytest.raises(UserError, match="unknown encoding 'utf8'; choose one of char, gpt2"):
        prepare(str(short), "utf8", tmp_path / "d")
    with pytest.raises(UserError, match="missing file"):
        prepare(str(tmp_path / "nope.txt"), "char", tmp_path / "d")


def test_batches_are_windows_of_the_data_with_shifted_targets(tmp_path):
    data = np.arange(1000, dtype=np.uint16)
    data.tofile(tmp_path / "t.bin")
    x, y = Batches(tmp_path / "t.bin", block_size=16, batch_size=8, seed=0).next()
    assert x.shape == y.shape == (8, 16) and x.dtype == torch.long
    assert torch.equal(y[:, :-1], x[:, 1:])  # arange data: every window counts up by one
    assert torch.equal(x, x[:, :1] + torch.arange(16))
    assert int(x[:, 0].max()) <= 1000 - 17


def test_batches_state_round_trip_reproduces_the_stream(tmp_path):
    np.arange(500, dtype=np.uint16).tofile(tmp_path / "t.bin")
    a = Batches(tmp_path / "t.bin", 8, 4, seed=3)
    a.next()
    state = a.state()
    expected = [a.next()[0] for _ in range(3)]
    b = Batches(tmp_path / "t.bin", 8, 4, seed=99)
    b.set_state(state)
    for want in expected:
        assert torch.equal(b.next()[0], want)


def test_text_shorter_than_one_block_is_a_clear_error(tmp_path):
    np.arange(10, dtype=np.uint16).tofile(tmp_path / "t.bin")
    with pytest.raises(UserError, match="fewer than block_size"):
        Batches(tmp_path / "t.bin", block_size=10, batch_size=2)


def test_char_tokenizer_rejects_unknown_characters():
    tokenizer = Tokenizer("char", "abc")
    assert tokenizer.decode(tokenizer.encode("cab")) == "cab"
    with pytest.raises(UserError, match="not in the vocabulary: 'xz'"):
        tokenizer.encode("zax")
