"""The zoo's command line, `python -m makemore` (or `makemore`): train one of its models on any
one-item-per-line file, then make more of it.

python -m makemore                                  # a Transformer on the names data set -> out/zoo
python -m makemore --type lstm -i words.txt -o out/lstm
python -m makemore -o out/lstm --type lstm -i words.txt --resume --max-steps 20000
python -m makemore -o out/zoo --sample-only         # 50 words, as the original makemore

The original makemore's command lines work too (--input-file, --work-dir, -n/-b/-l/-w, --top-k, --max-steps -1),
and its work directory (a bare model.pt) is read by --sample-only and --resume:
python -m makemore -i names.txt -o out --type rnn --sample-only
"""

import argparse
import math
import sys
from pathlib import Path

import torch

from makemore.data import load_words
from makemore.zoo import original
from makemore.zoo.models import MODELS, ModelConfig, build_model
from makemore.zoo.training import (
    BEST,
    LAST,
    SequenceData,
    TrainConfig,
    check_header,
    format_samples,
    load_checkpoint,
    run_training,
    sample_groups,
)
from zero_to_hero import UserError, run_main
from zero_to_hero.device import pick_device, set_threads, threads_option
from zero_to_hero.files import prepare_out_dir

TRAIN_DEFAULTS = TrainConfig()
SAMPLE_ONLY_SAMPLES = 50  # the original makemore's --sample-only prints 50 words (training samples 10)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def max_steps_value(text: str) -> int:
    value = int(text)
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"must be >= 1, or -1 to train until Ctrl-C; got {value}")
    return value


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="makemore",
        description="Train an autoregressive character model on a file with one item per line "
        "(names, words, ...) and sample new items like them.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "-i",
        "--input",
        "--input-file",
        dest="input",
        default="names",
        help="a UTF-8 file with one item per line, or a data set name",
    )
    p.add_argument(
        "-o",
        "--out-dir",
        "--work-dir",
        dest="out_dir",
        default="out/zoo",
        help="where best.pt, last.pt and metrics.json go (an original makemore work dir's model.pt is read too)",
    )
    p.add_argument("--type", default="transformer", choices=list(MODELS), help="which model to train")
    p.add_argument("--n-layer", type=positive, default=4, help="transformer blocks")
    p.add_argument("--n-embd", type=positive, default=64, help="embedding width (all but bigram)")
    p.add_argument("--n-embd2", type=positive, default=64, help="hidden width: MLP layer, recurrent state, BoW MLP")
    p.add_argument("--n-head", type=positive, default=4, help="attention heads (transformer; must divide --n-embd)")
    p.add_argument("--dropout", type=float, default=0.2, help="transformer dropout rate during training")
    p.add_argument(
        "--max-steps",
        type=max_steps_value,
        default=TRAIN_DEFAULTS.max_steps,
        help="optimizer steps in all; -1: until Ctrl-C (constant learning rate). Ctrl-C always saves and samples",
    )
    p.add_argument("-b", "--batch-size", type=positive, default=TRAIN_DEFAULTS.batch_size, help="words per step")
    p.add_argument(
        "-l", "--learning-rate", type=float, default=TRAIN_DEFAULTS.learning_rate, help="AdamW learning rate"
    )
    p.add_argument(
        "--lr-schedule",
        default=TRAIN_DEFAULTS.lr_schedule,
        choices=["cosine", "constant"],
        help="cosine: decay to a tenth of --learning-rate by --max-steps",
    )
    p.add_argument(
        "-w",
        "--weight-decay",
        type=float,
        default=TRAIN_DEFAULTS.weight_decay,
        help="AdamW weight decay (on weight matrices and embeddings only)",
    )
    p.add_argument(
        "--eval-interval",
        type=positive,
        default=TRAIN_DEFAULTS.eval_interval,
        help="steps between test-loss evaluations, checkpoints and samples",
    )
    p.add_argument(
        "--log-interval", type=positive, default=TRAIN_DEFAULTS.log_interval, help="steps between progress lines"
    )
    p.add_argument(
        "--num-samples",
        type=positive,
        default=None,
        help=f"words sampled at each evaluation ({TRAIN_DEFAULTS.num_samples} when not given), or by --sample-only "
        f"({SAMPLE_ONLY_SAMPLES} when not given, as the original makemore)",
    )
    p.add_argument(
        "--top-k", type=int, default=TRAIN_DEFAULTS.top_k, help="sample from the k most likely characters; -1: from all"
    )
    p.add_argument(
        "-n",
        "--num-workers",
        type=non_negative,
        default=0,
        help="accepted for the original's command lines: its data loader processes. Batches here are drawn "
        "in-process from tensors already in memory, which is faster than worker processes for this data",
    )
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
    p.add_argument(
        "--threads",
        default="auto",
        help="CPU threads for torch: a number, or auto = the cores no other process keeps busy (all when the "
        "machine is idle; threads that share a busy core wait on each other, see README)",
    )
    p.add_argument(
        "--seed", type=int, default=TRAIN_DEFAULTS.seed, help="seeds the weights, the test split and the batches"
    )
    p.add_argument("--resume", action="store_true", help="continue from <out-dir>/last.pt up to --max-steps")
    p.add_argument(
        "--overwrite", action="store_true", help="train from scratch into an --out-dir that holds a trained model"
    )
    p.add_argument(
        "--sample-only",
        action="store_true",
        help=f"load <out-dir>/best.pt, print --num-samples words ({SAMPLE_ONLY_SAMPLES} by default), exit",
    )
    args = p.parse_args(argv)
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        p.error(f"--learning-rate must be a number > 0, got {args.learning_rate}")
    if not (math.isfinite(args.weight_decay) and args.weight_decay >= 0):
        p.error(f"--weight-decay must be a number >= 0, got {args.weight_decay}")
    if not 0 <= args.dropout < 1:  # also false for nan
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.resume and args.sample_only:
        p.error("--resume and --sample-only exclude each other")
    if args.overwrite and (args.resume or args.sample_only):
        p.error("--overwrite starts afresh: it excludes --resume and --sample-only")
    try:
        threads_option(args.threads)
    except UserError as e:
        p.error(f"--{e}")
    if args.num_samples is None:
        args.num_samples = SAMPLE_ONLY_SAMPLES if args.sample_only else TRAIN_DEFAULTS.num_samples
    if args.top_k == 0 or args.top_k < -1:
        p.error(f"--top-k must be >= 1, or -1 for no limit; got {args.top_k}")
    return args


def original_model(args: argparse.Namespace, config: ModelConfig):
    """The model in the original makemore's <work-dir>/model.pt, when that is what --out-dir holds (else None)."""
    path = Path(args.out_dir) / original.ORIGINAL_CHECKPOINT
    ours = Path(args.out_dir) / (BEST if args.sample_only else LAST)
    if ours.exists() or not path.exists():
        return None
    print(f"reading {path}, written by the original makemore: --type and the sizes must be those it was trained with")
    model = build_model(args.type, config)
    model.load_state_dict(original.load_converted(path, args.type, model.state_dict()))
    return model


def sample_only(args: argparse.Namespace, device: torch.device) -> None:
    """Rebuild the model best.pt describes; the data (same --input) only sorts the samples into train/test/new."""
    words = load_words(args.input)
    data = SequenceData.from_words(words, seed=args.seed)
    model = original_model(args, model_config(args, data))
    if model is not None:
        generator = torch.Generator(device=device).manual_seed(args.seed)
        print(format_samples(sample_groups(model.to(device), data, args.num_samples, generator, top_k=args.top_k)))
        return
    path = Path(args.out_dir) / BEST
    ckpt = load_checkpoint(path)
    data = SequenceData.from_words(words, seed=ckpt["seed"])
    check_header(ckpt, {"itos": list(data.vocab.itos)}, path)
    model = build_model(ckpt["type"], ModelConfig(**ckpt["config"])).to(device)
    model.load_state_dict(ckpt["model"])
    print(f"{ckpt['type']} from {path} (step {ckpt['step']}, test loss {ckpt['test_loss']:.4f})")
    generator = torch.Generator(device=device).manual_seed(args.seed)
    print(format_samples(sample_groups(model, data, args.num_samples, generator, top_k=args.top_k)))


def model_config(args: argparse.Namespace, data: SequenceData) -> ModelConfig:
    return ModelConfig(
        len(data.vocab), data.block_size, args.n_layer, args.n_embd, args.n_embd2, args.n_head, args.dropout
    )


def main(argv=None) -> dict | None:
    args = parse_args(argv)
    device = pick_device(args.device)
    set_threads(args.threads)
    if args.sample_only:
        return sample_only(args, device)
    out_dir = prepare_out_dir(args.out_dir)  # before any work: a bad folder must not cost a training run
    trained = [name for name in (BEST, LAST) if (out_dir / name).exists()]
    if trained and not (args.resume or args.overwrite):
        raise UserError(
            f"{out_dir} already holds a trained model ({', '.join(trained)}); continue it with --resume, sample "
            "it with --sample-only, replace it with --overwrite, or choose another --out-dir"
        )
    data = SequenceData.from_words(load_words(args.input), seed=args.seed)
    config = model_config(args, data)
    cfg = TrainConfig(**{name: getattr(args, name) for name in TrainConfig.__dataclass_fields__})
    if cfg.max_steps < 0 and cfg.lr_schedule == "cosine":
        print("--max-steps -1: no end to decay towards, so the learning rate stays constant")
    model = original_model(args, config) if args.resume else None
    weights = model.state_dict() if model is not None else None
    if weights is not None:
        print("the original saves no optimizer state: training restarts at step 0 from its weights")
    resume = args.resume and weights is None
    return run_training(
        args.type, config, data, cfg, Path(args.out_dir), device, resume=resume, initial_weights=weights
    )


def cli() -> None:
    """The `makemore` console script."""
    run_main(main, sys.argv[1:])


if __name__ == "__main__":
    cli()
