"""Text -> token files -> random training batches.

    meta = prepare("tinyshakespeare", "char", "out/data/tinyshakespeare-char")  # train.bin, val.bin, meta.json
    tokenizer = Tokenizer.from_meta(meta)
    batches = Batches("out/data/tinyshakespeare-char/train.bin", block_size=64, batch_size=12, seed=1337)
    # a shard folder's files (shards.py) are read the same way: Batches([train_000000.bin, ...], ...)
    x, y = batches.next()          # (B, T) inputs and (B, T) targets, y shifted one token to the right

Token files are flat uint16 arrays (every vocabulary here has < 65,536 tokens), memory-mapped once,
so a corpus larger than RAM trains as easily as tiny shakespeare.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from nanogpt import distributed
from nanogpt.shards import read_shard_meta
from zero_to_hero import UserError
from zero_to_hero.datasets import read_text, sha256_of
from zero_to_hero.encodings import get_encoding
from zero_to_hero.files import atomic_path, prepare_out_dir, write_json

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
    meta = {**tokenizer.meta(), "sha256": digest, "train_tokens": n_train, "val_tokens": len(ids) - n_train}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for split, part in [("train", ids[:n_train]), ("val", ids[n_train:])]:
            data = part.tobytes()
            with atomic_path(folder / f"{split}.bin") as tmp:  # a temporary name per writer
                tmp.write_bytes(data)
            meta[f"{split}_sha256"] = hashlib.sha256(data).hexdigest()
        write_json(meta_path, meta)  # written last: its presence means the folder is complete
    except OSError as e:  # a full disk, a quota: no meta.json, so the folder is prepared again next time
        raise UserError(
            f"could not write the token files into {folder} ({e.strerror or e}); free some space or choose "
            "another --data_dir"
        ) from None
    return meta


# nanoGPT's data set names (folders under its data/) -> ours: (data set, encoding) or how to make it
NANOGPT_DATASETS = {"shakespeare_char": ("tinyshakespeare", "char"), "shakespeare": ("tinyshakespeare", "gpt2")}
NANOGPT_RECIPES = {
    "openwebtext": "python -m nanogpt.shards --hf=Skylion007/openwebtext --out_dir=out/data/openwebtext "
    "(pip install 'nanogpt[corpora]'), then --dataset=out/data/openwebtext"
}


def resolve_dataset(dataset: str, encoding: str) -> tuple[str, str]:
    """(dataset, encoding): nanoGPT's names mapped to ours unless a file or folder of that name exists."""
    if Path(dataset).exists():
        return dataset, encoding
    if dataset in NANOGPT_DATASETS:
        return NANOGPT_DATASETS[dataset]
    if dataset in NANOGPT_RECIPES:
        raise UserError(f"nanoGPT's data set {dataset!r} must be prepared first: {NANOGPT_RECIPES[dataset]}")
    return dataset, encoding


def token_files(dataset: str, encoding: str, data_dir: Path, world: distributed.World) -> tuple[dict, dict]:
    """(meta, {"train": [files], "val": [files]}): a shard folder's own files (python -m nanogpt.shards), or a
    data set / text file prepared into data_dir/<name>-<encoding>/{train,val}.bin, by one process per node
    while the others wait."""
    shards = read_shard_meta(dataset)
    if shards is not None:
        return shards, {split: shards[split] for split in ("train", "val")}
    folder = data_dir / f"{Path(dataset).stem}-{encoding}"
    if world.local_rank == 0:
        prepare_out_dir(folder, "--data_dir")  # a folder that takes no files must be found now
    else:
        distributed.barrier(world)  # wait for local rank 0 to prepare it
    meta = prepare(dataset, encoding, folder)
    if world.local_rank == 0:
        distributed.barrier(world)
    return meta, {split: [folder / f"{split}.bin"] for split in ("train", "val")}


def to_device(chunk: torch.Tensor, device: torch.device):
    """(B, T+1) token windows -> inputs x and targets y, each (B, T), on the device."""
    x, y = chunk[:, :-1], chunk[:, 1:]  # y is x shifted by one: every position predicts its next token
    if device.type == "cuda":  # pinned memory lets the copy overlap with compute
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
    return x.to(device), y.to(device)


class Batches:
    """Random (x, y) windows from uint16 token files, drawn with a seeded generator whose state can be saved.

    One file (a prepared split's .bin) or several (a shard folder's, see shards.py): the files read as one
    stream of windows that never cross a file boundary, so a .bin file is simply a one-shard data set. Under
    DDP every rank draws the window starts of the whole world's micro-batch (world_size * B) from the same
    seeded stream and keeps its own B: ranks see different rows, together exactly the rows one process would
    draw, so a run's data does not depend on the number of GPUs. Each file is memory-mapped once.
    """

    def __init__(self, paths, block_size: int, batch_size: int, seed: int = 0, device="cpu", rank=0, world_size=1):
        paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        files = [np.memmap(path, dtype=np.uint16, mode="r") for path in paths]
        self.files = [data for data in files if len(data) > block_size]  # files with at least one window
        if len(paths) == 1 and not self.files:
            raise UserError(
                f"{paths[0]} holds {len(files[0])} tokens, fewer than block_size + 1 = {block_size + 1}; "
                "use a longer text or a smaller block_size"
            )
        if not self.files:
            raise UserError(f"no shard among {len(paths)} holds more than block_size = {block_size} tokens")
        # file i offers len - block_size window starts; a start drawn over all of them picks file and offset
        self.ends = np.cumsum([len(data) - block_size for data in self.files])  # (n_files,)
        self.begins = np.concatenate([[0], self.ends[:-1]])  # the first global start of each file
        self.block_size, self.batch_size = block_size, batch_size
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        self._window = np.arange(block_size + 1)  # (T+1,)

    def _starts(self) -> torch.Tensor:
        """The whole world's window starts for one micro-batch: the step of the stream every rank takes."""
        return torch.randint(int(self.ends[-1]), (self.world_size * self.batch_size,), generator=self.generator)

    def next(self):
        B = self.batch_size
        starts = self._starts().numpy()[self.rank * B : (self.rank + 1) * B]  # this rank's share
        which = np.searchsorted(self.ends, starts, side="right")  # (B,) the file of each window
        offsets = starts - self.begins[which]
        chunk = np.empty((B, self.block_size + 1), dtype=np.int64)
        for f in np.unique(which):  # one gather of (rows, T+1) tokens per file drawn from
            rows = which == f
            chunk[rows] = self.files[f][offsets[rows, None] + self._window]
        return to_device(torch.from_numpy(chunk), self.device)  # (B, T+1) -> x, y

    def skip(self) -> None:
        """Advance the stream past one batch without reading it (a rank that evaluates another's batch)."""
        self._starts()

    def state(self) -> torch.Tensor:
        return self.generator.get_state()

    def set_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)
