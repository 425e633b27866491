"""How fast minbpe trains and encodes, next to the lecture's algorithms (reference.py) and to Rust.

    python bench.py                         # training and encoding (about 2 minutes; most of it the lecture's code)
    python bench.py --only encode           # or --only train
    nox -s minbpe_bench                     # the same, with rustbpe and Hugging Face tokenizers installed

Training: Basic and Regex (GPT-4 pattern) on taylorswift to 512 tokens and on tinyshakespeare to
4096. The lecture's trainer runs in full on taylorswift; on tinyshakespeare it runs the first
--reference-merges merges only (all 3,840 would take hours), and both the time per merge and the
merges themselves are compared. rustbpe and `tokenizers` (if installed: never a dependency of
minbpe) train on the same text; their merges are not expected to match ours exactly.

Encoding: GPT-2 and GPT-4 (cl100k_base) on tinyshakespeare, every result checked against
tiktoken's ids. "cold" is a new tokenizer's first encode (its piece cache empty), "warm"
the same text again. tiktoken encodes in one thread (encode_ordinary). Writes <out-dir>/bench.json.
"""

import argparse
import os
import platform
import time
from pathlib import Path

import tiktoken

from minbpe import GPT4_SPLIT_PATTERN, BasicTokenizer, GPT2Tokenizer, GPT4Tokenizer, RegexTokenizer
from zero_to_hero import run_main
from zero_to_hero.datasets import read_text
from zero_to_hero.files import write_json

TRAINING = [("taylorswift", 512), ("tinyshakespeare", 4096)]
ENCODINGS = {"gpt2": GPT2Tokenizer, "cl100k_base": GPT4Tokenizer}


def timed(fn, *args, repeat: int = 1, **kwargs):
    """(the fastest of `repeat` runs in seconds, the last result)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def train_rustbpe(text: str, vocab_size: int):
    import rustbpe  # noqa: PLC0415 (optional: the benchmark's virtualenv only)

    tokenizer = rustbpe.Tokenizer()
    tokenizer.train_from_iterator(iter([text]), vocab_size, pattern=GPT4_SPLIT_PATTERN)
    return tokenizer


def train_hf_tokenizers(text: str, vocab_size: int):
    """Hugging Face `tokenizers`: byte-level BPE with GPT-2's split (it has no GPT-4 pattern preset)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers  # noqa: PLC0415 (optional)

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=alphabet, show_progress=False)
    tokenizer.train_from_iterator([text], trainer=trainer)
    return tokenizer


def bench_training(reference_merges: int) -> dict:
    results = {}
    for dataset, vocab_size in TRAINING:
        text = read_text(dataset)
        full_reference = dataset == "taylorswift"
        for cls in (BasicTokenizer, RegexTokenizer):
            key = f"{cls.__name__}/{dataset}/{vocab_size}"
            fast_s, fast = timed(_train, cls, text, vocab_size, repeat=3 if full_reference else 1)
            row = {"ours_seconds": round(fast_s, 4)}
            if full_reference:
                ref_s, ref = timed(_train, cls, text, vocab_size, reference=True)
                row |= {"reference_seconds": round(ref_s, 3), "speedup": round(ref_s / fast_s, 1)}
                row["same_merges"] = list(ref.merges.items()) == list(fast.merges.items())
            else:  # the first merges only, for both, and the full run of ours above
                ref_s, ref = timed(_train, cls, text, 256 + reference_merges, reference=True)
                part_s, _ = timed(_train, cls, text, 256 + reference_merges)
                row |= {"reference_merges": reference_merges, "reference_seconds": round(ref_s, 3)}
                row |= {"ours_seconds_same_merges": round(part_s, 4), "speedup_same_merges": round(ref_s / part_s, 1)}
                row["same_merges"] = list(ref.merges.items()) == list(fast.merges.items())[:reference_merges]
            assert row["same_merges"], f"{key}: the fast trainer's merges differ from the reference's"
            results[key] = row
            print(f"train {key}: {row}", flush=True)
        for name, train in (("rustbpe", train_rustbpe), ("tokenizers", train_hf_tokenizers)):
            key = f"{name}/{dataset}/{vocab_size}"
            try:
                seconds, _ = timed(train, text, vocab_size, repeat=3)
            except ImportError:
                results[key] = "not installed"
            else:
                results[key] = {"seconds": round(seconds, 4)}
            print(f"train {key}: {results[key]}", flush=True)
    return results


def _train(cls, text: str, vocab_size: int, reference: bool = False):
    tokenizer = cls()
    tokenizer.train(text, vocab_size, reference=reference)
    return tokenizer


def bench_encoding(repeat: int) -> dict:
    text = read_text("tinyshakespeare")
    megabytes = len(text.encode()) / 1e6
    results = {"input": "tinyshakespeare", "megabytes": round(megabytes, 4)}
    for name, cls in ENCODINGS.items():
        encoding = tiktoken.get_encoding(name)
        tiktoken_s, expected = timed(encoding.encode_ordinary, text, repeat=repeat)
        build_s, ours = timed(cls)
        cold_s, cold = encode_cold(cls, text, repeat)
        ours.encode_ordinary(text)  # fills the cache
        warm_s, warm = timed(ours.encode_ordinary, text, repeat=repeat)
        ref_s, ref = timed(ours.encode_ordinary, text, reference=True)
        pieces = [text[i : i + 20_000] for i in range(0, len(text), 20_000)]  # cut anywhere: only a benchmark
        batch_s, batch = timed(cls().encode_ordinary_batch, pieces, num_workers=os.cpu_count())
        assert cold == warm == ref == expected, f"{name}: ids differ from tiktoken's"
        assert batch == [encoding.encode_ordinary(p) for p in pieces], f"{name}: batch ids differ from tiktoken's"
        row = {"build_seconds": round(build_s, 3), "tokens": len(expected)}
        for what, seconds in [("cold", cold_s), ("warm", warm_s), ("reference", ref_s), ("tiktoken", tiktoken_s)]:
            row[f"{what}_seconds"] = round(seconds, 4)
            row[f"{what}_MB_per_s"] = round(megabytes / seconds, 2)
        row["batch_processes"] = os.cpu_count()
        row["batch_seconds_new_tokenizer"] = round(batch_s, 4)
        row["cold_vs_tiktoken"] = round(tiktoken_s / cold_s, 3)
        row["warm_vs_tiktoken"] = round(tiktoken_s / warm_s, 3)
        results[name] = row
        print(f"encode {name}: {row}", flush=True)
    return results


def encode_cold(cls, text: str, repeat: int):
    """(the fastest of `repeat` first encodes of `text`, each by a new tokenizer, in seconds; the last result)."""
    best = float("inf")
    for _ in range(repeat):
        tokenizer = cls()  # as new: an empty cache, so every piece is encoded from its bytes
        seconds, ids = timed(tokenizer.encode_ordinary, text)
        best = min(best, seconds)
    return best, ids


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["train", "encode"], help="run one half (both)")
    parser.add_argument("--reference-merges", type=int, default=20, help="lecture merges on tinyshakespeare (20)")
    parser.add_argument("--repeat", type=int, default=3, help="encode runs to take the fastest of (3)")
    parser.add_argument("--out-dir", default="out/bench", help="where bench.json goes (out/bench)")
    args = parser.parse_args(argv)
    if args.reference_merges < 1 or args.repeat < 1:
        parser.error("--reference-merges and --repeat must be at least 1")
    results = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"}
    results["python"] = platform.python_version()
    results["date"] = time.strftime("%Y-%m-%d")
    if args.only != "encode":
        results["train"] = bench_training(args.reference_merges)
    if args.only != "train":
        results["encode"] = bench_encoding(args.repeat)
    write_json(Path(args.out_dir) / "bench.json", results)


if __name__ == "__main__":
    run_main(main)
