"""Throughput of the two forms on names: training steps and a full evaluation pass.

    flock /tmp/z2h-cpu.lock python bench.py        # what the README quotes

Training: --steps SGD steps at each batch size (after a warm-up), reporting ms/step, examples/s
(contexts or words) and tokens/s (predicted characters). Evaluation: the whole val split, eval mode.
"""

import argparse
import time

import torch

from wavenet.data import Vocab, load_words, split_words
from wavenet.model import Config, build_model
from wavenet.training import evaluate, make_split, train
from zero_to_hero import UserError, run_main
from zero_to_hero.files import write_json


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=2000, help="timed training steps per configuration")
    p.add_argument("--batch-sizes", default="32", help="comma-separated examples per step (contexts or words)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--input", default="names", help="data set name or a file with one word per line")
    p.add_argument("--out", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    try:
        batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    except ValueError:
        raise UserError(f"--batch-sizes takes integers like 4,32, got {args.batch_sizes!r}") from None
    if args.steps < 1 or args.threads < 1 or min(batch_sizes) < 1:
        raise UserError("--steps, --threads and every batch size must be at least 1")
    torch.set_num_threads(args.threads)
    words = load_words(args.input)
    vocab = Vocab.from_words(words)
    train_words, val_words, _ = split_words(words, seed=42)
    config = Config(vocab_size=len(vocab))
    results = []
    for kind in ("hierarchical", "dilated"):
        train_split, val_split = (make_split(ws, vocab, config.block_size, kind) for ws in (train_words, val_words))
        for batch_size in batch_sizes:
            g = torch.Generator().manual_seed(0)
            model = build_model(kind, config, g)
            train(model, train_split, 200, batch_size, 0.1, g, config.block_size, log=None)  # warm-up
            start = time.perf_counter()
            _, tokens = train(model, train_split, args.steps, batch_size, 0.1, g, config.block_size, log=None)
            seconds = time.perf_counter() - start
            results.append(
                {
                    "model": kind,
                    "batch_size": batch_size,
                    "ms_per_step": 1000 * seconds / args.steps,
                    "examples_per_s": args.steps * batch_size / seconds,
                    "tokens_per_s": tokens / seconds,
                }
            )
            print(
                f"train {kind:<12} batch {batch_size:>3}: {results[-1]['ms_per_step']:6.2f} ms/step "
                f"{results[-1]['examples_per_s']:>9,.0f} examples/s {results[-1]['tokens_per_s']:>9,.0f} tokens/s"
            )
        n_tokens = int((val_split.y >= 0).sum())
        start = time.perf_counter()
        evaluate(model, val_split)
        seconds = time.perf_counter() - start
        results.append({"model": kind, "eval_val_tokens_per_s": n_tokens / seconds, "eval_seconds": seconds})
        print(f"eval  {kind:<12} val split: {n_tokens:,} tokens in {seconds:.3f} s, {n_tokens / seconds:,.0f} tokens/s")
    if args.out:
        write_json(args.out, results)


if __name__ == "__main__":
    run_main(main)
