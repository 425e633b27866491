"""What a training run writes and measures as it goes: log.jsonl, Weights & Biases, its clock, its messages
(the start, the progress line, why a loss became nan) and metrics.json.

clock = TrainingClock()
with clock.paused():          # evaluation, samples, checkpoints: not training time
    ...
clock.lap()                   # training seconds per step since the previous lap
"""

import contextlib
import dataclasses
import json
import time
from pathlib import Path

import torch

from nanogpt.config import TrainConfig
from nanogpt.mfu import mfu
from zero_to_hero import UserError
from zero_to_hero.progress import progress_line


class JsonLog:
    """<out_dir>/log.jsonl: one JSON object per line, flushed as written (rank 0 only). A fresh run starts it
    anew; a resumed one keeps the lines up to the checkpoint's step and drops those logged after it. The file
    is opened at the first record (a run that never trains writes nothing). A write that fails (a full disk)
    is a UserError: the run stops, its last checkpoint kept."""

    def __init__(self, path: Path, enabled: bool, resume_step: int | None):
        self.path, self.enabled, self.resume_step = path, enabled, resume_step
        self.file = None

    def _open(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = []
        if self.resume_step is not None and self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    if json.loads(line)["step"] <= self.resume_step:
                        kept.append(line)
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut by a crash
        self.path.write_text("".join(line + "\n" for line in kept))
        return open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def write(self, record: dict) -> None:
        if not self.enabled:
            return
        try:
            if self.file is None:
                self.file = self._open()
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()
        except OSError as e:
            raise UserError(
                f"could not write {self.path} ({e.strerror or e}); training stopped, its last checkpoint kept: "
                "free some space and resume (--init_from=resume)"
            ) from None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class WandbLog:
    """Weights & Biases when wandb_log is set and wandb is installed (rank 0); one line saying how to get it if not."""

    def __init__(self, cfg: TrainConfig, enabled: bool, log):
        self.run = None
        if not (cfg.wandb_log and enabled):
            return
        try:
            import wandb
        except ImportError:
            log("wandb_log is set but wandb is not installed (pip install wandb): not logging to Weights & Biases")
            return
        self.run = wandb.init(project=cfg.wandb_project, name=cfg.wandb_run_name, config=dataclasses.asdict(cfg))

    def write(self, record: dict) -> None:
        if self.run is not None:
            values = {k: v for k, v in record.items() if isinstance(v, (int, float)) and k != "step"}
            self.run.log(values, step=record["step"])

    def close(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None


class TrainingClock:
    """A session's time, split into training and the rest (evaluation, HellaSwag, samples, checkpoints: run
    inside `paused()`). train_seconds adds the earlier sessions' of a resumed run; lap() gives the training
    seconds per step since the previous lap, which the progress lines report."""

    def __init__(self, earlier_train_seconds: float = 0.0):
        self.start = time.perf_counter()
        self.earlier = earlier_train_seconds
        self.paused_seconds = 0.0  # this session's time outside training
        self._paused_at = None
        self._lap_start, self._lap_steps = 0.0, 0

    @property
    def session_seconds(self) -> float:
        """This session's training time so far (frozen while paused)."""
        now = time.perf_counter() if self._paused_at is None else self._paused_at
        return now - self.start - self.paused_seconds

    @property
    def train_seconds(self) -> float:
        return self.earlier + self.session_seconds

    @property
    def wall_seconds(self) -> float:
        return time.perf_counter() - self.start

    @contextlib.contextmanager
    def paused(self):
        self._paused_at = time.perf_counter()
        try:
            yield
        finally:
            self.paused_seconds += time.perf_counter() - self._paused_at
            self._paused_at = None

    def step(self) -> None:
        self._lap_steps += 1

    def lap(self) -> float:
        """Training seconds per step since the previous lap (or the start); the next lap starts now."""
        now = self.session_seconds
        seconds_per_step = (now - self._lap_start) / max(self._lap_steps, 1)
        self._lap_start, self._lap_steps = now, 0
        return seconds_per_step


def format_params(n: int) -> str:
    """'10.65M' from a million up; the exact count below (a tiny model is not '0.00M')."""
    return f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n:,}"


def start_lines(run) -> list[str]:
    """What a run (nanogpt.trainer.Run) says before its first step: the model, where it trains, the batch."""
    where = f"{format_params(run.raw_model.num_params())} parameters on {run.device} ({run.dtype})"
    if run.device.type == "cpu":
        where += f", {run.threads} CPU thread{'s' if run.threads > 1 else ''}"
    lines = [f"{run.model_kind}: {where}"]
    if run.world.size > 1:
        lines.append(f"DDP: {run.world.size} processes, {run.micro_steps} micro-steps each per iteration")
    return [*lines, f"{run.tokens_per_iter:,} tokens per iteration, iters {run.iter_num} -> {run.cfg.max_iters}"]


def progress(iter_num: int, max_iters: int, loss: float, lr: float, norm: float, seconds_per_step: float,
             tokens_per_iter: int, flops_per_token: float, peak: float | None) -> tuple[str, dict]:  # fmt: skip
    """The progress line and its log.jsonl record: loss, lr, gradient norm, speed over the steps since the
    previous line (training time only), MFU where the device's peak is known, ETA."""
    tokens_per_sec = tokens_per_iter / seconds_per_step
    utilization = mfu(tokens_per_sec, flops_per_token, peak)
    shown = {"loss": loss, "lr": lr, "norm": norm}
    if utilization is not None:
        shown["mfu"] = f"{utilization:.1%}"
    line = progress_line(iter_num, max_iters, seconds_per_step=seconds_per_step, rate=tokens_per_sec, **shown)
    record = {"step": iter_num, "type": "train", "loss": loss, "lr": lr, "grad_norm": norm}
    record.update(ms_per_iter=round(seconds_per_step * 1000, 3), tokens_per_sec=round(tokens_per_sec, 1))
    return line, {**record, "mfu": utilization}


def nonfinite_loss_message(cfg: TrainConfig, iter_num: int, loss: float) -> str:
    """Why a loss became inf/nan, as best we can tell, and what to change."""
    if cfg.weight_decay > 1 and cfg.weight_decay * cfg.learning_rate >= 0.5:  # AdamW: weights *= 1 - lr * wd
        scale = 1 - cfg.learning_rate * cfg.weight_decay
        cause = f"weight_decay {cfg.weight_decay} is too large (each step multiplies the weights by {scale:.3g})"
        cause += ": lower weight_decay (typically 0.1)"
    else:
        cause = f"the learning rate ({cfg.learning_rate}) is probably too high: lower learning_rate"
        if not cfg.grad_clip:
            cause += " or set grad_clip (e.g. 1.0)"
    return f"the loss became {loss} at iteration {iter_num}; {cause}. Training stopped (no sample)"


def run_metrics(run, clock: TrainingClock, trained_iters: int, flops_per_token: float, peak: float | None) -> dict:
    """metrics.json of a run (nanogpt.trainer.Run): the last evaluation, speed, and every evaluation of the run
    (a resumed run's too: its checkpoint carries the earlier ones)."""
    session_seconds = clock.session_seconds
    tokens_per_sec = trained_iters * run.tokens_per_iter / session_seconds if trained_iters else 0.0
    final = run.evals[-1]
    metrics = {
        "train_loss": final["train_loss"],
        "val_loss": final["val_loss"],
        "best_val_loss": run.best_val_loss,
        "iters": run.iter_num,
        "tokens_per_sec": tokens_per_sec,  # the whole world's
        "mfu": mfu(tokens_per_sec, flops_per_token, peak),
        "world_size": run.world.size,
        "seconds": round(run.train_seconds, 3),  # training only, all sessions of a resumed run
        "eval_seconds": round(clock.paused_seconds, 3),
        "wall_seconds": round(clock.wall_seconds, 3),
        "params": run.raw_model.num_params(),
        "device": str(run.device),
        "dtype": str(run.dtype).removeprefix("torch."),
        "torch": torch.__version__,
        "evals": run.evals,
        "config": dataclasses.asdict(run.cfg),
    }
    if run.hellaswag_results:
        metrics["hellaswag"] = run.hellaswag_results
    return metrics
