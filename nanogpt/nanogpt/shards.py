"""A corpus too large for memory -> GPT-2 BPE token shards, encoded on every core; batches drawn across shards.

    python -m nanogpt.shards web/*.txt --out_dir=out/data/web      # then: python train.py --dataset=out/data/web
    meta = prepare_shards(["a.txt", "b.txt"], "out/data/web", shard_tokens=100_000_000, val_tokens=5_000_000)
    batches = ShardedBatches(meta["train"], block_size=1024, batch_size=12, seed=1337)

Every input file is a document and starts with GPT-2's <|endoftext|> token, as in GPT-2's own training
data, so the model learns where documents begin. Files are streamed, never read whole: each is cut into
pieces of about `piece_chars` characters at a line start that is not whitespace — a place where GPT-2's
pre-tokenizer always splits — so encoding the pieces separately gives exactly the tokens of the whole
file, in any number of processes. The first `val_tokens` tokens go to val, the rest to train, in
uint16 shards of `shard_tokens` tokens: {out_dir}/val_000000.bin, train_000000.bin, train_000001.bin, ...
meta.json, written last, lists them.
"""

import argparse
import json
import multiprocessing
import os
from pathlib import Path

import numpy as np
import torch

from nanogpt.data import to_device
from zero_to_hero import UserError, run_main
from zero_to_hero.files import atomic_path, write_json

EOT = 50256  # <|endoftext|>
VOCAB_SIZE = 50257


def read_pieces(path: Path, piece_chars: int):
    """Yield the text of `path` in pieces of >= piece_chars characters, each ending just before a line
    that starts with a non-whitespace character (or at the end of the file)."""
    piece, size = [], 0
    try:
        with open(path, encoding="utf-8", newline="") as f:
            for line in f:
                if size >= piece_chars and line[:1] and not line[:1].isspace():
                    yield "".join(piece)
                    piece, size = [], 0
                piece.append(line)
                size += len(line)
    except UnicodeDecodeError as e:
        raise UserError(f"{path} is not UTF-8 text ({e})") from None
    except OSError as e:
        raise UserError(f"cannot read {path} ({e.strerror})") from None
    if piece:
        yield "".join(piece)


def _jobs(paths, piece_chars):
    for path in paths:
        for i, piece in enumerate(read_pieces(Path(path), piece_chars)):
            yield i == 0, piece


_encoding = None


def _encode(job) -> np.ndarray:
    global _encoding
    if _encoding is None:  # once per worker process
        import tiktoken

        _encoding = tiktoken.get_encoding("gpt2")
    starts_document, text = job
    ids = ([EOT] if starts_document else []) + _encoding.encode_ordinary(text)
    return np.array(ids, dtype=np.uint16)


class ShardWriter:
    """Takes token arrays in order; fills val up to val_tokens, then train, in files of shard_tokens tokens."""

    def __init__(self, folder: Path, shard_tokens: int, val_tokens: int):
        self.folder, self.shard_tokens, self.val_tokens = folder, shard_tokens, val_tokens
        self.files = {"val": [], "train": []}
        self.tokens = {"val": 0, "train": 0}
        self.buffer = np.empty(shard_tokens, dtype=np.uint16)
        self.filled = 0

    def split(self) -> str:
        return "val" if self.tokens["val"] + self.filled < self.val_tokens else "train"

    def write(self, ids: np.ndarray) -> None:
        while len(ids):
            split = self.split()
            room = self.shard_tokens - self.filled
            if split == "val":
                room = min(room, self.val_tokens - self.tokens["val"] - self.filled)
            take = ids[:room]
            self.buffer[self.filled : self.filled + len(take)] = take
            self.filled += len(take)
            ids = ids[len(take) :]
            if self.filled == self.shard_tokens or (split == "val" and self.split() == "train"):
                self.flush(split)

    def flush(self, split: str) -> None:
        if not self.filled:
            return
        path = self.folder / f"{split}_{len(self.files[split]):06d}.bin"
        with atomic_path(path) as tmp:
            self.buffer[: self.filled].tofile(tmp)
        self.files[split].append(path.name)
        self.tokens[split] += self.filled
        self.filled = 0


def prepare_shards(
    paths,
    out_dir,
    shard_tokens: int = 100_000_000,
    val_tokens: int = 5_000_000,
    workers: int = 0,
    piece_chars: int = 1 << 20,
    log=print,
) -> dict:
    """Encode text files into token shards with `workers` processes (0 = one per CPU); returns meta.json's dict."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise UserError("no input files given")
    for path in paths:
        if not path.is_file():
            raise UserError(f"input file {path} not found")
    if shard_tokens < 1 or val_tokens < 1 or piece_chars < 1:
        raise UserError("shard_tokens, val_tokens and piece_chars must be positive")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)  # the folder is incomplete until meta.json is back
    for old in folder.glob("*_[0-9][0-9][0-9][0-9][0-9][0-9].bin"):
        old.unlink()
    writer = ShardWriter(folder, shard_tokens, val_tokens)
    workers = workers or os.cpu_count() or 1
    # fork where there is one: workers start at once, without re-importing torch (they only run tiktoken)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(workers) as pool:
        for n, ids in enumerate(pool.imap(_encode, _jobs(paths, piece_chars), chunksize=1), start=1):
            writer.write(ids)
            if n % 100 == 0:
                log(f"{n} pieces, {sum(writer.tokens.values()) + writer.filled:,} tokens")
    writer.flush(writer.split())
    if not writer.files["train"]:
        total = writer.tokens["val"]
        raise UserError(f"the corpus has only {total:,} tokens, all taken by val; lower val_tokens (now {val_tokens})")
    meta = {"encoding": "gpt2", "vocab_size": VOCAB_SIZE, "eot": EOT, **writer.files}
    meta.update(train_tokens=writer.tokens["train"], val_tokens=writer.tokens["val"])
    meta["inputs"] = [str(p) for p in paths]
    write_json(folder / "meta.json", meta, indent=1)
    log(f"{meta['train_tokens']:,} train and {meta['val_tokens']:,} val tokens in {folder}")
    return meta


def write_synthetic_shards(folder, vocab_size: int, tokens: int = 1 << 20, seed: int = 0) -> dict:
    """A shard folder of uniformly random tokens (for benchmarks that need no corpus): `tokens` of train,
    a tenth of that of val. Its tokenizer is GPT-2's for vocab_size 50257, else characters."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, n in (("train_000000.bin", tokens), ("val_000000.bin", max(tokens // 10, 2))):
        rng.integers(0, vocab_size, n, dtype=np.uint16).tofile(folder / name)
    if vocab_size == VOCAB_SIZE:
        meta = {"encoding": "gpt2", "vocab_size": VOCAB_SIZE}
    else:  # any vocab_size distinct characters
        meta = {"encoding": "char", "vocab_size": vocab_size, "itos": [chr(0x100 + i) for i in range(vocab_size)]}
    meta.update(train=["train_000000.bin"], val=["val_000000.bin"], synthetic=True)
    (folder / "meta.json").write_text(json.dumps(meta) + "\n")
    return read_shard_meta(folder)


def read_shard_meta(folder) -> dict | None:
    """meta.json of a shard folder (with paths made absolute), or None if `folder` is not one."""
    path = Path(folder) / "meta.json"
    if not path.is_file():
        return None
    meta = json.loads(path.read_text())
    if "train" not in meta or "val" not in meta:
        return None
    return {**meta, "train": [Path(folder) / f for f in meta["train"]], "val": [Path(folder) / f for f in meta["val"]]}


class ShardedBatches:
    """Random (x, y) windows from several uint16 token files, as if they were one file whose windows never
    cross a file boundary. Same interface as data.Batches, DDP ranks' shares included."""

    def __init__(self, paths, block_size: int, batch_size: int, seed: int = 0, device="cpu", rank=0, world_size=1):
        self.shards = [np.memmap(p, dtype=np.uint16, mode="r") for p in paths]
        self.shards = [s for s in self.shards if len(s) > block_size]
        if not self.shards:
            raise UserError(f"no shard among {len(paths)} holds more than block_size = {block_size} tokens")
        # window starts: shard i offers len - block_size of them; a global start picks shard and offset
        self.ends = np.cumsum([len(s) - block_size for s in self.shards])  # (n_shards,)
        self.block_size, self.batch_size = block_size, batch_size
        self.rank, self.world_size = rank, world_size
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)

    def next(self):
        B = self.batch_size
        starts = torch.randint(int(self.ends[-1]), (self.world_size * B,), generator=self.generator).numpy()
        starts = starts[self.rank * B : (self.rank + 1) * B]  # this rank's share of the world's micro-batch
        which = np.searchsorted(self.ends, starts, side="right")  # (B,) shard of each window
        offsets = starts - np.concatenate([[0], self.ends])[which]
        chunk = np.stack([self.shards[s][o : o + self.block_size + 1] for s, o in zip(which, offsets, strict=True)])
        return to_device(torch.from_numpy(chunk.astype(np.int64)), self.device)  # (B, T+1) -> x, y

    def skip(self) -> None:
        """Advance the stream past one batch without reading it."""
        torch.randint(int(self.ends[-1]), (self.world_size * self.batch_size,), generator=self.generator)

    def state(self) -> torch.Tensor:
        return self.generator.get_state()

    def set_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="UTF-8 text files; each one is a document")
    parser.add_argument("--out_dir", required=True, help="folder for the shards and meta.json")
    parser.add_argument("--shard_tokens", type=int, default=100_000_000, help="tokens per shard file (200 MB)")
    parser.add_argument("--val_tokens", type=int, default=5_000_000, help="tokens held out for validation")
    parser.add_argument("--workers", type=int, default=0, help="encoding processes (0 = one per CPU)")
    args = parser.parse_args(argv)
    prepare_shards(args.inputs, args.out_dir, args.shard_tokens, args.val_tokens, args.workers)


if __name__ == "__main__":
    run_main(main)
