"""Train a GPT (or the bigram baseline) — the project's main job.

    python train.py                                    # a config suited to this machine's best device
    python train.py configs/shakespeare_char.py        # a config file ...
    python train.py --max_iters=500 --dropout=0.1      # ... and/or --key=value overrides

Ends with out_dir/ckpt.pt, out_dir/metrics.json and a printed sample.
"""

import argparse
import sys
from pathlib import Path

from nanogpt.config import KEYS, load_config
from nanogpt.sampling import sample_text
from nanogpt.trainer import Trainer
from zero_to_hero import UserError, run_main
from zero_to_hero.device import pick_device

CONFIGS = Path(__file__).parent / "configs"


def default_config_file(device: str) -> Path:
    """A small, quick model on a CPU; the classic 6-layer char model on a GPU."""
    return CONFIGS / ("shakespeare_char_cpu.py" if pick_device(device).type == "cpu" else "shakespeare_char.py")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("config", nargs="?", help="a config file (default: configs/ chosen by device)")
    for name, field in KEYS.items():
        parser.add_argument(
            f"--{name}",
            metavar=field.type.__name__.upper(),
            help=f"{field.metadata['help']} (default {field.default!r})",
        )
    return parser


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        raise UserError(f"unknown arguments {' '.join(unknown)}; valid keys: {', '.join(KEYS)}")
    overrides = {k: v for k, v in vars(args).items() if k != "config" and v is not None}  # text, checked below
    config_file = args.config or default_config_file(overrides.get("device", "auto"))
    cfg = load_config(config_file, overrides)
    print(f"config: {config_file}")
    trainer = Trainer(cfg)
    metrics = trainer.run()
    print(
        f"final: train loss {metrics['train_loss']:.4f}, val loss {metrics['val_loss']:.4f}, "
        f"{metrics['tokens_per_sec']:,.0f} tokens/s; wrote {cfg.out_dir}/metrics.json"
    )
    print("-" * 40)
    print(sample_text(trainer.raw_model, trainer.tokenizer, max_new_tokens=300, device=trainer.device)[0])


if __name__ == "__main__":
    run_main(main)
