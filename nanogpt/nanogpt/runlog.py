"""What a training run writes and measures as it goes: log.jsonl, Weights & Biases, and its clock.

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

from nanogpt.config import TrainConfig


class JsonLog:
    """<out_dir>/log.jsonl: one JSON object per line, flushed as written (rank 0 only). A fresh run starts it
    anew; a resumed one keeps the lines up to the checkpoint's step and drops those logged after it. The file
    is opened at the first record (a Trainer that never trains writes nothing)."""

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
        if self.file is None:
            self.file = self._open()
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

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
