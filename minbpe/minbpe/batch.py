"""Encoding many texts at once, in worker processes when they are large (`encode_batch`, `encode_ordinary_batch`)."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

PARALLEL_MIN_CHARS = 1 << 20  # with num_workers=None, processes are used when the texts hold this many characters


def encode_all(tokenizer, method: str, texts: list[str], options: dict, num_workers: int | None) -> list[list[int]]:
    """`[getattr(tokenizer, method)(text, **options) for text in texts]`, in `num_workers` processes.

    num_workers=None picks one per CPU when the texts hold at least PARALLEL_MIN_CHARS characters in all,
    and encodes here otherwise.
    """
    if num_workers is None:
        large = len(texts) > 1 and sum(map(len, texts)) >= PARALLEL_MIN_CHARS
        num_workers = (os.cpu_count() or 1) if large else 1
    if not isinstance(num_workers, int) or num_workers < 1:
        raise ValueError(f"num_workers must be a positive int or None, got {num_workers!r}")
    num_workers = min(num_workers, len(texts))
    if num_workers <= 1:
        return [getattr(tokenizer, method)(text, **options) for text in texts]
    # fork (where there is one) hands each worker this tokenizer without pickling it
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunksize = max(1, len(texts) // (4 * num_workers))
    with ProcessPoolExecutor(num_workers, mp_context=context, initializer=_start_worker, initargs=(tokenizer,)) as pool:
        return list(pool.map(_encode_in_worker, repeat(method), texts, repeat(options), chunksize=chunksize))


_worker_tokenizer = None  # in a worker process: the tokenizer it encodes with


def _start_worker(tokenizer) -> None:
    global _worker_tokenizer
    _worker_tokenizer = tokenizer


def _encode_in_worker(method: str, text: str, options: dict) -> list[int]:
    return getattr(_worker_tokenizer, method)(text, **options)


if __name__ == "__main__":
    from minbpe import GPT4Tokenizer

    texts = ["hello world"] * 4
    print(encode_all(GPT4Tokenizer(), "encode_ordinary", texts, {}, num_workers=2))
