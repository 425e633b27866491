"""Lecture 4's diagnostics: is the deep network healthy? Histograms and ratios, saved as PNGs.

- activations: per Tanh layer, the distribution of outputs and the % saturated (|t| > 0.97),
  where tanh's local gradient 1 - t^2 is nearly zero and learning stalls;
- gradients of those activations: similar spreads across layers mean no layer's signal vanishes;
- weight gradients and their grad:data ratio std(grad) / std(weight);
- update:data ratio over training, log10(std(lr * grad) / std(weight)) per weight matrix:
  around -3 (the guide line) the parameters move at a sensible pace, far below they barely learn.
"""

import math

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch
import torch.nn.functional as F
from torch import nn

from makemore.layers import Linear, Tanh

SATURATED = 0.97


def _weights(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The Linear layers' weight matrices, the parameters the lecture's plots follow."""
    return [(f"layer {name} (Linear)", m.weight) for name, m in model.named_modules() if isinstance(m, Linear)]


class UpdateRatios:
    """Records log10(std(lr * grad) / std(weight)) per weight matrix every `every` steps (an `on_update` hook)."""

    def __init__(self, every: int = 100):
        self.every = every
        self.calls = 0
        self.steps: list[int] = []
        self.names: list[str] = []
        self.ratios: list[list[float]] = []  # one row per recorded step

    @torch.no_grad()
    def __call__(self, model: nn.Module, lr: float) -> None:
        if self.calls % self.every == 0:
            weights = _weights(model)
            self.names = [name for name, _ in weights]
            self.ratios.append([math.log10((lr * p.grad).std().item() / p.std().item()) for _, p in weights])
            self.steps.append(self.calls)
        self.calls += 1


def snapshot(model: nn.Module, Xb: torch.Tensor, Yb: torch.Tensor) -> dict:
    """One training-mode forward and backward on a batch; returns the tensors the histograms show.

    The running statistics of BatchNorm and the train/eval mode are restored afterwards: a look must
    not change the model.
    """
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    was_training = model.training
    model.train()
    for p in model.parameters():
        p.grad = None
    loss = F.cross_entropy(model(Xb), Yb)
    tanhs = [(i, layer) for i, layer in enumerate(model) if isinstance(layer, Tanh)]
    for _, layer in tanhs:
        layer.out.retain_grad()  # keep d loss / d activation, which autograd frees by default
    loss.backward()
    result = {
        "activations": [(f"layer {i} (Tanh)", layer.out.detach().cpu()) for i, layer in tanhs],
        "activation_grads": [(f"layer {i} (Tanh)", layer.out.grad.cpu()) for i, layer in tanhs],
        "weights": [(name, p.detach().cpu(), p.grad.cpu()) for name, p in _weights(model)],
    }
    for p in model.parameters():
        p.grad = None
    with torch.no_grad():
        for name, b in model.named_buffers():
            b.copy_(buffers[name])
    model.train(was_training)
    return result


def _histograms(ax, items, title: str, label) -> None:
    for name, t in items:
        counts, edges = torch.histogram(t.float().flatten(), bins=50, density=True)
        ax.plot(((edges[:-1] + edges[1:]) / 2).numpy(), counts.numpy(), label=label(name, t))
    ax.set_title(title)
    ax.legend(fontsize=8)


def plot_diagnostics(snap: dict, ratios: UpdateRatios | None, out_dir, suffix: str = "") -> list[str]:
    """Write the diagnostic PNGs (<name><suffix>.png) into out_dir, update ratios only if given; returns the names."""

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(f"{out_dir}/{name}", dpi=80)
        plt.close(fig)
        return name

    names = []
    fig, ax = plt.subplots(figsize=(12, 4))
    _histograms(
        ax,
        snap["activations"],
        "activation distribution",
        lambda n, t: (
            f"{n}: mean {t.mean():+.2f}, std {t.std():.2f}, saturated {100 * (t.abs() > SATURATED).float().mean():.1f}%"
        ),
    )
    names.append(save(fig, f"activations{suffix}.png"))

    fig, ax = plt.subplots(figsize=(12, 4))
    _histograms(ax, snap["activation_grads"], "gradient distribution", lambda n, t: f"{n}: std {t.std():.2e}")
    names.append(save(fig, f"activation_grads{suffix}.png"))

    fig, ax = plt.subplots(figsize=(12, 4))
    for name, w, g in snap["weights"]:
        counts, edges = torch.histogram(g.float().flatten(), bins=50, density=True)
        label = f"{name} {tuple(w.shape)}: grad std {g.std():.2e}, grad:data {g.std() / w.std():.2e}"
        ax.plot(((edges[:-1] + edges[1:]) / 2).numpy(), counts.numpy(), label=label)
    ax.set_title("weight gradient distribution")
    ax.legend(fontsize=8)
    names.append(save(fig, f"weight_grads{suffix}.png"))

    if ratios is None:
        return names
    fig, ax = plt.subplots(figsize=(12, 4))
    if ratios.ratios:
        series = torch.tensor(ratios.ratios)  # (recorded steps, weights)
        for j, name in enumerate(ratios.names):
            ax.plot(ratios.steps, series[:, j].numpy(), label=name)
    ax.axhline(-3, color="k", linestyle="--", label="1e-3 guide")
    ax.set_xlabel("step")
    ax.set_ylabel("log10(update std / data std)")
    ax.set_title("update:data ratio")
    ax.legend(fontsize=8)
    names.append(save(fig, f"update_ratios{suffix}.png"))
    return names
