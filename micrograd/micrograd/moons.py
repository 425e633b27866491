"""The lecture's demo: a binary classifier for two interleaving half circles, trained with micrograd.

Max-margin (SVM) loss + L2, full-batch SGD with a learning rate decaying from 1.0 to 0.1.
"""

import contextlib
import gc
import math

import numpy as np

from micrograd.engine import Value


def make_moons(n=100, noise=0.1, seed=0):
    """n points on two interleaving half circles plus Gaussian noise: X (n, 2) float64, y (n,) of -1/+1.

    The upper moon is the unit half circle (label -1); the lower one is shifted by (1, -0.5) and
    flipped (label +1). Points are spaced evenly along each arc, then shuffled.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"make_moons needs n >= 2 points, got {n!r}")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"make_moons needs a finite noise >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)  # (n_upper, 2)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)  # (n_lower, 2)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([-np.ones(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    order = rng.permutation(n)
    return X[order], y[order]


def svm_loss(model, X, y, alpha=1e-4):
    """(mean max-margin loss + alpha * sum of squared parameters, accuracy) of model on X, y (-1/+1).

    X and y are lists of plain floats (numpy scalars would make every operation slower).
    """
    scores = [model(list(map(Value, row))) for row in X]  # each input a Value once, not once per use
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores, strict=True)]  # 0 once yi * score >= 1
    data_loss = Value.sum(losses) * (1.0 / len(losses))  # one n-ary + node, same float as sum(losses)
    reg_loss = alpha * Value.sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (score.data > 0) for yi, score in zip(y, scores, strict=True)) / len(y)
    return data_loss + reg_loss, accuracy


@contextlib.contextmanager
def cycle_collector_paused():
    """Pause Python's cyclic garbage collector; restore it after.

    micrograd's graphs have no reference cycles: reference counting frees each step's graph the
    moment the loss goes away, and the collector can never find anything in it. Yet while a step
    builds its ~75,000 objects, the collector keeps re-scanning them (about a quarter of the
    lecture loop's step time in the README's benchmark). Cycles made elsewhere meanwhile are
    still collected, just after the step.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sgd(model, X, y, steps):
    """Train model in place; yields (step, loss, accuracy, learning rate) after each step."""
    X = [[float(v) for v in row] for row in X]
    y = [int(v) for v in y]
    for k in range(steps):
        with cycle_collector_paused():
            loss, accuracy = svm_loss(model, X, y)
            model.zero_grad()
            loss.backward()
            learning_rate = 1.0 - 0.9 * k / steps
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            loss_value = loss.data
            # Free the graph (reference counting) before the collector resumes: otherwise its first
            # run would scan every one of the step's objects, all still alive and all in its youngest generation.
            del loss
        yield k, loss_value, accuracy, learning_rate


def plot_decision_boundary(model, X, y, path, resolution=60):
    """Save a PNG of the model's decision regions with the data points on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    margin = 0.5
    xs = np.linspace(X[:, 0].min() - margin, X[:, 0].max() + margin, resolution)
    ys = np.linspace(X[:, 1].min() - margin, X[:, 1].max() + margin, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)  # (resolution, resolution) each
    scores = np.array([model([float(a), float(b)]).data for a, b in zip(grid_x.ravel(), grid_y.ravel(), strict=True)])
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(grid_x, grid_y, (scores > 0).reshape(grid_x.shape), levels=1, cmap="Spectral", alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=30, cmap="Spectral", edgecolors="k")
    ax.set(xlabel="x1", ylabel="x2", title="micrograd MLP(2, [16, 16, 1]) on two moons")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def neuron_graph(neuron, x):
    """One neuron applied to the inputs x, backpropagated and labelled, ready for viz.draw_dot."""
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
    for i, w in enumerate(neuron.w):
        w.label = f"w{i + 1}"
    neuron.b.label = "b"
    out = neuron(inputs)
    out.label = "out"
    out.backward()
    return out
