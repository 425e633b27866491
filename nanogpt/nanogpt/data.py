"""Text -> token files -> random training batches.

    meta = prepare("tinyshakespeare", "char", "out/data/tinyshakespeare-char")  # train.bin, val.bin, meta.json
    tokenizer = Tokenizer.from_meta(meta)
    batches = Batches("out/data/tinyshakespeare-char/train.bin", block_size=64, batch_size=12, seed=1337)
    x, y = batches.next()          # (B, T) inputs and (B, T) targets, y shifted one token to the right

Token files are flat uint16 arrays (every vocabulary here has < 65,536 tokens), memory-mapped once,
so a corpus larger than RAM trains as easily as tiny shakespeare.
"""

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from zero_to_hero import UserError
from zero_to_hero.datasets import read_text


@contextlib.contextmanager
def unique_atomic_path(path):
    """Like zero_to_hero.files.atomic_path, with a temporary name unique to this writer: the local rank 0 of
    every node may prepare the same files into one shared folder at once, and a fixed `<name>.tmp` of one node
    would be overwritten, renamed or removed under the other's feet."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_unique(path, data) -> None:
    with unique_atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


ENCODINGS = ("char", "gpt2")
TRAIN_FRACTION = 0.9


class Tokenizer:
    """Characters (vocabulary = the text's own characters) or GPT-2 BPE (tiktoken 'gpt2')."""

    def __init__(self, encoding: str, chars: str = ""):
        if encoding not in ENCODINGS:
            raise UserError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
        self.encoding = encoding
        if encoding == "char":
            self.itos = list(chars)
            self.stoi = {ch: i for i, ch in enumerate(self.itos)}
            self.vocab_size = len(self.itos)
        else:
            import tiktoken

            self._bpe = tiktoken.get_encoding("gpt2")
            self.vocab_size = self._bpe.n_vocab  # 50257

    @classmethod
    def from_meta(cls, meta: dict) -> "Tokenizer":
        return cls(meta["encoding"], "".join(meta.get("itos", [])))

    def meta(self) -> dict:
        """What a checkpoint needs to rebuild this tokenizer (plain lists and strings: weights_only-safe)."""
        meta = {"encoding": self.encoding, "vocab_size": self.vocab_size}
        if self.encoding == "char":
            meta["itos"] = self.itos
        return meta

    def encode(self, text: str) -> list[int]:
        if self.encoding == "gpt2":
            return self._bpe.encode_ordinary(text)
        unknown = sorted(set(text) - self.stoi.keys())
        if unknown:
            raise UserError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return [self.stoi[ch] for ch in text]

    def decode(self, ids) -> str:
        if self.encoding == "gpt2":
            return self._bpe.decode(list(ids))
        return "".join(self.itos[i] for i in ids)


def prepare(dataset: str, encoding: str, folder) -> dict:
    """Encode a data set (a zero_to_hero name or a text file) into folder/{train,val}.bin + meta.json.

    Skipped when the folder already holds this exact text in this encoding. Returns the meta dict.
    """
    if encoding not in ENCODINGS:
        raise UserError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")
    text = read_text(dataset)
    if not text:
        raise UserError(f"data set {dataset!r} is empty; give a text file with some content")
    folder = Path(folder)
    digest = hashlib.sha256(text.encode()).hexdigest()
    meta_path = folder / "meta.json"
    if meta_path.is_file() and (folder / "train.bin").is_file() and (folder / "val.bin").is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("sha256") == digest and meta.get("encoding") == encoding:
            return meta
    tokenizer = Tokenizer(encoding, "".join(sorted(set(text))))
    ids = np.array(tokenizer.encode(text), dtype=np.uint16)
    n_train = int(len(ids) * TRAIN_FRACTION)
    if n_train < 2 or len(ids) - n_train < 2:
        raise UserError(f"data set {dataset!r} has only {len(ids)} tokens; it needs at least 20 for a 90/10 split")
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in [("train.bin", ids[:n_train]), ("val.bin", ids[n_train:])]:
        with unique_atomic_path(folder / name) as tmp:
            tmp.write_bytes(part.tobytes())
    meta = {**tokenizer.meta(), "sha256": digest, "train_tokens": n_train, "val_tokens": len(ids) - n_train}
    write_json_unique(meta_path, meta)  # written last: its presence means the folder is complete
    return meta


def to_device(chunk: torch.Tensor, device: torch.device):
    """(B, T+1) token windows -> inputs x and targets y, each (B, T), on the device."""
    x, y = chunk[:, :-1], chunk[:, 1:]  # y is x shifted by one: every position predicts its next token
    if device.type == "cuda":  # pinned memory lets the copy overlap with compute
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x.to(device), y.to(device)


class Batches:
    """Random (x, y) windows from a uint16 token file, drawn with a seeded generator whose state can be saved.

    The memmap is opened once; each batch is one fancy-indexing gather of (B, T+1) tokens.
    Under DDP every rank draws the window starts of the whole world's micro-batch (world_size * B)
    from the same seeded stream and keeps its own B: ranks see different rows, together exactly the
    rows one process would draw, so a run's data does not depend on the number of GPUs.
    """

    def __init__(self, path, block_size: int, batch_size: int, seed: int = 0, device="cpu", rank=0, world_size=1):
        self.data = np.memmap(path, dtype=np.uint16, mode="r")
        if len(self.data) <= block_size:
            raise UserError(
                f"{path} holds {len(self.data)} tokens, fewer than block_size + 1 = {block_size + 1}; "
                "use a longer text or a smaller block_size"
            )
        self.block_size, self.batch_size = block_size, batch_size
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        self._window = np.arange(block_size + 1)  # (T+1,)

    def next(self):
        B = self.batch_size
        starts = torch.randint(len(self.data) - self.block_size, (self.world_size * B,), generator=self.generator)
        starts = starts[self.rank * B : (self.rank + 1) * B]  # this rank's share
        chunk = torch.from_numpy(self.data[starts.numpy()[:, None] + self._window].astype(np.int64))  # (B, T+1)
        return to_device(chunk, self.device)

    def skip(self) -> None:
        """Advance the stream past one batch without reading it (a rank that evaluates another's batch)."""
        torch.randint(len(self.data) - self.block_size, (self.world_size * self.batch_size,), generator=self.generator)

    def state(self) -> torch.Tensor:
        return self.generator.get_state()

    def set_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)
