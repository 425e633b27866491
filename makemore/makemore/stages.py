"""What train.py runs: one lecture stage from data to metrics.json, plots and samples.

metrics = run_stage(Config(model="mlp"))   # the defaults below reproduce the lecture targets
"""

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from makemore import plots
from makemore.bigram import BigramCounts, NeuralBigram
from makemore.data import Vocab, build_windows, load_words, split_words
from makemore.diagnostics import UpdateRatios, plot_diagnostics, snapshot
from makemore.layers import bn_mlp
from makemore.manual_backprop import ManualMLP, manual_step
from makemore.mlp import MLP
from makemore.sampling import sample_words
from makemore.training import evaluate, find_lr, sgd_step, step_decay, train
from zero_to_hero import UserError
from zero_to_hero.device import pick_device, seed_everything
from zero_to_hero.files import write_json

# Per-stage defaults, chosen to reach the targets on a 2-core CPU (timings in the README).
# batch_size 0 = full batch; l2 is the neural bigram's weight regularisation (its "smoothing").
DEFAULTS = {
    "bigram-counts": dict(steps=0, batch_size=0, lr=0.0, block_size=1, n_embd=0, n_hidden=0, l2=0.0),
    "bigram": dict(steps=300, batch_size=0, lr=50.0, block_size=1, n_embd=0, n_hidden=0, l2=0.01),
    "mlp": dict(steps=200_000, batch_size=32, lr=0.1, block_size=3, n_embd=10, n_hidden=200, l2=0.0),
    "bn-mlp": dict(steps=200_000, batch_size=32, lr=0.1, block_size=3, n_embd=10, n_hidden=100, l2=0.0),
    "manual-mlp": dict(steps=200_000, batch_size=32, lr=0.1, block_size=3, n_embd=10, n_hidden=200, l2=0.0),
}
MODELS = tuple(DEFAULTS)


@dataclass
class Config:
    model: str = "mlp"
    steps: int | None = None  # None: the stage's default from DEFAULTS
    batch_size: int | None = None
    lr: float | None = None
    block_size: int | None = None
    n_embd: int | None = None
    n_hidden: int | None = None
    l2: float | None = None
    seed: int = 42
    device: str = "auto"
    input: str = "names"
    out_dir: str = "out/makemore"
    samples: int = 20
    log: bool = True  # progress lines on stdout

    def resolved(self) -> "Config":
        """A copy with every None replaced by the stage's default, checked for mistakes."""
        if self.model not in DEFAULTS:
            raise UserError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        values = asdict(self)
        for key, default in DEFAULTS[self.model].items():
            if values[key] is None:
                values[key] = default
        c = Config(**values)
        if c.model.startswith("bigram") and c.block_size != 1:
            raise UserError(f"a bigram sees exactly one previous character; drop --block-size {c.block_size}")
        checks = [
            (c.steps >= 0, f"--steps must be >= 0, got {c.steps}"),
            (c.batch_size >= 0, f"--batch-size must be >= 0 (0 = full batch), got {c.batch_size}"),
            (c.model == "bigram-counts" or c.lr > 0, f"--lr must be > 0, got {c.lr}"),
            (c.block_size >= 1, f"--block-size must be >= 1, got {c.block_size}"),
            (c.model.startswith("bigram") or min(c.n_embd, c.n_hidden) >= 1, "--n-embd and --n-hidden must be >= 1"),
            (c.samples >= 0, f"--samples must be >= 0, got {c.samples}"),
        ]  # fmt: skip
        if c.model in ("bn-mlp", "manual-mlp"):
            checks.append((c.batch_size != 1, "BatchNorm needs batches of at least 2 examples; use --batch-size >= 2"))
        for ok, message in checks:
            if not ok:
                raise UserError(message)
        return c


def _log(config: Config, line: str) -> None:
    if config.log:
        print(line, flush=True)


def _build(c: Config, vocab_size: int, g: torch.Generator, device, out_dir: Path, Xtr, Ytr):
    """The model, its training step and any extra plots it wants drawn after training."""
    after = []  # callables run on the trained model
    if c.model == "bigram":
        model = NeuralBigram(vocab_size, g).to(device)
        return model, sgd_step(model, l2=c.l2), after
    if c.model == "mlp":

        def fresh_step():
            fresh = MLP(vocab_size, c.block_size, c.n_embd, c.n_hidden, torch.Generator().manual_seed(c.seed))
            return sgd_step(fresh.to(device))

        # the finder trains its own throw-away model, so the real run is the same with or without it
        finder_g = torch.Generator().manual_seed(c.seed + 1)
        lrs, losses = find_lr(fresh_step, Xtr, Ytr, batch_size=max(c.batch_size, 1), generator=finder_g)
        best = plots.plot_lr_finder(lrs, losses, out_dir / "lr_finder.png")
        _log(c, f"lr finder: lowest loss at lr {best:.3g} (lr_finder.png); training with lr {c.lr:g}")
        model = MLP(vocab_size, c.block_size, c.n_embd, c.n_hidden, g).to(device)
        return model, sgd_step(model, l2=c.l2), after
    if c.model == "bn-mlp":
        # momentum 0.001 as in lecture 4: batches of 32 give noisy statistics, so average over ~1000 of them
        model = bn_mlp(vocab_size, c.block_size, g, n_embd=c.n_embd, n_hidden=c.n_hidden, momentum=0.001).to(device)
        ratios = UpdateRatios(every=max(1, c.steps // 1000))
        batch = torch.randint(0, len(Xtr), (max(c.batch_size, 32),), generator=torch.Generator().manual_seed(c.seed))
        Xb, Yb = Xtr[batch.to(Xtr.device)], Ytr[batch.to(Xtr.device)]
        init = snapshot(model, Xb, Yb)
        plot_diagnostics(init, None, out_dir, suffix="_init")
        after.append(lambda m: plot_diagnostics(snapshot(m, Xb, Yb), ratios, out_dir))
        return model, sgd_step(model, l2=c.l2, on_update=ratios), after
    model = ManualMLP(vocab_size, c.block_size, c.n_embd, c.n_hidden, g).to(device)
    return model, manual_step(model), after


def run_stage(config: Config) -> dict:
    """Train (or count) one stage, evaluate every split, sample, plot; returns what metrics.json holds."""
    c = config.resolved()
    device = pick_device(c.device)
    g = seed_everything(c.seed)

    words = load_words(c.input)
    vocab = Vocab.from_words(words)
    splits = dict(zip(("train", "val", "test"), split_words(words, c.seed), strict=True))
    if not splits["train"]:
        raise UserError(f"{c.input} has {len(words)} item(s); the 80/10/10 split needs at least 2")
    data = {name: [t.to(device) for t in build_windows(ws, vocab, c.block_size)] for name, ws in splits.items()}
    Xtr, Ytr = data["train"]
    _log(c, f"{len(words)} words, vocab {len(vocab)}, split {'/'.join(str(len(w)) for w in splits.values())} words")
    out_dir = Path(c.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create --out-dir {out_dir} ({e.strerror})") from None

    start = time.perf_counter()
    metrics = {"model": c.model}
    losses = []
    if c.model == "bigram-counts":  # no training: count, then score
        model = BigramCounts(Xtr, Ytr, len(vocab))
        plots.plot_counts(model.counts, vocab.itos, out_dir / "bigram_counts.png")
        X_all, Y_all = build_windows(words, vocab, 1)  # the lecture's figure: fit and score every bigram
        whole = BigramCounts(X_all, Y_all, len(vocab), smoothing=1.0)
        metrics["dataset_nll"] = evaluate(whole, X_all, Y_all)
        metrics["dataset_nll_unsmoothed"] = evaluate(
            BigramCounts(X_all, Y_all, len(vocab), smoothing=0.0), X_all, Y_all
        )
        params = 0
    else:
        model, step, after = _build(c, len(vocab), g, device, out_dir, Xtr, Ytr)
        params = sum(p.numel() for p in model.parameters())
        _log(c, f"model {c.model}: {params:,} parameters, {c.steps} steps, batch {c.batch_size or 'full'}, lr {c.lr:g}")
        losses = train(
            step,
            Xtr,
            Ytr,
            steps=c.steps,
            batch_size=c.batch_size,
            lr_at=step_decay(c.lr, c.steps),
            generator=g,
            log_every=max(1, c.steps // 20),
            log=lambda line: _log(c, line),
        )
        if isinstance(model, nn.Module):
            model.eval()  # BatchNorm uses its running statistics from here on
        for plot in after:
            plot(model)
        if losses:
            plots.plot_loss(losses, out_dir / "loss.png", f"{c.model} training loss")
    seconds = time.perf_counter() - start

    for name, (X, Y) in data.items():
        loss = evaluate(model, X, Y)
        metrics[f"{name}_loss"] = None if math.isnan(loss) else loss
        _log(c, f"{name} loss {loss:.4f}")
    if c.model == "bigram":  # the lecture's comparison: the counting model fitted to the same split
        counts = BigramCounts(Xtr, Ytr, len(vocab))
        for name, (X, Y) in data.items():
            metrics[f"counts_{name}_loss"] = evaluate(counts, X, Y) if len(X) else None
    metrics.update(steps=c.steps, seconds=seconds, params=params, config=asdict(c))

    sample_g = torch.Generator().manual_seed(c.seed)
    samples = sample_words(lambda ctx: model(ctx.to(device)), vocab, c.block_size, c.samples, sample_g)
    metrics["samples"] = samples
    if samples:
        _log(c, "samples: " + " ".join(samples))
    write_json(out_dir / "metrics.json", metrics)
    _log(c, f"wrote {out_dir / 'metrics.json'} ({seconds:.1f}s)")
    return metrics
