"""Train the Basic and Regex BPE tokenizers (lecture 8) and report their training time and compression.

    python train.py                                  # taylorswift, vocabulary of 512, minbpe's GPT-4 split pattern
    python train.py --input my.txt --vocab-size 1024 --pattern gpt2
    python train.py --out-dir out --overwrite        # replace the .model files a run before left in out/
    python train.py --format v1                      # .model files the original minbpe's load() reads

Writes <out-dir>/{basic,regex}.model (load with BasicTokenizer().load / RegexTokenizer().load),
<out-dir>/{basic,regex}.vocab (every token, for people) and <out-dir>/metrics.json. Trained .model files
already there are never replaced silently: the run stops before training unless --overwrite is given.
"""

import argparse

from minbpe import (
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    GPT4O_SPLIT_PATTERN,
    MINBPE_GPT4_SPLIT_PATTERN,
    BasicTokenizer,
    RegexTokenizer,
)
from minbpe.compression import held_out_split, train_and_measure
from zero_to_hero import UserError, run_main
from zero_to_hero.datasets import read_text
from zero_to_hero.files import prepare_out_dir, write_json

# "gpt4" is the original minbpe's GPT-4 pattern (RegexTokenizer's default, as the original's train.py uses);
# "gpt4-tiktoken" is tiktoken's current cl100k pattern (GPT4Tokenizer's), which splits differently only where
# text ends in whitespace after a newline.
PATTERNS = {
    "gpt2": GPT2_SPLIT_PATTERN,
    "gpt4": MINBPE_GPT4_SPLIT_PATTERN,
    "gpt4-tiktoken": GPT4_SPLIT_PATTERN,
    "gpt4o": GPT4O_SPLIT_PATTERN,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--input", default="taylorswift", help="a course data set name or the path of a UTF-8 text file (taylorswift)"
    )
    parser.add_argument("--vocab-size", type=int, default=512, help="tokens after training: 256 bytes + merges (512)")
    parser.add_argument(
        "--held-out-fraction",
        type=float,
        default=0.1,
        help="the last fraction of the text, cut at a line break, is not trained on; compression is "
        "measured on it too (0.1)",
    )
    parser.add_argument(
        "--tokenizers", nargs="+", choices=["basic", "regex"], default=["basic", "regex"], help="which to train (both)"
    )
    parser.add_argument(
        "--pattern",
        choices=sorted(PATTERNS),
        default="gpt4",
        help="the Regex tokenizer's split pattern: gpt4 = the original minbpe's GPT-4 pattern, gpt4-tiktoken = "
        "tiktoken's current one (gpt4)",
    )
    parser.add_argument(
        "--format",
        choices=["v2", "v1"],
        default="v2",
        help="the .model file format: v2 (ours) or v1 (the original minbpe's, which its load() reads; refused "
        "where the tokenizer does not fit it) (v2)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace .model files that are already in --out-dir (off)"
    )
    parser.add_argument("--out-dir", default="out", help="where the .model, .vocab and metrics.json files go (out)")
    parser.add_argument("--verbose", action="store_true", help="print every merge as it is learned")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.vocab_size <= 256:
        raise UserError(f"--vocab-size must be above 256 (the single bytes), got {args.vocab_size}")
    if not 0 < args.held_out_fraction < 1:
        raise UserError(f"--held-out-fraction must be between 0 and 1, got {args.held_out_fraction}")
    text = read_text(args.input)
    if not text.strip():
        raise UserError(f"{args.input} is empty (no text to train on); give a file with text")
    train, held_out = held_out_split(text, args.held_out_fraction)
    if not train.strip() or not held_out.strip():
        raise UserError(f"{args.input} is too short to split into training and held-out text; use a longer file")
    out_dir = prepare_out_dir(args.out_dir)  # before training: a bad folder must not cost the run
    trained = [out_dir / f"{name}.model" for name in args.tokenizers if (out_dir / f"{name}.model").exists()]
    if trained and not args.overwrite:
        names = ", ".join(p.name for p in trained)
        raise UserError(
            f"--out-dir {out_dir} already holds trained {names}; pass --overwrite to replace them, "
            "or choose another --out-dir"
        )
    print(f"{args.input}: {len(train.encode()):,} bytes to train on, {len(held_out.encode()):,} held out")

    metrics = {
        "input": args.input,
        "train_bytes": len(train.encode()),
        "held_out_bytes": len(held_out.encode()),
        "pattern": args.pattern,
    }
    for name in args.tokenizers:
        tokenizer = BasicTokenizer() if name == "basic" else RegexTokenizer(PATTERNS[args.pattern])
        result = train_and_measure(tokenizer, train, held_out, args.vocab_size, verbose=args.verbose)
        tokenizer.save(out_dir / name, format=args.format)
        metrics[name] = result
        if result["vocab_size"] < args.vocab_size:
            print(f"note: the text has no more pairs to merge after {result['vocab_size']} tokens")
        print(
            f"{name:>5}: {result['vocab_size']} tokens, trained in {result['train_seconds']:.2f} s; bytes/token "
            f"{result['train_bytes_per_token']:.3f} (train) {result['held_out_bytes_per_token']:.3f} (held out); "
            f"saved {out_dir / name}.model"
        )
    write_json(out_dir / "metrics.json", metrics)
    print(f"wrote {out_dir / 'metrics.json'}")


if __name__ == "__main__":
    run_main(main)
