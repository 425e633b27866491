"""Train the hierarchical WaveNet-style model (or its dilated convolution form, or the flat MLP baseline) on names.

    python train.py                      # the lecture's run: 200k steps, val loss ~1.99
    python train.py --model dilated      # whole words per step, every position predicted at once
    python train.py --model flat --block-size 3 --n-embd 10 --n-hidden 200   # the lecture's starting point
    python train.py --steps 2000         # a quick look

Writes to --out-dir: metrics.json, loss.png, samples.txt, model.pt (sample more names from it with sample.py).
"""

import argparse
import math
import time

import torch

from wavenet.checkpoint import save_model
from wavenet.data import Vocab, load_words, split_words
from wavenet.model import MODELS, Config, build_model
from wavenet.plots import plot_losses
from wavenet.sampling import sample
from wavenet.training import calibrate_batchnorm, evaluate, make_split, train
from zero_to_hero import UserError, run_main
from zero_to_hero.device import pick_device, seed_everything, set_threads, threads_option
from zero_to_hero.files import prepare_out_dir, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--model",
        choices=MODELS,
        default="hierarchical",
        help="hierarchical: one (context, next char) example per row, as in the lecture; "
        "dilated: causal dilated convolutions over whole words, every position at once; "
        "flat: lecture 5's MLP, the whole context in one Linear (the lecture's baseline)",
    )
    p.add_argument("--input", default="names", help="data set name or a UTF-8 file with one word per line")
    p.add_argument("--steps", type=int, default=200_000, help="optimisation steps")
    p.add_argument(
        "--batch-size", type=int, default=32, help="examples per step: contexts (hierarchical) or whole words (dilated)"
    )
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate; divided by 10 after 3/4 of the steps")
    p.add_argument(
        "--block-size",
        type=int,
        default=8,
        help="characters of context: a power of two (2, 4, 8, 16, ...) for hierarchical and dilated, any >= 1 for flat",
    )
    p.add_argument("--n-embd", type=int, default=24, help="embedding size per character")
    p.add_argument(
        "--n-hidden",
        type=int,
        default=128,
        help="channels of every level of the hierarchy (flat: width of its one hidden layer)",
    )
    p.add_argument(
        "--no-calibrate",
        action="store_true",
        help="keep BatchNorm's running statistics as training left them, instead of recomputing them "
        "over the whole training split before the final evaluation",
    )
    p.add_argument("--seed", type=int, default=42, help="seeds the data split, the initialisation and the batches")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument(
        "--threads",
        default="1",
        help="CPU threads for torch, a number or auto (the cores no other process keeps busy); the matrices are "
        "tiny, so extra threads mostly wait on each other",
    )
    p.add_argument("--log-every", type=int, default=10_000, help="steps between progress lines")
    p.add_argument("--samples", type=int, default=20, help="names to sample after training")
    p.add_argument("--out-dir", default="out/<model>", help="folder for metrics.json, loss.png, samples.txt, model.pt")
    p.add_argument("--overwrite", action="store_true", help="train into an --out-dir that already holds a model.pt")
    args = p.parse_args(argv)
    for name in ("steps", "batch_size", "n_embd", "n_hidden", "log_every"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise UserError(f"--lr must be a positive number, got {args.lr}")
    if args.samples < 0:
        raise UserError(f"--samples cannot be negative, got {args.samples}")
    try:
        threads_option(args.threads)
    except UserError as e:
        raise UserError(f"--{e}") from None
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    Config(block_size=args.block_size, model=args.model)  # a block size the model can't take fails before any work
    device = pick_device(args.device)
    set_threads(args.threads)
    out_dir = prepare_out_dir(args.out_dir.replace("<model>", args.model))  # before training, not after it
    if (out_dir / "model.pt").exists() and not args.overwrite:
        raise UserError(
            f"{out_dir} already holds a trained model.pt; replace it with --overwrite, or choose another --out-dir"
        )

    words = load_words(args.input)
    vocab = Vocab.from_words(words)
    config = Config(len(vocab), args.block_size, args.n_embd, args.n_hidden, args.model)
    splits = {
        name: make_split(ws, vocab, config.block_size, args.model).to(device)
        for name, ws in zip(("train", "val", "test"), split_words(words, args.seed), strict=True)
    }
    generator = seed_everything(args.seed)
    model = build_model(args.model, config, generator).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(words):,} words, vocabulary {len(vocab)}, {args.model} model, {n_params:,} parameters, {device}")

    start = time.perf_counter()
    losses, tokens = train(
        model,
        splits["train"],
        args.steps,
        args.batch_size,
        args.lr,
        generator,
        config.block_size,
        log_every=args.log_every,
    )
    seconds = time.perf_counter() - start
    result = {name: evaluate(model, split) for name, split in splits.items()}
    running = result
    if not args.no_calibrate:
        print("running-statistics losses: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()))
        calibrate_batchnorm(model, splits["train"])
        result = {name: evaluate(model, split) for name, split in splits.items()}
    for name, loss in result.items():
        print(f"{name} loss {loss:.4f}")
    names = sample(model, vocab, config.block_size, args.samples, generator)
    print("samples:", " ".join(names))

    metrics = {
        "model": args.model,
        "train_loss": result["train"],
        "val_loss": result["val"],
        "test_loss": result["test"],
        "calibrated": not args.no_calibrate,
        "running_stats_losses": running,  # before calibration: what the lecture reports
        "params": n_params,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "seconds": seconds,
        "tokens": tokens,  # predicted characters seen in training
        "examples_per_s": args.steps * args.batch_size / seconds,
        "tokens_per_s": tokens / seconds,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "samples": names,
    }
    plot_losses(losses, out_dir / "loss.png", title=f"{args.model}: val {result['val']:.4f}")
    (out_dir / "samples.txt").write_text("\n".join(names) + "\n")
    save_model(model, config, args.model, vocab, out_dir / "model.pt")
    write_json(out_dir / "metrics.json", metrics)
    print(f"wrote {out_dir}/metrics.json, loss.png, samples.txt, model.pt ({seconds:.1f} s of training)")
    return metrics


if __name__ == "__main__":
    run_main(main)
