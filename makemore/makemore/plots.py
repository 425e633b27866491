"""The stages' plots (matplotlib, Agg backend, PNG): bigram counts, loss curve, learning-rate finder."""

import math

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from makemore.training import smooth  # noqa: E402


def plot_counts(counts: torch.Tensor, itos: tuple[str, ...], path) -> None:
    """The count matrix as a heatmap, each cell labelled with its bigram and count (the lecture's figure)."""
    V = len(itos)
    fig, ax = plt.subplots(figsize=(16, 16))
    ax.imshow(counts.cpu().numpy(), cmap="Blues")
    for i in range(V):
        for j in range(V):
            ax.text(j, i, itos[i] + itos[j], ha="center", va="bottom", color="gray", fontsize=7)
            ax.text(j, i, str(counts[i, j].item()), ha="center", va="top", color="gray", fontsize=7)
    ax.set_xticks(range(V), itos)
    ax.set_yticks(range(V), itos)
    ax.set_xlabel("next character")
    ax.set_ylabel("previous character")
    ax.set_title("bigram counts")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_loss(losses: list[float], path, title: str) -> None:
    """Minibatch losses averaged over windows of ~1% of training (raw ones are too noisy to read)."""
    window = max(1, len(losses) // 100)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([i * window for i in range(math.ceil(len(losses) / window))], smooth(losses, window))
    ax.set_xlabel("step")
    ax.set_ylabel(f"training loss (mean of {window} steps)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_lr_finder(lrs: list[float], losses: list[float], path) -> float:
    """Loss against log10(lr); returns the lr where the smoothed loss is lowest."""
    window = max(1, len(losses) // 50)
    smoothed = smooth(losses, window)
    centres = [sum(lrs[i : i + window]) / len(lrs[i : i + window]) for i in range(0, len(lrs), window)]
    best = centres[min(range(len(smoothed)), key=smoothed.__getitem__)]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([math.log10(lr) for lr in lrs], losses, alpha=0.3, label="minibatch loss")
    ax.plot([math.log10(lr) for lr in centres], smoothed, label=f"mean of {window} steps")
    ax.axvline(math.log10(best), color="k", linestyle="--", label=f"lowest at lr {best:.3g}")
    ax.set_xlabel("log10(learning rate)")
    ax.set_ylabel("loss")
    ax.set_title("learning-rate finder: lr grows exponentially, one step each")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return best
