"""A corpus too large for memory -> GPT-2 BPE token shards, encoded on every core; batches drawn across shards.

    python -m nanogpt.shards web/*.txt --out_dir=out/data/web      # then: python train.py --dataset=out/data/web
    python -m nanogpt.shards docs.jsonl more.parquet txt_folder/ --out_dir=out/data/docs --text_key=text
    python -m nanogpt.shards --hf=HuggingFaceFW/fineweb-edu --hf_name=sample-10BT --out_dir=out/data/edu_fineweb10B
    meta = prepare_shards(["a.txt", "b.txt"], "out/data/web", shard_tokens=100_000_000, val_tokens=5_000_000)
    batches = data.Batches(meta["train"], block_size=1024, batch_size=12, seed=1337)   # windows across shards

Documents: a plain text file is one, a folder's .txt files one each, a .jsonl line or a .parquet row one
each (its `text_key` field), a Hugging Face dataset row one each. Every document starts with GPT-2's
<|endoftext|> token, as in GPT-2's own training data, so the model learns where documents begin. Input
is streamed in constant memory, never read whole: a text file is cut into pieces of about `piece_chars`
characters at a line start that is not whitespace — a place where GPT-2's pre-tokenizer always splits —
so encoding the pieces separately gives exactly the tokens of the whole file, in any number of processes.
The first `val_tokens` tokens (default: one shard's worth) go to val, the rest to train, in uint16 shards
of `shard_tokens` tokens: {out_dir}/val_000000.bin, train_000000.bin, train_000001.bin, ... Each shard is
written atomically and recorded in progress.json, so a re-run on the same input continues after the last
finished shard; meta.json, written last, lists them. Parquet needs pyarrow and --hf needs datasets: the
optional extra `nanogpt[corpora]`.
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from zero_to_hero import UserError, run_main
from zero_to_hero.encodings import get_encoding
from zero_to_hero.files import atomic_path, hold_folder, prepare_out_dir, write_json
from zero_to_hero.progress import format_duration

EOT = 50256  # <|endoftext|>
VOCAB_SIZE = 50257
MAX_SHARD_TOKENS = 1 << 31  # 4 GiB of uint16 per shard, held in memory while it fills (build-nanogpt: 100M)
SHARD_FILES = "*_[0-9][0-9][0-9][0-9][0-9][0-9].bin"


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
        raise _unreadable(path, e) from None
    if piece:
        yield "".join(piece)


def _reason(error: OSError) -> str:
    """An OSError's reason in words: `permission denied`, `no space left on device`."""
    return (error.strerror or str(error)).lower()


def _unreadable(path, error: OSError) -> UserError:
    """`cannot read <path> (permission denied)`, for any OSError while reading an input."""
    return UserError(f"cannot read {path} ({_reason(error)})")


class Corpus:
    """The documents of the inputs, streamed in order as (document index, starts the document, text) jobs:
    a folder = its .txt files (sorted, each a document); .jsonl = one document per line (its `text_key`
    field); .parquet = one per row (pyarrow, read in record batches); any other file = one document, read in
    pieces. `hf` streams a Hugging Face dataset instead (the `datasets` package). Tracks bytes read for the ETA."""

    def __init__(self, paths, text_key="text", piece_chars=1 << 20, hf=None):
        self.paths, self.text_key, self.piece_chars, self.hf = [Path(p) for p in paths], text_key, piece_chars, hf
        self.files = []
        for path in self.paths:
            if path.is_dir():
                found = sorted(path.rglob("*.txt"))
                if not found:
                    raise UserError(f"folder {path} holds no .txt files")
                self.files += found
            elif path.is_file():
                self.files.append(path)
            else:
                raise UserError(f"input file {path} not found")
        if not self.files and hf is None:
            raise UserError("no input files given")
        for path in self.files:
            if path.suffix == ".parquet":
                _require("pyarrow", "Parquet input")
        self.total_bytes = sum(p.stat().st_size for p in self.files) if hf is None else None
        self.bytes_read = 0

    def fingerprint(self) -> list:
        """What identifies the input: a re-run with the same one may skip the shards already written."""
        if self.hf is not None:
            return [list(self.hf), self.text_key]
        return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in self.files] + [self.text_key]

    def _texts(self):
        """(starts a document, text) in order."""
        if self.hf is not None:
            yield from ((True, text) for text in hf_documents(*self.hf, self.text_key))
            return
        for path in self.files:
            if path.suffix == ".jsonl":
                yield from ((True, text) for text in self._jsonl(path))
            elif path.suffix == ".parquet":
                yield from ((True, text) for text in self._parquet(path))
            else:
                for i, piece in enumerate(read_pieces(path, self.piece_chars)):
                    self.bytes_read += len(piece.encode("utf-8", "surrogatepass"))
                    yield i == 0, piece

    def _jsonl(self, path):
        try:
            with open(path, "rb") as f:  # bytes, decoded line by line: a bad byte is named with its line
                for n, raw in enumerate(f, start=1):
                    self.bytes_read += len(raw)
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise UserError(f"{path}, line {n}: not UTF-8 text ({e.reason})") from None
                    if not line.strip():
                        continue
                    try:
                        text = json.loads(line)[self.text_key]
                    except (json.JSONDecodeError, KeyError, TypeError) as e:
                        raise UserError(
                            f"{path}, line {n}: no {self.text_key!r} field ({type(e).__name__}); set --text_key"
                        ) from None
                    if not isinstance(text, str):
                        kind = type(text).__name__
                        raise UserError(f"{path}, line {n}: {self.text_key!r} is not a string ({kind})")
                    yield text
        except OSError as e:
            raise _unreadable(path, e) from None

    def _parquet(self, path):
        import pyarrow.parquet as pq

        try:
            table = pq.ParquetFile(path)
        except PermissionError as e:
            raise _unreadable(path, e) from None
        except Exception as e:  # pyarrow's errors: not a Parquet file, truncated...
            raise UserError(f"{path} is not a Parquet file ({type(e).__name__})") from None
        if self.text_key not in table.schema_arrow.names:
            raise UserError(f"{path} has no column {self.text_key!r} (columns: {', '.join(table.schema_arrow.names)})")
        kind = table.schema_arrow.field(self.text_key).type
        if str(kind) not in ("string", "large_string", "string_view"):
            raise UserError(f"{path}: column {self.text_key!r} holds {kind}, not text; set --text_key to a text column")
        rows = max(table.metadata.num_rows, 1)
        size = path.stat().st_size
        try:
            for batch in table.iter_batches(batch_size=1024, columns=[self.text_key]):
                self.bytes_read += size * batch.num_rows // rows
                yield from (text for text in batch.column(0).to_pylist() if text is not None)
        except OSError as e:
            raise _unreadable(path, e) from None
        except Exception as e:  # pyarrow's errors on a damaged file
            raise UserError(f"{path}: cannot read its rows ({type(e).__name__}: {e})"[:300]) from None

    def jobs(self, skip_documents: int = 0):
        """(document index, starts the document, text), from document `skip_documents` on."""
        document = -1
        for starts, text in self._texts():
            document += starts
            if document >= skip_documents:
                yield document, starts, text


def _require(module: str, what: str):
    try:
        return __import__(module)
    except ImportError:
        raise UserError(f"{what} needs {module}: pip install {module} (or 'nanogpt[corpora]')") from None


def hf_documents(path: str, name: str | None, split: str, text_key: str):
    """The texts of a Hugging Face dataset, streamed (nothing downloaded ahead): `path` is a Hub name such as
    HuggingFaceFW/fineweb-edu (with `name` = sample-10BT) or a local dataset folder."""
    datasets = _require("datasets", "--hf")
    try:
        rows = datasets.load_dataset(path, name=name, split=split, streaming=True)
    except Exception as e:  # offline, unknown name, bad split: one line
        raise UserError(f"cannot open Hugging Face dataset {path!r} ({type(e).__name__}: {e})"[:400]) from None
    for row in rows:
        text = row.get(text_key)
        if text is None:
            raise UserError(f"dataset {path!r} has no {text_key!r} field (fields: {', '.join(row)}); set --text_key")
        if not isinstance(text, str):
            raise UserError(
                f"dataset {path!r}: field {text_key!r} is a {type(text).__name__}, not text; set --text_key"
            )
        yield text


_encoding = None


def _worker_init():
    """Signals are the main process's to handle. A worker killed by a signal at a random moment can die halfway
    through sending its result, and the pool then waits for the rest of it forever; so each worker leaves the
    terminal's process group (Ctrl-C, `kill -TERM -<group>` reach the main process only), which stops the run
    with one line and has the pool end the workers after their current piece. Each worker is killed when the
    main process dies (Linux: PR_SET_PDEATHSIG), so a main process killed outright leaves none behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # forked while the main process held them (_signals_held)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _signals_held.held)
    if hasattr(os, "setpgid"):
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
    _die_with_parent()


def _die_with_parent() -> None:
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # not Linux: a worker outlives a main process killed with SIGKILL
        return
    if os.getppid() != parent:  # the main process died before the call
        os._exit(1)


class _signals_held:
    """SIGINT and SIGTERM wait (blocked) for the duration of the block, then arrive as usual."""

    held = {signal.SIGINT, signal.SIGTERM}

    def __enter__(self):
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, self.held)

    def __exit__(self, *exc):
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, self.held)
        return False


def _encode(job):
    global _encoding
    if _encoding is None:  # once per worker process
        _encoding = get_encoding("gpt2")
    document, starts_document, text = job
    ids = ([EOT] if starts_document else []) + _encoding.encode_ordinary(text)
    return document, np.array(ids, dtype=np.uint16)


def _batches(jobs, max_chars: int = 32 << 20, max_jobs: int = 4096):
    """Jobs in lists of bounded size: the pool never holds more than one list, so memory stays constant."""
    batch, chars = [], 0
    for job in jobs:
        batch.append(job)
        chars += len(job[2])
        if chars >= max_chars or len(batch) >= max_jobs:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


@contextlib.contextmanager
def _writing(path):
    """Turns an OSError while writing `path` (a full disk, a quota, a folder gone) into one line."""
    try:
        yield
    except OSError as e:
        raise UserError(
            f"cannot write {path} ({_reason(e)}); the shards finished so far are kept: free some space "
            "and run the same command again to continue"
        ) from None


def _write_json(path, data, indent: int = 2) -> None:
    with _writing(path):
        write_json(path, data, indent)


class ShardWriter:
    """Takes token arrays in order; fills val up to val_tokens, then train, in files of shard_tokens tokens.
    Each finished shard is recorded with where the stream stands after it (document index, tokens of that
    document already written), so a re-run can skip it."""

    def __init__(self, folder: Path, shard_tokens: int, val_tokens: int, done: list | None = None):
        self.folder, self.shard_tokens, self.val_tokens = folder, shard_tokens, val_tokens
        self.files = {"val": [], "train": []}
        self.tokens = {"val": 0, "train": 0}
        self.done = []  # [{"name", "split", "tokens", "document", "offset"}] in order
        for shard in done or []:
            self.files[shard["split"]].append(shard["name"])
            self.tokens[shard["split"]] += shard["tokens"]
            self.done.append(shard)
        self.buffer = np.empty(shard_tokens, dtype=np.uint16)
        self.filled = 0
        self.document, self.offset = 0, 0  # position of the next token: document index, tokens into it

    def split(self) -> str:
        return "val" if self.tokens["val"] + self.filled < self.val_tokens else "train"

    def write(self, ids: np.ndarray, document: int | None = None) -> None:
        if document is not None and document != self.document:
            self.document, self.offset = document, 0
        while len(ids):
            split = self.split()
            room = self.shard_tokens - self.filled
            if split == "val":
                room = min(room, self.val_tokens - self.tokens["val"] - self.filled)
            take = ids[:room]
            self.buffer[self.filled : self.filled + len(take)] = take
            self.filled += len(take)
            self.offset += len(take)
            ids = ids[len(take) :]
            if self.filled == self.shard_tokens or (split == "val" and self.split() == "train"):
                self.flush(split)

    def flush(self, split: str) -> None:
        if not self.filled:
            return
        path = self.folder / f"{split}_{len(self.files[split]):06d}.bin"
        with _writing(path), atomic_path(path) as tmp:  # a crash leaves no partial shard
            self.buffer[: self.filled].tofile(tmp)
        self.files[split].append(path.name)
        self.tokens[split] += self.filled
        self.done.append(dict(name=path.name, split=split, tokens=self.filled, document=self.document))
        self.done[-1]["offset"] = self.offset
        self.filled = 0


class Progress:
    """A line every `every` seconds: documents and tokens, their rates, and an ETA when the input size is known."""

    def __init__(self, log, corpus: Corpus, every: float = 10.0):
        self.log, self.corpus, self.every = log, corpus, every
        self.start = self.last = time.perf_counter()
        self.documents = self.tokens = 0

    def update(self, documents: int, tokens: int, final: bool = False) -> None:
        self.documents += documents
        self.tokens += tokens
        now = time.perf_counter()
        if not final and now - self.last < self.every:
            return
        self.last = now
        seconds = max(now - self.start, 1e-9)
        line = f"{self.documents:,} documents ({self.documents / seconds:,.0f}/s), "
        line += f"{self.tokens:,} tokens ({self.tokens / seconds:,.0f}/s)"
        total, done = self.corpus.total_bytes, self.corpus.bytes_read
        if total and done and not final:
            line += f", {done / total:.1%} of the input, ETA {format_duration(seconds * (total - done) / done)}"
        self.log(line)


def prepare_shards(
    paths,
    out_dir,
    shard_tokens: int = 100_000_000,
    val_tokens: int | None = None,
    workers: int = 0,
    piece_chars: int = 1 << 20,
    log=print,
    text_key: str = "text",
    hf: tuple | None = None,
    overwrite: bool = False,
) -> dict:
    """Encode a corpus into token shards with `workers` processes (0 = one per CPU); returns meta.json's dict.

    paths: text files (each a document), folders of .txt files, .jsonl and .parquet files; or hf = (name,
    config name, split) for a Hugging Face dataset. val_tokens defaults to shard_tokens: the first shard is val.
    A re-run on the same input with the same sizes keeps the shards already written and continues after them.
    The folder is held for the run (a second run on it is refused), and shards of another input in it are not
    replaced unless `overwrite`."""
    val_tokens = shard_tokens if val_tokens is None else val_tokens
    for name, value in (("shard_tokens", shard_tokens), ("val_tokens", val_tokens), ("piece_chars", piece_chars)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"{name} must be a positive whole number, got {value!r}")
    if shard_tokens > MAX_SHARD_TOKENS:
        raise UserError(
            f"shard_tokens {shard_tokens:,} is too large: at most {MAX_SHARD_TOKENS:,} tokens (4 GiB) per shard, "
            "which is held in memory while it fills; build-nanogpt uses 100,000,000"
        )
    if workers < 0:
        raise UserError(f"workers must be >= 1 (or 0 = one per CPU), got {workers}")
    get_encoding("gpt2")  # a missing tokenizer file is one line here, not an error in every worker
    corpus = Corpus(paths, text_key, piece_chars, hf)
    folder = prepare_out_dir(out_dir, "--out_dir")
    with hold_folder(folder, "--out_dir"):  # a second run on this folder: one line, exit 2
        return _prepare(corpus, folder, shard_tokens, val_tokens, workers, log, overwrite)


def _input_names(corpus: Corpus) -> list:
    """What the input is, by name: the files (absolute paths) or the Hugging Face dataset, and the text field."""
    if corpus.hf is not None:
        return [":".join(str(x) for x in corpus.hf if x), corpus.text_key]
    return [str(p.resolve()) for p in corpus.files] + [corpus.text_key]


def _check_not_another_input(folder: Path, names: list, overwrite: bool) -> None:
    """Shards of another input are never deleted silently: a folder holding shards that no run recorded, or that
    a run on other files (or another dataset, another text field) wrote, is refused unless `overwrite`. A re-run
    on the same files (changed or not, with other sizes or not) writes again as before."""
    finished = (folder / "meta.json").is_file()
    if overwrite or not (finished or any(folder.glob(SHARD_FILES))):
        return
    try:
        recorded = json.loads((folder / "progress.json").read_text()).get("names")
    except (OSError, json.JSONDecodeError, AttributeError):
        recorded = None
    if recorded == names:
        return
    state = "finished" if finished else "unfinished"
    if recorded is None:
        what = f"{state} token shards that no run of nanogpt.shards on this input recorded"
    else:
        shown = ", ".join(map(str, recorded[:-1]))
        what = f"the {state} shards of another input ({shown[:200]}, text field {recorded[-1]!r})"
    raise UserError(f"--out_dir {folder} holds {what}; pass --overwrite to replace them, or choose another --out_dir")


def _prepare(corpus, folder, shard_tokens, val_tokens, workers, log, overwrite) -> dict:
    names = _input_names(corpus)
    _check_not_another_input(folder, names, overwrite)
    (folder / "meta.json").unlink(missing_ok=True)  # the folder is incomplete until meta.json is back
    settings = {"input": corpus.fingerprint(), "shard_tokens": shard_tokens, "val_tokens": val_tokens}
    done = _finished_shards(folder, settings)
    keep = {shard["name"] for shard in done}
    for old in folder.glob(SHARD_FILES):
        if old.name not in keep:
            old.unlink()
    record = {**settings, "names": names}
    _write_json(folder / "progress.json", {**record, "shards": done})  # the input is on record before any shard
    writer = ShardWriter(folder, shard_tokens, val_tokens, done)
    skip_documents, skip_tokens = (done[-1]["document"], done[-1]["offset"]) if done else (0, 0)
    if done:
        log(f"{len(done)} shards already written: continuing at document {skip_documents:,}")
    workers = workers or os.cpu_count() or 1
    progress = Progress(log, corpus)
    # fork where there is one: workers start at once, without re-importing torch (they only run tiktoken)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    writer.document, writer.offset = skip_documents, skip_tokens
    # A process pool from concurrent.futures: when the run stops (Ctrl-C, SIGTERM, an error), its shutdown
    # cancels the work not started and never waits on a pipe that no worker reads (multiprocessing.Pool's
    # terminate() can hang there), and a worker killed outright is noticed, not waited for.
    with _signals_held():  # Ctrl-C while the workers are forked would be lost in the fork hooks: it waits
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init)
        pool.submit(int).result()  # start them now (with fork they all start at the first task)
    try:
        for batch in _batches(corpus.jobs(skip_documents)):
            tokens = 0
            for document, ids in pool.map(_encode, batch, chunksize=max(1, len(batch) // (4 * workers))):
                if document == skip_documents and skip_tokens:  # the part the last kept shard already holds
                    cut = min(skip_tokens, len(ids))
                    ids, skip_tokens = ids[cut:], skip_tokens - cut
                writer.write(ids, document)
                tokens += len(ids)
            progress.update(sum(1 for job in batch if job[1]), tokens)
            _write_json(folder / "progress.json", {**record, "shards": writer.done})
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        raise UserError(
            "an encoding process died (killed, or out of memory?); the shards finished so far are kept: run the "
            "same command again to continue"
        ) from None
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    writer.flush(writer.split())
    progress.update(0, 0, final=True)
    total = writer.tokens["val"] + writer.tokens["train"]
    if total == 0:
        (folder / "progress.json").unlink(missing_ok=True)
        inputs = ", ".join(names[:-1])[:200]
        raise UserError(f"the input is empty: no text in {inputs}; give files (or rows) with text")
    if not writer.files["train"]:
        raise UserError(
            f"the corpus has only {total:,} tokens, all taken by val; lower val_tokens (now {val_tokens:,}) "
            "or give more text"
        )
    meta = {"encoding": "gpt2", "vocab_size": VOCAB_SIZE, "eot": EOT, **writer.files}
    meta.update(train_tokens=writer.tokens["train"], val_tokens=writer.tokens["val"])
    meta["inputs"] = [str(p) for p in corpus.paths] if corpus.hf is None else names[:1]
    _write_json(folder / "progress.json", {**record, "shards": writer.done})
    _write_json(folder / "meta.json", meta, indent=1)
    log(f"{meta['train_tokens']:,} train and {meta['val_tokens']:,} val tokens in {folder}")
    return meta


def _finished_shards(folder: Path, settings: dict) -> list:
    """The shards a previous run on the same input and settings finished (files present, sizes right)."""
    path = folder / "progress.json"
    try:
        progress = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return []
    if {k: progress.get(k) for k in settings} != json.loads(json.dumps(settings)):
        return []
    done = []
    for shard in progress.get("shards", []):
        file = folder / shard["name"]
        if not file.is_file() or file.stat().st_size != 2 * shard["tokens"]:
            break
        done.append(shard)
    return done


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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", help="text files (each a document), folders of .txt, .jsonl, .parquet")
    parser.add_argument("--out_dir", required=True, help="folder for the shards and meta.json")
    parser.add_argument("--shard_tokens", type=int, default=100_000_000, help="tokens per shard file (200 MB)")
    parser.add_argument("--val_tokens", type=int, default=None, help="tokens held out for validation (one shard)")
    parser.add_argument("--workers", type=int, default=0, help="encoding processes (0 = one per CPU)")
    parser.add_argument("--text_key", default="text", help="the text field of .jsonl / .parquet / --hf rows")
    parser.add_argument("--hf", help="a Hugging Face dataset to stream, e.g. HuggingFaceFW/fineweb-edu")
    parser.add_argument("--hf_name", help="its configuration, e.g. sample-10BT")
    parser.add_argument("--hf_split", default="train", help="its split")
    parser.add_argument(
        "--overwrite",
        nargs="?",
        const="True",
        default="False",
        help="replace the shards of another input already in --out_dir (--overwrite or --overwrite=True)",
    )
    args = parser.parse_args(argv)
    if args.overwrite not in ("True", "False"):
        raise UserError(f"--overwrite must be True or False, got {args.overwrite!r}")
    if bool(args.inputs) == bool(args.hf):
        raise UserError("give input files or folders, or --hf=DATASET (not both)")
    hf = (args.hf, args.hf_name, args.hf_split) if args.hf else None
    prepare_shards(
        args.inputs,
        args.out_dir,
        args.shard_tokens,
        args.val_tokens,
        args.workers,
        text_key=args.text_key,
        hf=hf,
        overwrite=args.overwrite == "True",
    )


if __name__ == "__main__":
    run_main(main)
