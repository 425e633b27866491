"""Sample names from a model that train.py saved (its --out-dir/model.pt), without training again.

python sample.py                              # 20 names from out/hierarchical/model.pt
python sample.py --out-dir out/dilated -n 50 --seed 7
"""

import argparse
from pathlib import Path

import torch

from wavenet.checkpoint import load_model
from wavenet.sampling import sample
from zero_to_hero import UserError, run_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--out-dir", default="out/hierarchical", help="the folder train.py wrote model.pt into")
    p.add_argument("-n", "--samples", type=int, default=20, help="how many names")
    p.add_argument("--seed", type=int, default=42, help="seeds the sampling")
    args = p.parse_args(argv)
    if args.samples < 1:
        raise UserError(f"--samples must be at least 1, got {args.samples}")
    return args


def main(argv=None) -> list[str]:
    args = parse_args(argv)
    path = Path(args.out_dir) / "model.pt"
    model, vocab, kind = load_model(path, hint=f"train one with `python train.py --out-dir {args.out_dir}` first")
    generator = torch.Generator().manual_seed(args.seed)
    names = sample(model, vocab, model.config.block_size, args.samples, generator)
    print(f"{kind} model from {path}:")
    print("\n".join(names))
    return names


if __name__ == "__main__":
    run_main(main)
