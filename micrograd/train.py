"""Train micrograd's MLP(2, [16, 16, 1]) on two moons: the lecture's demo, end to end.

    python train.py                       # 100 steps, writes out/moons.png, out/neuron.svg, out/metrics.json
    python train.py --seed 3 --steps 50 --out-dir out/seed3

A scalar engine runs on the CPU only, so there is no --device flag.
"""

import argparse
import os
import random
import shutil
import time

from micrograd.moons import make_moons, neuron_graph, plot_decision_boundary, sgd, svm_loss
from micrograd.nn import MLP
from micrograd.viz import draw_dot
from zero_to_hero import UserError, run_main
from zero_to_hero.files import atomic_path, prepare_out_dir, write_json
from zero_to_hero.progress import progress_line


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--seed", type=int, default=1337, help="seeds the data (numpy) and the initial weights (random); default 1337"
    )
    parser.add_argument(
        "--steps", type=int, default=100, help="full-batch SGD steps, learning rate 1 - 0.9 * step / steps; default 100"
    )
    parser.add_argument(
        "--out-dir", default="out", help="where moons.png, neuron.dot/.svg and metrics.json go; default out/"
    )
    args = parser.parse_args(argv)
    if args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if not 0 <= args.seed < 2**32:  # numpy's seeds
        raise UserError(f"--seed must be in [0, 2**32), got {args.seed}")
    return args


def main(argv=None):
    args = parse_args(argv)
    prepare_out_dir(args.out_dir)  # before training: a bad folder must not cost the run

    X, y = make_moons(100, noise=0.1, seed=args.seed)
    random.seed(args.seed)  # micrograd's Neuron draws its weights from Python's random, like the original
    model = MLP(2, [16, 16, 1])
    print(f"{model!r}: {len(model.parameters())} parameters, {len(X)} points")

    start = time.perf_counter()
    for k, loss, accuracy, learning_rate in sgd(model, X, y, args.steps):  # loss, accuracy: before update k
        seconds_per_step = (time.perf_counter() - start) / (k + 1)
        values = {"loss": loss, "accuracy": f"{accuracy:.1%}", "lr": learning_rate}
        rate = len(X) / seconds_per_step
        print(progress_line(k + 1, args.steps, **values, seconds_per_step=seconds_per_step, rate=rate, unit="examples"))
    seconds = time.perf_counter() - start
    final_loss, final_accuracy = svm_loss(model, X.tolist(), y.tolist())  # after the last update
    print(f"final: loss {final_loss.data:.4f}, accuracy {final_accuracy:.1%}, {seconds:.1f} s")

    plot_path = os.path.join(args.out_dir, "moons.png")
    plot_decision_boundary(model, X, y, plot_path)
    drawing = draw_dot(neuron_graph(model.layers[0].neurons[0], X[0]))
    dot_path = os.path.join(args.out_dir, "neuron.dot")
    with atomic_path(dot_path) as tmp:
        tmp.write_text(drawing.source, encoding="utf-8")
    svg_path = None
    if shutil.which("dot"):
        svg_path = drawing.render(os.path.join(args.out_dir, "neuron"), format="svg", cleanup=True)
    else:
        print("graphviz's `dot` is not installed: wrote neuron.dot only (apt-get install graphviz for the SVG)")

    metrics = {
        "loss": final_loss.data,
        "accuracy": final_accuracy,
        "steps": args.steps,
        "seconds": round(seconds, 3),
        "ms_per_step": round(1000 * seconds / args.steps, 2),
        "parameters": len(model.parameters()),
        "seed": args.seed,
        "data": {"name": "two moons", "points": len(X), "noise": 0.1},
        "outputs": {"plot": plot_path, "neuron_dot": dot_path, "neuron_svg": svg_path},
    }
    write_json(os.path.join(args.out_dir, "metrics.json"), metrics)
    print(f"wrote {plot_path}, {svg_path or dot_path}, {os.path.join(args.out_dir, 'metrics.json')}")


if __name__ == "__main__":
    run_main(main)
