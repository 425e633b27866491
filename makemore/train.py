"""Train one lecture stage of makemore on the names data set (or your own one-item-per-line file).

    python train.py --model bigram-counts   # lecture 2: count bigrams; NLL 2.4546 over the whole data set
    python train.py --model bigram          # lecture 2: the same model as a neural net, by gradient descent
    python train.py --model mlp             # lecture 3: Bengio et al. MLP, learning-rate finder
    python train.py --model bn-mlp          # lecture 4: deep MLP with our BatchNorm1d, diagnostics plots
    python train.py --model manual-mlp      # lecture 5: MLP + BatchNorm trained with hand-written backprop

Writes <out-dir>/metrics.json and the stage's PNG plots, and prints 20 samples.
"""

import argparse

from makemore.stages import STAGES, Config, run_stage
from zero_to_hero import UserError, run_main
from zero_to_hero.device import set_threads


def defaults_table(key: str) -> str:
    return ", ".join(f"{name} {stage.defaults[key]}" for name, stage in STAGES.items())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    lectures = ", ".join(f"{name} (lecture {stage.lecture})" for name, stage in STAGES.items())
    parser.add_argument(
        "--model", choices=list(STAGES), default="mlp", help=f"which stage to run: {lectures}; default mlp"
    )
    parser.add_argument("--steps", type=int, help=f"training steps; default per model: {defaults_table('steps')}")
    parser.add_argument(
        "--batch-size", type=int, help=f"examples per step, 0 = full batch; default: {defaults_table('batch_size')}"
    )
    parser.add_argument(
        "--lr",
        type=float,
        help=f"learning rate, divided by 10 after 75%% of the steps; default: {defaults_table('lr')}",
    )
    parser.add_argument(
        "--block-size", type=int, help=f"characters of context (bigrams: 1); default: {defaults_table('block_size')}"
    )
    parser.add_argument("--n-embd", type=int, help="embedding size per character (MLPs; default 10)")
    parser.add_argument(
        "--n-hidden", type=int, help="hidden units per layer (default: mlp 200, bn-mlp 100, manual-mlp 200)"
    )
    parser.add_argument("--l2", type=float, help="L2 penalty on weight matrices (default: bigram 0.01, others 0)")
    parser.add_argument(
        "--seed", type=int, default=42, help="seeds the split, init, minibatches and samples (default 42)"
    )
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda|mps (default auto: the best available)")
    parser.add_argument("--threads", default="1", help="CPU threads for torch, a number or auto (default 1: these "
                        "models are too small to gain from more, and lose a lot when the cores are busy)")  # fmt: skip
    parser.add_argument(
        "--input", default="names", help="data set name or a UTF-8 file, one item per line (default names)"
    )
    parser.add_argument(
        "--out-dir", default="out/makemore", help="where metrics.json and plots go (default out/makemore)"
    )
    parser.add_argument("--samples", type=int, default=20, help="words to sample after training (default 20)")
    args = parser.parse_args(argv)
    try:
        set_threads(args.threads)
    except UserError as e:
        parser.error(f"--{e}")
    fields = {k: v for k, v in vars(args).items() if k != "threads"}
    run_stage(Config(**fields))


if __name__ == "__main__":
    run_main(main)
