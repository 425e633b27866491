"""Speed of the pretrained tokenizers: building them from tiktoken's ranks, and encoding, against tiktoken.

    python bench.py                     # taylorswift, all three encodings
    python bench.py --input my.txt --encodings gpt2

Writes <out-dir>/bench.json. Encoding is timed twice: "cold" (empty chunk cache) and "warm"
(the same text again: every chunk is a cache hit).
"""

import argparse
import json
import time
from pathlib import Path

import tiktoken

from minbpe import GPT2Tokenizer, GPT4oTokenizer, GPT4Tokenizer
from zero_to_hero import run_main
from zero_to_hero.datasets import read_text
from zero_to_hero.files import write_json

CLASSES = {"gpt2": GPT2Tokenizer, "cl100k_base": GPT4Tokenizer, "o200k_base": GPT4oTokenizer}


def seconds(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", default="taylorswift", help="a course data set name or a UTF-8 file (taylorswift)")
    parser.add_argument(
        "--encodings", nargs="+", choices=list(CLASSES), default=list(CLASSES), help="which to time (all three)"
    )
    parser.add_argument("--out-dir", default="out", help="where bench.json goes (out)")
    args = parser.parse_args(argv)
    text = read_text(args.input)
    megabytes = len(text.encode()) / 1e6
    results = {"input": args.input, "megabytes": round(megabytes, 4)}
    for name in args.encodings:
        build_s, ours = seconds(CLASSES[name])
        cold_s, ids = seconds(ours.encode_ordinary, text)
        warm_s, _ = seconds(ours.encode_ordinary, text)
        encoding = tiktoken.get_encoding(name)
        tiktoken_s, expected = seconds(encoding.encode_ordinary, text)
        assert ids == expected, f"{name}: encodings differ"
        results[name] = {
            "build_seconds": round(build_s, 3),
            "tokens": len(ids),
            "cold_MB_per_s": round(megabytes / cold_s, 3),
            "warm_MB_per_s": round(megabytes / warm_s, 3),
            "tiktoken_MB_per_s": round(megabytes / tiktoken_s, 3),
        }
        print(f"{name}: {json.dumps(results[name])}")
    out_dir = Path(args.out_dir)
    write_json(out_dir / "bench.json", results)


if __name__ == "__main__":
    run_main(main)
