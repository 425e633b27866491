"""Text -> token files -> random training batches.

    meta = prepare("tinyshakespeare", "char", "out/data/tinyshakespeare-char")  # train.bin, val.bin, meta.json
    tokenizer = Tokenizer.from_meta(meta)
    batches = Batches("out/data/tinyshakespeare-char/train.bin", block_size=64, batch_size=12, seed=1337)
    x, y = batches.next()          # (B, T) inputs and (B, T) targets, y shifted one token to the right

Token files are flat uint16 arrays (every vocabulary here has < 65,536 tokens), memory-mapped once,
so a corpus larger than RAM trains as easily as tiny shakespeare.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from zero_to_hero import UserError
from zero_to_hero.datasets import read_text, sha256_of
from zero_to_hero.encodings import get_encoding
from zero_to_hero.files import atomic_path, write_json

ENCODINGS = ("char", "gpt2")
TRAIN_FRACTION = 0.9
MAX_VOCAB = 65_536  # token ids are stored as uint16


def _prepared_problem(folder: Path, digest: str, encoding: str) -> tuple[dict | None, str | None]:
    """(meta, None) when folder holds this text, prepared whole; (None, why not) when it must be (re)prepared."""
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        return None, None  # never prepared: nothing to report
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError):
        return None, f"{meta_path} is corrupt"
    if meta.get("sha256") != digest or meta.get("encoding") != encoding:
        return None, None  # another text or encoding: prepared anew, as always
    for split in ("train", "val"):
        path = folder / f"{split}.bin"
        tokens = meta.get(f"{split}_tokens")
        if not path.is_file():
            return None, f"{path} is missing"
        if not isinstance(tokens, int) or path.stat().st_size != 2 * tokens:
            return None, f"{path} holds {path.stat().st_size:,} bytes, not the {tokens!r} tokens meta.json lists"
        if f"{split}_sha256" in meta and sha256_of(path) != meta[f"{split}_sha256"]:
            return None, f"{path} does not match the checksum in meta.json"
    return meta, None


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
            self._bpe = get_encoding("gpt2")
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
    meta, problem = _prepared_problem(folder, digest, encoding)
    if meta is not None:
        return meta
    if problem:
        print(f"{problem}: preparing {folder} again")
    tokenizer = Tokenizer(encoding, "".join(sorted(set(text))))
    if tokenizer.vocab_size > MAX_VOCAB:
        raise UserError(
            f"data set {dataset!r} has {tokenizer.vocab_size:,} distinct characters; token files hold at most "
            f"{MAX_VOCAB:,} (uint16): use encoding='gpt2' or a text with fewer symbols"
        )
    ids = np.array(tokenizer.encode(text), dtype=np.uint16)
    n_train = int(len(ids) * TRAIN_FRACTION)
    if n_train < 2 or len(ids) - n_train < 2:
        raise UserError(f"data set {dataset!r} has only {len(ids)} tokens; it needs at least 20 for a 90/10 split")
    folder.mkdir(parents=True, exist_ok=True)
    meta = {**tokenizer.meta(), "sha256": digest, "train_tokens": n_train, "val_tokens": len(ids) - n_train}
    for split, part in [("train", ids[:n_train]), ("val", ids[n_train:])]:
        data = part.tobytes()
        with atomic_path(folder / f"{split}.bin") as tmp:  # a temporary name per writer
            tmp.write_bytes(data)
        meta[f"{split}_sha256"] = hashlib.sha256(data).hexdigest()
    write_json(meta_path, meta)  # written last: its presence means the folder is complete
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
