"""The loss curve of a run (train.py's loss.png)."""

from wavenet.training import mean_per


def plot_losses(losses: list[float], path, every: int = 1000, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = mean_per(losses, every)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([every * (i + 1) for i in range(len(curve))], curve)
    ax.set_xlabel("step")
    ax.set_ylabel(f"train loss (mean per {every} steps)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
