"""Training any zoo model: the data as whole words, the loop, evaluation, sampling, checkpoints, Ctrl-C.

One loop for every model: AdamW on random batches of words, the test loss every eval_interval steps, the best
model (by test loss) kept in best.pt, everything needed to resume in last.pt.

    out_dir/best.pt       header + model weights + step, test loss                          (--sample-only)
    out_dir/last.pt       header + latest weights + optimizer + batch sampler + step...     (--resume)
    out_dir/metrics.json  train_loss, test_loss (of best.pt), steps, seconds, params, type

The header (type, sizes, vocabulary, seed) rebuilds the model and tells whether a checkpoint belongs to the run at
hand. The file reads in the order a run uses it: data, configuration, loss and evaluation, sampling, checkpoints,
Ctrl-C, then run_training, the loop itself, at the end.
"""

import math
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from makemore.data import Vocab
from makemore.zoo.models import ModelConfig, build_model, count_params
from zero_to_hero import UserError
from zero_to_hero.checkpoints import load_checkpoint as read_checkpoint_file
from zero_to_hero.device import seed_everything
from zero_to_hero.files import atomic_path, write_json
from zero_to_hero.progress import format_duration, progress_line

BEST, LAST, METRICS = "best.pt", "last.pt", "metrics.json"

# ------------------------------------------------------------------------------------------------------------------
# The data: words as whole sequences, '.' + word, padded, and the same shifted by one as targets.
#
#     x = . e m m a . . .      (block_size ids: '.' starts the word, '.' pads)
#     y = e m m a . -1 -1 -1   (the next character at every position; -1 = padding, ignored by the loss)
#
# Vocabulary and block size (longest word + 1) come from the data; the test split is min(1000, 10%) of the words
# (at least one), chosen by a seeded shuffle.

IGNORE = -1  # target id for padding: F.cross_entropy(..., ignore_index=IGNORE) skips it
MAX_TENSOR_BYTES = 2**31  # X and Y of every word, padded to the longest: refuse beyond 2 GiB


@dataclass(frozen=True)
class SequenceData:
    vocab: Vocab
    block_size: int  # longest word + 1: every row holds '.' + a whole word, so a model sees all of it
    train_words: list[str]
    test_words: list[str]

    @classmethod
    def from_words(cls, words: list[str], seed: int) -> "SequenceData":
        if len(words) < 2:
            raise UserError(f"need at least 2 items (one to train on, one to test on), got {len(words)}")
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        block_size = len(words[longest]) + 1
        size = 2 * len(words) * block_size * 8  # X and Y, int64
        if size > MAX_TENSOR_BYTES:
            raise UserError(
                f"the longest item ({words[longest][:20]!r}...) is {len(words[longest]):,} characters: every "
                f"sequence is padded to it, and "
                f"the {len(words):,} items would take {size / 2**30:.1f} GiB. The zoo models short items (names, "
                "words): split or drop the long lines"
            )
        vocab = Vocab.from_words(words)
        shuffled = list(words)
        random.Random(seed).shuffle(shuffled)
        n_test = max(1, min(1000, len(words) // 10))
        return cls(vocab, block_size, shuffled[n_test:], shuffled[:n_test])

    def build_sequences(self, words: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """X, Y of shape (len(words), block_size), int64: one padded row per word (the lecture stages'
        build_windows makes one row per character instead)."""
        X = torch.zeros(len(words), self.block_size, dtype=torch.long)
        Y = torch.full((len(words), self.block_size), IGNORE, dtype=torch.long)
        for i, word in enumerate(words):
            if len(word) >= self.block_size:
                raise UserError(f"{word!r} is longer than the model's block size {self.block_size - 1}")
            ids = self.vocab.encode(word)
            X[i, 1 : len(ids) + 1] = torch.tensor(ids, dtype=torch.long)
            Y[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            Y[i, len(ids)] = 0  # the end of the word is a prediction too
        return X, Y

    def decode(self, ids: torch.Tensor) -> str:
        """The characters of a generated row, up to its first '.'."""
        ids = ids.tolist()
        return self.vocab.decode(ids[: ids.index(0)] if 0 in ids else ids)


# ------------------------------------------------------------------------------------------------------------------
# The training configuration, the loss, evaluation, the optimizer's groups and the learning-rate schedule.


@dataclass(frozen=True)
class TrainConfig:
    max_steps: int = 12_000  # ~7 minutes for the default Transformer on a 2-core CPU (README); -1: until Ctrl-C
    batch_size: int = 64
    learning_rate: float = 3e-3  # with dropout 0.2 and decay 0.1 the Transformer reaches test 1.919 (README)
    lr_schedule: str = "cosine"  # or "constant"
    weight_decay: float = 0.1  # on matrices only (param_groups)
    eval_interval: int = 500
    log_interval: int = 100
    num_samples: int = 10  # words sampled at each evaluation
    top_k: int = -1  # sample from the k most likely characters only; -1: from all
    seed: int = 3407


def loss_fn(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy per predicted character; padding (IGNORE) is not a prediction."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE, reduction=reduction)


@torch.no_grad()
def evaluate_sequences(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, batch_size: int = 1000) -> float:
    """Mean loss per character over all of X, Y (not a mean of batch means: words differ in length)."""
    was_training = model.training
    model.eval()
    total = sum(
        loss_fn(model(X[i : i + batch_size]), Y[i : i + batch_size], "sum").item() for i in range(0, len(X), batch_size)
    )
    model.train(was_training)
    return total / (Y != IGNORE).sum().item()


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on the matrices (linear weights, embeddings, the bigram table) only: biases and LayerNorm
    gains are few, don't make the model fit noise, and pulling a gain towards 0 would only fight the norm."""
    params = list(model.parameters())
    return [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]


def lr_at(cfg: TrainConfig, step: int) -> float:
    """The learning rate at `step`: cosine from the full cfg.learning_rate at step 0 to a tenth of it at max_steps,
    big steps first, then small ones that settle into a minimum instead of bouncing around it (README: 1.961 vs
    2.000 with a constant rate)."""
    if cfg.lr_schedule == "constant" or cfg.max_steps < 0:  # a run without an end has no schedule to follow
        return cfg.learning_rate
    progress = min(step / cfg.max_steps, 1.0)
    return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


# ------------------------------------------------------------------------------------------------------------------
# Making more: sample words one character at a time, then sort them into copies of the data and new ones.


@torch.no_grad()
def generate(
    model: nn.Module,
    n: int,
    block_size: int,
    generator: torch.Generator,
    temperature: float = 1.0,
    top_k: int = -1,
):
    """n rows of block_size sampled ids (B, block_size); a word ends at its first '.' (id 0).

    top_k > 0 samples from the k most likely characters only (the rest get probability 0)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    idx = torch.zeros(n, 1, dtype=torch.long, device=device)  # every word starts with '.'
    # block_size steps: the longest word seen in training, then its end. The whole prefix is fed each
    # time (no cropping): positions mean "characters since the start" to every model.
    for _ in range(block_size):
        logits = model(idx)[:, -1, :] / temperature  # (n, V): the prediction after the last token
        if 0 < top_k < logits.size(-1):
            kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (n, 1): the k-th largest logit
            logits = logits.masked_fill(logits < kth, float("-inf"))
        next_id = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1, generator=generator)  # (n, 1)
        idx = torch.cat([idx, next_id], dim=1)
    model.train(was_training)
    return idx[:, 1:]


def sample_groups(
    model: nn.Module, data: SequenceData, n: int, generator: torch.Generator, top_k: int = -1
) -> dict[str, list[str]]:
    """n sampled words grouped as "in train", "in test" (the model reproduced a word) or "new"."""
    train, test = set(data.train_words), set(data.test_words)
    groups = {"in train": [], "in test": [], "new": []}
    for row in generate(model, n, data.block_size, generator, top_k=top_k):
        word = data.decode(row)
        groups["in train" if word in train else "in test" if word in test else "new"].append(word)
    return groups


def format_samples(groups: dict[str, list[str]]) -> str:
    n = sum(map(len, groups.values()))
    lines = [f"{n} samples: " + ", ".join(f"{len(words)} {name}" for name, words in groups.items())]
    lines += [f"  {name}: {' '.join(w or '(empty)' for w in words)}" for name, words in groups.items() if words]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------------
# Checkpoints: written atomically, read through zero_to_hero.checkpoints (missing, corrupt: one line).

CHECKPOINT_HINT = "train one first (without --resume/--sample-only), or fix --out-dir"


def save_checkpoint(obj: dict, path: Path) -> None:
    """A crash mid-write leaves the old checkpoint (or none), never half a file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(path: Path) -> dict:
    """A checkpoint of ours: a dict with the model's weights and its header."""
    ckpt = read_checkpoint_file(path, hint=CHECKPOINT_HINT)  # missing, a folder, corrupt, not a dict: one line
    missing = [key for key in ("model", "type", "config", "itos", "seed") if key not in ckpt]
    if missing:
        raise UserError(f"{path} is not a makemore checkpoint (no {', '.join(missing)}); delete it and train again")
    return ckpt


def checkpoint_header(model_type: str, config: ModelConfig, data: SequenceData, seed: int) -> dict:
    """What a checkpoint needs to rebuild its model and to check it belongs to the data at hand."""
    return {"type": model_type, "config": asdict(config), "itos": list(data.vocab.itos), "seed": seed}


def check_header(ckpt: dict, expected: dict, path: Path) -> None:
    for key, value in expected.items():
        if ckpt.get(key) != value:
            raise UserError(
                f"{path} was trained with {key} = {ckpt.get(key)!r}, but this run has {value!r}; "
                "use the same flags and --input, or another --out-dir"
            )


# ------------------------------------------------------------------------------------------------------------------
# Ctrl-C during a long run: finish the step, then save and sample, instead of losing the run.


class StopOnCtrlC:
    """The first Ctrl-C sets `requested` (the loop finishes its step, then saves and samples); the second one
    interrupts as usual. Signal handlers belong to the main thread: elsewhere this does nothing."""

    def __enter__(self):
        self.requested = False
        self.previous = signal.getsignal(signal.SIGINT)
        self.active = threading.current_thread() is threading.main_thread()
        if self.active:
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self.previous)

    def __exit__(self, *exc_info):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)


# ------------------------------------------------------------------------------------------------------------------
# The run: its fixed parts, where it stands, and the named pieces of the loop.


@dataclass(frozen=True)
class Run:
    """What one run trains and where it writes: set up once by start_run, the same at every step."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    batches: torch.Generator  # which words each step trains on (its state is in last.pt)
    data: SequenceData
    train: tuple[torch.Tensor, torch.Tensor]  # X, Y: (N, block_size) each, on the device
    test: tuple[torch.Tensor, torch.Tensor]
    header: dict  # type, sizes, vocabulary, seed: in both checkpoints
    cfg: TrainConfig
    out_dir: Path
    device: torch.device
    log: Callable[[str], None]


@dataclass
class Progress:
    """Where the run stands; last.pt saves it, --resume reads it back."""

    step: int = 0  # optimizer steps taken
    seconds: float = 0.0  # training time: a resumed run's earlier time; the whole run's once the loop ends
    best_test_loss: float = math.inf
    best_step: int = 0


class StepTimer:
    """Seconds per step since the last progress line or evaluation (evaluation time is not time per step)."""

    def __init__(self, step: int):
        self.restart(step)

    def restart(self, step: int) -> None:
        self.start, self.start_step = time.perf_counter(), step

    def seconds_per_step(self, step: int) -> float:
        return (time.perf_counter() - self.start) / (step - self.start_step)


def start_run(model_type, config, data, cfg, out_dir, device, resume, log, initial_weights) -> tuple[Run, Progress]:
    """Build the model, its optimizer and batch sampler; continue from last.pt (resume) or start from
    `initial_weights` (a state_dict, step 0) or from a fresh initialisation."""
    seed_everything(cfg.seed)
    model = build_model(model_type, config).to(device)
    optimizer = torch.optim.AdamW(
        param_groups(model, cfg.weight_decay), lr=cfg.learning_rate, betas=(0.9, 0.99), eps=1e-8
    )
    batches = torch.Generator().manual_seed(cfg.seed)
    header = checkpoint_header(model_type, config, data, cfg.seed)
    progress = Progress()
    if resume:
        ckpt = load_checkpoint(out_dir / LAST)
        check_header(ckpt, header, out_dir / LAST)
        if ckpt["step"] >= cfg.max_steps:
            raise UserError(f"{out_dir / LAST} has already trained {ckpt['step']} steps; raise --max-steps to go on")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        batches.set_state(ckpt["batches"])
        progress = Progress(ckpt["step"], ckpt["seconds"], ckpt["best_test_loss"], ckpt["best_step"])
        log(
            f"resumed from {out_dir / LAST} at step {progress.step} "
            f"(best test loss {progress.best_test_loss:.4f} at step {progress.best_step})"
        )
    elif initial_weights is not None:
        model.load_state_dict(initial_weights)
    train = tuple(t.to(device) for t in data.build_sequences(data.train_words))
    test = tuple(t.to(device) for t in data.build_sequences(data.test_words))
    return Run(model, optimizer, batches, data, train, test, header, cfg, out_dir, device, log), progress


def train_step(run: Run, lr: float) -> torch.Tensor:
    """One optimizer step at learning rate `lr` on a random batch of words; returns its loss."""
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    X, Y = run.train
    ix = torch.randint(len(X), (run.cfg.batch_size,), generator=run.batches).to(run.device)
    loss = loss_fn(run.model(X[ix]), Y[ix])
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    return loss


def log_progress(run: Run, progress: Progress, loss: torch.Tensor, lr: float, timer: StepTimer) -> None:
    endless = run.cfg.max_steps < 0
    seconds_per_step = timer.seconds_per_step(progress.step)
    values = {"loss": loss.item(), "lr": lr, **({"until": "Ctrl-C"} if endless else {})}
    total = None if endless else run.cfg.max_steps
    rate = run.cfg.batch_size / seconds_per_step
    run.log(progress_line(progress.step, total, seconds_per_step=seconds_per_step, rate=rate, unit="words", **values))


def evaluate_and_save(run: Run, progress: Progress, seconds: float) -> None:
    """Train loss (on a slice as big as the test set: cheap, comparable) and test loss; best.pt when the test loss
    is the lowest yet; last.pt always (`seconds`: the run's training time so far)."""
    n_probe = len(run.test[0])
    train_loss = evaluate_sequences(run.model, run.train[0][:n_probe], run.train[1][:n_probe])
    test_loss = evaluate_sequences(run.model, *run.test)
    step = progress.step
    if not math.isfinite(test_loss):
        raise UserError(f"the test loss became {test_loss} at step {step}; lower --learning-rate")
    run.log(f"step {step:6d} | train loss {train_loss:.4f} | test loss {test_loss:.4f}")
    weights = run.model.state_dict()
    if test_loss < progress.best_test_loss:
        progress.best_test_loss, progress.best_step = test_loss, step
        save_checkpoint({**run.header, "model": weights, "step": step, "test_loss": test_loss}, run.out_dir / BEST)
        run.log(f"  new best test loss; saved {run.out_dir / BEST}")
    resume_state = {
        "optimizer": run.optimizer.state_dict(),
        "batches": run.batches.get_state(),
        "step": step,
        "seconds": seconds,
        "best_test_loss": progress.best_test_loss,
        "best_step": progress.best_step,
    }
    save_checkpoint({**run.header, "model": weights, **resume_state}, run.out_dir / LAST)


def log_samples(run: Run, step: int) -> None:
    """cfg.num_samples words from the model as it is now, seeded by the step: the same at the same step."""
    generator = torch.Generator(device=run.device).manual_seed(run.cfg.seed + step)
    run.log(format_samples(sample_groups(run.model, run.data, run.cfg.num_samples, generator, top_k=run.cfg.top_k)))


def final_metrics(run: Run, progress: Progress, model_type: str, config: ModelConfig) -> dict:
    """The metrics of best.pt, the model --sample-only uses, on the whole of each split."""
    run.model.load_state_dict(load_checkpoint(run.out_dir / BEST)["model"])
    return {
        "type": model_type,
        "train_loss": evaluate_sequences(run.model, *run.train),
        "test_loss": evaluate_sequences(run.model, *run.test),
        "best_step": progress.best_step,
        "steps": progress.step,
        "seconds": round(progress.seconds, 2),
        "params": count_params(run.model),
        "device": str(run.device),
        "config": asdict(config),
        "train": asdict(run.cfg),
    }


def due(step: int, interval: int, max_steps: int) -> bool:
    """Every `interval` steps, and at the last step."""
    return step % interval == 0 or step == max_steps


def run_training(
    model_type: str,
    config: ModelConfig,
    data: SequenceData,
    cfg: TrainConfig,
    out_dir: Path,
    device: torch.device,
    resume: bool = False,
    log=print,
    initial_weights: dict | None = None,
) -> dict:
    """Train (or continue training) one model; returns the metrics it also writes to out_dir/metrics.json.

    max_steps -1 trains until Ctrl-C. Ctrl-C (at any time) evaluates, saves best.pt/last.pt, samples and
    writes the metrics, as the end of a run does. `initial_weights`: a state_dict to start from (step 0)."""
    out_dir = Path(out_dir)
    run, progress = start_run(model_type, config, data, cfg, out_dir, device, resume, log, initial_weights)
    log(
        f"{model_type}: {count_params(run.model):,} parameters | {len(data.vocab)} symbols, block size "
        f"{data.block_size} | {len(data.train_words):,} train / {len(data.test_words):,} test words | device {device}"
    )

    run.model.train()
    start = time.perf_counter()
    timer = StepTimer(progress.step)
    evaluated_at = None
    with StopOnCtrlC() as ctrl_c:
        while (cfg.max_steps < 0 or progress.step < cfg.max_steps) and not ctrl_c.requested:
            lr = lr_at(cfg, progress.step)
            loss = train_step(run, lr)
            progress.step += 1
            if due(progress.step, cfg.log_interval, cfg.max_steps):
                log_progress(run, progress, loss, lr, timer)
                timer.restart(progress.step)
            if due(progress.step, cfg.eval_interval, cfg.max_steps):
                evaluate_and_save(run, progress, progress.seconds + time.perf_counter() - start)
                log_samples(run, progress.step)
                evaluated_at = progress.step
                timer.restart(progress.step)
        if ctrl_c.requested:
            log(
                f"Ctrl-C at step {progress.step}: the step finished; evaluating, saving and sampling (Ctrl-C again: "
                "quit now)"
            )
        if evaluated_at != progress.step:  # the end of the run was not an evaluation step: make it one
            evaluate_and_save(run, progress, progress.seconds + time.perf_counter() - start)
            log_samples(run, progress.step)
    progress.seconds += time.perf_counter() - start

    metrics = final_metrics(run, progress, model_type, config)
    write_json(out_dir / METRICS, metrics)
    log(
        f"best test loss {metrics['test_loss']:.4f} (train {metrics['train_loss']:.4f}) at step {progress.best_step}; "
        f"{progress.step} steps in {format_duration(progress.seconds)}; wrote {out_dir / METRICS}"
    )
    return metrics
