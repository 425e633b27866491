"""Generate text from a trained checkpoint.

python sample.py --out_dir=out/shakespeare-char --start="ROMEO:" --num_samples=3 --max_new_tokens=200
python sample.py --start=FILE:prompt.txt --temperature=0.7 --top_k=50 --seed=7
python sample.py --pretrained=path/to/gpt2 --start="Hello, I'm a language model," --max_new_tokens=40
python sample.py --out_dir=../nanoGPT/out-shakespeare-char    # a checkpoint written by nanoGPT (+ its meta.pkl)

From a nanoGPT checkpoint, samples are drawn in nanoGPT's order (--order=auto): the seed is set before the
model is built and the samples are drawn one at a time from torch's global generator, as nanoGPT's sample.py
does, so the same seed gives nanoGPT's text. --order=batch (the default for our checkpoints) draws all samples
in one batch from a generator of their own; --order=nanogpt asks for nanoGPT's order with any checkpoint.
"""

import argparse
import math

import torch

from nanogpt.checkpoint import is_nanogpt_checkpoint, load_checkpoint, model_from_checkpoint
from nanogpt.data import Tokenizer
from nanogpt.model import GPT
from nanogpt.nanogpt_format import model_from_nanogpt
from nanogpt.sampling import read_prompt, sample_text
from zero_to_hero import UserError, run_main
from zero_to_hero.device import pick_device

MIN_TEMPERATURE = 1e-3  # below this, logits / temperature overflow: use 0 (greedy) instead


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The usage examples as written, and every flag's default."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--out_dir", default="out/shakespeare-char", help="folder holding ckpt.pt (from train.py)")
    parser.add_argument(
        "--pretrained", help="a local Hugging Face GPT-2 folder to sample from instead of out_dir's checkpoint"
    )
    parser.add_argument("--start", default="\n", help="prompt text, or FILE:path to read it from a file")
    parser.add_argument("--num_samples", type=int, default=1, help="how many independent samples")
    parser.add_argument("--max_new_tokens", type=int, default=500, help="tokens generated per sample")
    parser.add_argument("--temperature", type=float, default=0.8, help="<1 sharper, >1 more random, 0 greedy")
    parser.add_argument("--top_k", type=int, default=200, help="sample among the k likeliest tokens only")
    parser.add_argument("--seed", type=int, default=1337, help="the same seed gives the same samples")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--meta", default="", help="nanoGPT's meta.pkl (default: out_dir/ or data/DATASET/)")
    parser.add_argument(
        "--order",
        default="auto",
        choices=["auto", "nanogpt", "batch"],
        help="nanogpt: seed before building the model, then one sample at a time from the global generator, as "
        "nanoGPT's sample.py (its seed, its text); batch: all samples at once; auto: nanogpt for a nanoGPT "
        "checkpoint, else batch",
    )
    return parser


def check_args(args: argparse.Namespace) -> None:
    """Bad values end here, before a checkpoint is loaded."""
    t = args.temperature
    if not math.isfinite(t) or t < 0 or 0 < t < MIN_TEMPERATURE:
        raise UserError(f"--temperature must be 0 (greedy) or a finite number >= {MIN_TEMPERATURE}, got {t}")
    if args.top_k < 1:
        raise UserError(f"--top_k must be >= 1, got {args.top_k}")
    if args.num_samples < 1 or args.max_new_tokens < 0:
        raise UserError("--num_samples must be >= 1 and --max_new_tokens >= 0")


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    check_args(args)
    device = pick_device(args.device)
    checkpoint = None if args.pretrained else load_checkpoint(args.out_dir)
    order = args.order
    if order == "auto":
        order = "nanogpt" if checkpoint is not None and is_nanogpt_checkpoint(checkpoint) else "batch"
    if order == "nanogpt":  # nanoGPT's sample.py: the seed first, then the model (its init draws from the seed)
        torch.manual_seed(args.seed)
    if args.pretrained:  # GPT-2's own weights speak GPT-2 BPE
        model, tokenizer = GPT.from_pretrained(args.pretrained), Tokenizer("gpt2")
    elif is_nanogpt_checkpoint(checkpoint):  # written by nanoGPT's train.py
        model, tokenizer = model_from_nanogpt(checkpoint, args.out_dir, args.meta)
    else:
        model, tokenizer = model_from_checkpoint(checkpoint)
    model.to(device)
    texts = sample_text(
        model,
        tokenizer,
        read_prompt(args.start),
        args.max_new_tokens,
        args.temperature,
        args.top_k,
        args.seed,
        args.num_samples,
        device,
        order=order,
    )
    for i, text in enumerate(texts):
        if i:
            print("-" * 40)
        print(text)


if __name__ == "__main__":
    run_main(main)
