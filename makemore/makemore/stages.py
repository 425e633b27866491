"""What train.py runs: one lecture stage from data to metrics.json, plots and samples.

metrics = run_stage(Config(model="mlp"))   # the defaults below reproduce the lecture targets

Each stage is a row of STAGES: its defaults, a builder that only makes the model and its training step
(no files, no training), and reports that draw the stage's plots or add its metrics before or after training.
"""

import math
import time
from collections.abc import Callable
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
from makemore.training import TrainStep, evaluate, find_lr, sgd_step, step_decay, train
from zero_to_hero import UserError
from zero_to_hero.device import pick_device, seed_everything
from zero_to_hero.files import prepare_out_dir, write_json


@dataclass
class Config:
    model: str = "mlp"
    steps: int | None = None  # None: the stage's default from STAGES
    batch_size: int | None = None
    lr: float | None = None
    block_size: int | None = None  # characters of context, as in every lecture stage
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
        if self.model not in STAGES:
            raise UserError(f"unknown model {self.model!r}; choose one of {', '.join(STAGES)}")
        values = asdict(self)
        for key, default in STAGES[self.model].defaults.items():
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


@dataclass
class Run:
    """What a stage's builder and reports work from: the resolved config, the data, where files go."""

    config: Config
    words: list[str]
    vocab: Vocab
    data: dict[str, list[torch.Tensor]]  # "train"/"val"/"test" -> [X (N, block_size), Y (N,)] on the device
    generator: torch.Generator  # the seeded generator of the initial weights and the minibatches
    device: torch.device
    out_dir: Path
    update_ratios: UpdateRatios  # lecture 4's update:data ratios, recorded by the steps that hook them in

    def log(self, line: str) -> None:
        if self.config.log:
            print(line, flush=True)


# --- builders: the model and its training step (None: nothing to train), nothing else ---------------------------


def build_bigram_counts(run: Run):
    return BigramCounts(*run.data["train"], len(run.vocab)), None  # counted, not trained


def build_bigram(run: Run):
    model = NeuralBigram(len(run.vocab), run.generator).to(run.device)
    return model, sgd_step(model, l2=run.config.l2)


def build_mlp(run: Run):
    c = run.config
    model = MLP(len(run.vocab), c.block_size, c.n_embd, c.n_hidden, run.generator).to(run.device)
    return model, sgd_step(model, l2=c.l2)


def build_bn_mlp(run: Run):
    c = run.config
    # momentum 0.001 as in lecture 4: batches of 32 give noisy statistics, so average over ~1000 of them
    model = bn_mlp(len(run.vocab), c.block_size, run.generator, n_embd=c.n_embd, n_hidden=c.n_hidden, momentum=0.001)
    model = model.to(run.device)
    return model, sgd_step(model, l2=c.l2, on_update=run.update_ratios)


def build_manual_mlp(run: Run):
    c = run.config
    model = ManualMLP(len(run.vocab), c.block_size, c.n_embd, c.n_hidden, run.generator).to(run.device)
    return model, manual_step(model)


# --- reports: a stage's plots and extra metrics (files and log lines; they leave the model as it was) ------------


def count_plot_and_dataset_nll(run: Run, model: BigramCounts) -> dict:
    """The lecture's count matrix figure, and its NLL: the table fitted to every bigram of the data, scored on them."""
    plots.plot_counts(model.counts, run.vocab.itos, run.out_dir / "bigram_counts.png")
    X_all, Y_all = build_windows(run.words, run.vocab, 1)
    vocab_size = len(run.vocab)
    return {
        "dataset_nll": evaluate(BigramCounts(X_all, Y_all, vocab_size, smoothing=1.0), X_all, Y_all),
        "dataset_nll_unsmoothed": evaluate(BigramCounts(X_all, Y_all, vocab_size, smoothing=0.0), X_all, Y_all),
    }


def counting_model_losses(run: Run, model) -> dict:
    """The lecture's comparison for the neural bigram: the counting model fitted to the same split."""
    counts = BigramCounts(*run.data["train"], len(run.vocab))
    return {f"counts_{name}_loss": evaluate(counts, X, Y) if len(X) else None for name, (X, Y) in run.data.items()}


def lr_finder_plot(run: Run, model) -> dict:
    """Lecture 3's learning-rate finder on a throw-away model (its own seeds: the real run is the same without it)."""
    c = run.config

    def fresh_step() -> TrainStep:
        fresh = MLP(len(run.vocab), c.block_size, c.n_embd, c.n_hidden, torch.Generator().manual_seed(c.seed))
        return sgd_step(fresh.to(run.device))

    finder_g = torch.Generator().manual_seed(c.seed + 1)
    lrs, losses = find_lr(fresh_step, *run.data["train"], batch_size=max(c.batch_size, 1), generator=finder_g)
    best = plots.plot_lr_finder(lrs, losses, run.out_dir / "lr_finder.png")
    run.log(f"lr finder: lowest loss at lr {best:.3g} (lr_finder.png); training with lr {c.lr:g}")
    return {}


def _diagnostics_batch(run: Run) -> tuple[torch.Tensor, torch.Tensor]:
    """The one fixed batch the histograms look at, before and after training."""
    X, Y = run.data["train"]
    g = torch.Generator().manual_seed(run.config.seed)
    batch = torch.randint(0, len(X), (max(run.config.batch_size, 32),), generator=g).to(X.device)
    return X[batch], Y[batch]


def diagnostics_at_init(run: Run, model: nn.Module) -> dict:
    plot_diagnostics(snapshot(model, *_diagnostics_batch(run)), None, run.out_dir, suffix="_init")
    return {}


def diagnostics_trained(run: Run, model: nn.Module) -> dict:
    plot_diagnostics(snapshot(model, *_diagnostics_batch(run)), run.update_ratios, run.out_dir)
    return {}


Report = Callable[[Run, object], dict]


@dataclass(frozen=True)
class Stage:
    lecture: int
    defaults: dict  # batch_size 0 = full batch; l2 is the neural bigram's weight regularisation (its "smoothing")
    build: Callable[[Run], tuple]  # -> (model, train_step or None)
    before_training: tuple[Report, ...] = ()
    after_training: tuple[Report, ...] = ()


# Per-stage defaults, chosen to reach the targets on a 2-core CPU (timings in the README).
BIGRAM_DEFAULTS = dict(steps=300, batch_size=0, lr=50.0, block_size=1, n_embd=0, n_hidden=0, l2=0.01)
MLP_DEFAULTS = dict(steps=200_000, batch_size=32, lr=0.1, block_size=3, n_embd=10, n_hidden=200, l2=0.0)
COUNTED = dict(steps=0, lr=0.0, l2=0.0)  # nothing to train

STAGES = {
    "bigram-counts": Stage(2, {**BIGRAM_DEFAULTS, **COUNTED}, build_bigram_counts, (count_plot_and_dataset_nll,)),
    "bigram": Stage(2, BIGRAM_DEFAULTS, build_bigram, after_training=(counting_model_losses,)),
    "mlp": Stage(3, MLP_DEFAULTS, build_mlp, before_training=(lr_finder_plot,)),
    "bn-mlp": Stage(4, {**MLP_DEFAULTS, "n_hidden": 100}, build_bn_mlp, (diagnostics_at_init,), (diagnostics_trained,)),
    "manual-mlp": Stage(5, MLP_DEFAULTS, build_manual_mlp),
}


def run_stage(config: Config) -> dict:
    """Train (or count) one stage, evaluate every split, sample, plot; returns what metrics.json holds."""
    c = config.resolved()
    stage = STAGES[c.model]
    device = pick_device(c.device)
    g = seed_everything(c.seed)

    words = load_words(c.input)
    vocab = Vocab.from_words(words)
    splits = dict(zip(("train", "val", "test"), split_words(words, c.seed), strict=True))  # none empty
    data = {name: [t.to(device) for t in build_windows(ws, vocab, c.block_size)] for name, ws in splits.items()}
    out_dir = prepare_out_dir(c.out_dir, "--out-dir")
    run = Run(c, words, vocab, data, g, device, out_dir, UpdateRatios(every=max(1, c.steps // 1000)))
    run.log(f"{len(words)} words, vocab {len(vocab)}, split {'/'.join(str(len(w)) for w in splits.values())} words")

    start = time.perf_counter()
    metrics = {"model": c.model}
    model, train_step = stage.build(run)
    for report in stage.before_training:
        metrics.update(report(run, model))
    params = sum(p.numel() for p in model.parameters()) if train_step is not None else 0
    losses = []
    if train_step is not None:
        run.log(f"model {c.model}: {params:,} parameters, {c.steps} steps, batch {c.batch_size or 'full'}, lr {c.lr:g}")
        losses = train(
            train_step,
            *data["train"],
            steps=c.steps,
            batch_size=c.batch_size,
            lr_at=step_decay(c.lr, c.steps),
            generator=g,
            log_every=max(1, c.steps // 20),
            log=run.log,
        )
        if isinstance(model, nn.Module):
            model.eval()  # BatchNorm uses its running statistics from here on
    for report in stage.after_training:
        metrics.update(report(run, model))
    if losses:
        plots.plot_loss(losses, run.out_dir / "loss.png", f"{c.model} training loss")
    seconds = time.perf_counter() - start

    for name, (X, Y) in data.items():
        loss = evaluate(model, X, Y)
        metrics[f"{name}_loss"] = None if math.isnan(loss) else loss
        run.log(f"{name} loss {loss:.4f}")
    metrics.update(steps=c.steps, seconds=seconds, params=params, config=asdict(c))

    sample_g = torch.Generator().manual_seed(c.seed)
    samples = sample_words(lambda ctx: model(ctx.to(device)), vocab, c.block_size, c.samples, sample_g)
    metrics["samples"] = samples
    if samples:
        run.log("samples: " + " ".join(samples))
    write_json(run.out_dir / "metrics.json", metrics)
    run.log(f"wrote {run.out_dir / 'metrics.json'} ({seconds:.1f}s)")
    return metrics
