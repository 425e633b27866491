"""GPT-2 token shards: the same tokens as tiktoken on the whole text, whatever the piece size and worker count."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tiktoken
import torch

from nanogpt.data import Batches
from nanogpt.shards import (
    EOT,
    prepare_shards,
    read_pieces,
    read_shard_meta,
    write_synthetic_shards,
)
from zero_to_hero import UserError

PACKAGE_ROOT = Path(__file__).resolve().parents[1]

quiet = dict(log=lambda *a: None)

TRICKY = "Hello  world!\n\n\n  indented line\n\tTab it's 123 4567\r\nwindows\n   \nüñíçødé 🤖 text's\n" * 30


def all_tokens(meta, folder):
    return np.concatenate([np.fromfile(folder / f, dtype=np.uint16) for f in meta["val"] + meta["train"]])


def test_pieces_split_only_where_the_gpt2_pre_tokenizer_splits(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TRICKY, newline="")
    pieces = list(read_pieces(path, piece_chars=50))
    assert len(pieces) > 10 and "".join(pieces) == TRICKY
    assert all(not p[:1].isspace() for p in pieces[1:])  # every piece after the first starts a visible line
    encoding = tiktoken.get_encoding("gpt2")
    assert sum((encoding.encode_ordinary(p) for p in pieces), []) == encoding.encode_ordinary(TRICKY)


@pytest.mark.parametrize("workers, piece_chars", [(1, 1 << 20), (2, 64)])
def test_shards_hold_each_document_after_an_eot_in_order(tmp_path, workers, piece_chars):
    texts = [TRICKY, "second document\nwith two lines\n" * 50, "third"]
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp_path / f"doc{i}.txt")
        paths[-1].write_text(text, newline="")
    folder = tmp_path / "shards"
    meta = prepare_shards(
        paths, folder, shard_tokens=300, val_tokens=100, workers=workers, piece_chars=piece_chars, **quiet
    )
    encoding = tiktoken.get_encoding("gpt2")
    expected = sum(([EOT] + encoding.encode_ordinary(t) for t in texts), [])
    assert all_tokens(meta, folder).tolist() == expected
    assert meta["val"] == ["val_000000.bin"] and meta["val_tokens"] == 100
    assert meta["train"][:2] == ["train_000000.bin", "train_000001.bin"]
    assert meta["train_tokens"] == len(expected) - 100
    assert [len(np.fromfile(folder / f, dtype=np.uint16)) for f in meta["train"][:-1]] == [300] * (
        len(meta["train"]) - 1
    )
    assert json.loads((folder / "meta.json").read_text())["train"] == meta["train"]
    assert read_shard_meta(folder)["train"][0] == folder / "train_000000.bin"


def test_preparing_again_replaces_old_shards(tmp_path):
    (tmp_path / "a.txt").write_text(TRICKY * 4)
    prepare_shards([tmp_path / "a.txt"], tmp_path / "s", shard_tokens=100, val_tokens=50, workers=1, **quiet)
    (tmp_path / "a.txt").write_text(TRICKY)
    meta = prepare_shards([tmp_path / "a.txt"], tmp_path / "s", shard_tokens=1000, val_tokens=50, workers=1, **quiet)
    assert sorted(p.name for p in (tmp_path / "s").glob("*.bin")) == sorted(meta["val"] + meta["train"])


def test_one_file_is_a_one_shard_data_set_and_windows_never_cross_shards(tmp_path):
    np.arange(1000, dtype=np.uint16).tofile(tmp_path / "one.bin")
    single = Batches(tmp_path / "one.bin", block_size=16, batch_size=8, seed=5)
    sharded = Batches([tmp_path / "one.bin"], block_size=16, batch_size=8, seed=5)
    generator = torch.Generator().manual_seed(5)  # the reference: B uniform starts in [0, len - T), then windows
    for _ in range(3):
        starts = torch.randint(1000 - 16, (8,), generator=generator)
        expected = starts[:, None] + torch.arange(17)  # arange data: a token is its own position
        for x, y in (single.next(), sharded.next()):
            assert torch.equal(x, expected[:, :-1]) and torch.equal(y, expected[:, 1:])
    # three shards of distinct ranges: a window that crossed a boundary would not count up by one
    for i, n in enumerate([40, 17, 300]):
        (np.arange(n, dtype=np.uint16) + 1000 * i).tofile(tmp_path / f"s{i}.bin")
    batches = Batches([tmp_path / f"s{i}.bin" for i in range(3)], block_size=16, batch_size=64, seed=0)
    seen = set()
    for _ in range(20):
        x, y = batches.next()
        assert torch.equal(x, x[:, :1] + torch.arange(16)) and torch.equal(y, x + 1)
        seen |= set((x[:, 0] // 1000).tolist())
    assert seen == {0, 1, 2}
    state = batches.state()
    a = batches.next()[0]
    batches.set_state(state)
    assert torch.equal(batches.next()[0], a)


def test_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        prepare_shards([tmp_path / "none.txt"], tmp_path / "s", **quiet)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8"):
        prepare_shards([tmp_path / "latin1.txt"], tmp_path / "s", workers=1, **quiet)
    (tmp_path / "small.txt").write_text("only a few tokens\n")
    with pytest.raises(UserError, match="all taken by val; lower val_tokens"):
        prepare_shards([tmp_path / "small.txt"], tmp_path / "s", val_tokens=1000, workers=1, **quiet)
    assert read_shard_meta(tmp_path / "s") is None  # no meta.json: not a usable shard folder
    np.arange(10, dtype=np.uint16).tofile(tmp_path / "tiny.bin")
    with pytest.raises(UserError, match="no shard"):
        Batches([tmp_path / "tiny.bin", tmp_path / "tiny.bin"], block_size=16, batch_size=2)


def test_command_line(tmp_path):
    (tmp_path / "a.txt").write_text(TRICKY)
    args = [sys.executable, "-m", "nanogpt.shards", "a.txt", "--out_dir=s", "--val_tokens=10", "--workers=1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "train and 10 val tokens" in result.stdout and (tmp_path / "s/meta.json").is_file()
    result = subprocess.run(
        [*args[:3], "missing.txt", "--out_dir=s"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert result.returncode == 2 and result.stderr.startswith("error: input file missing.txt not found")


@pytest.mark.parametrize("vocab_size, encoding", [(50257, "gpt2"), (65, "char")])
def test_synthetic_shards_are_uniform_tokens_of_the_vocabulary(tmp_path, vocab_size, encoding):
    from nanogpt.data import Tokenizer

    meta = write_synthetic_shards(tmp_path, vocab_size, tokens=20000)
    train = np.fromfile(meta["train"][0], dtype=np.uint16)
    assert len(train) == 20000 and len(np.fromfile(meta["val"][0], dtype=np.uint16)) == 2000
    assert 0.99 * (vocab_size - 1) <= train.max() < vocab_size and len(set(train.tolist())) > min(vocab_size, 20000) / 3
    tokenizer = Tokenizer.from_meta(meta)
    assert tokenizer.encoding == encoding and tokenizer.vocab_size == vocab_size
