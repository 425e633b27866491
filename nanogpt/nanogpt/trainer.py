"""The training loop: AdamW, warmup + cosine learning rate, gradient accumulation and clipping,
periodic evaluation, checkpoints, resume, metrics.

    trainer = Trainer(load_config("configs/shakespeare_char_cpu.py"))
    metrics = trainer.run()   # also writes out_dir/ckpt.pt and out_dir/metrics.json

The model is used through `self.model` (possibly torch.compile'd, later DDP-wrapped) and saved
through `self.raw_model`; `_grad_sync` is the one place that decides when gradients are all-reduced.
"""

import contextlib
import dataclasses
import inspect
import json
import math
import os
import time
from pathlib import Path

import torch

from nanogpt.checkpoint import build_model, load_checkpoint, save_checkpoint
from nanogpt.config import TrainConfig
from nanogpt.data import Batches, Tokenizer, prepare
from zero_to_hero.device import autocast, grad_scaler, parse_dtype, pick_device, seed_everything

# resuming keeps the checkpoint's architecture and data (the schedule, iterations, dropout... may change)
RESUME_KEEPS = ("model", "n_layer", "n_head", "n_embd", "bias", "block_size", "dataset", "encoding", "data_dir")
EVAL_SEED = 123  # evaluations always see the same batches: their losses are comparable, and they never
# touch the training sampler's random stream (which is what makes resuming exact)


def lr_at(it: int, cfg: TrainConfig) -> float:
    """Linear warmup for warmup_iters steps, then a cosine from learning_rate down to min_lr at lr_decay_iters."""
    if not cfg.decay_lr:
        return cfg.learning_rate * min(1.0, (it + 1) / max(cfg.warmup_iters, 1))
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / cfg.warmup_iters
    if it >= cfg.lr_decay_iters:
        return cfg.min_lr
    progress = (it - cfg.warmup_iters) / max(cfg.lr_decay_iters - cfg.warmup_iters, 1)  # 0 -> 1
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.learning_rate - cfg.min_lr)


def configure_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices (linear weights, token embedding) only: decaying gains, biases
    and position embeddings toward zero only hurts."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and not name.endswith("wpe.weight") else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # one fused kernel for the whole update (CPU and CUDA, torch >= 2.4) instead of a dozen ops per tensor
    fused = "fused" in inspect.signature(torch.optim.AdamW).parameters and device.type in ("cpu", "cuda")
    kwargs = {"fused": True} if fused else {"foreach": True}
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), **kwargs)


class Trainer:
    def __init__(self, cfg: TrainConfig, log=print):
        self.cfg, self.log = cfg, log
        self.device = pick_device(cfg.device)
        self.dtype = parse_dtype(cfg.dtype, self.device)
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True  # fp32 matmuls that remain run on tensor cores
            torch.backends.cudnn.allow_tf32 = True
        seed_everything(cfg.seed)
        checkpoint = load_checkpoint(cfg.out_dir, self.device) if cfg.init_from == "resume" else None
        if checkpoint is not None:  # the model and its data are the checkpoint's, whatever the config says
            cfg = self.cfg = dataclasses.replace(cfg, **{k: checkpoint["config"][k] for k in RESUME_KEEPS})
        self.out_dir = Path(cfg.out_dir)

        data_folder = Path(cfg.data_dir) / f"{Path(cfg.dataset).stem}-{cfg.encoding}"
        self.meta = prepare(cfg.dataset, cfg.encoding, data_folder)
        self.tokenizer = Tokenizer.from_meta(self.meta)
        batches = lambda split, seed: Batches(  # noqa: E731
            data_folder / f"{split}.bin", cfg.block_size, cfg.batch_size, seed, self.device
        )
        self.train_batches = batches("train", cfg.seed)
        self.eval_batches = {split: batches(split, EVAL_SEED) for split in ("train", "val")}

        self.iter_num, self.best_val_loss, self.train_seconds = 0, float("inf"), 0.0
        self.model_kind = cfg.model
        self.model_args = dict(vocab_size=self.tokenizer.vocab_size, block_size=cfg.block_size)
        if cfg.model == "gpt":
            self.model_args.update(n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd)
            self.model_args.update(dropout=cfg.dropout, bias=cfg.bias)
        self.raw_model = build_model(self.model_kind, self.model_args).to(self.device)
        self.optimizer = configure_optimizer(self.raw_model, cfg, self.device)
        self.scaler = grad_scaler(self.device, self.dtype)  # a no-op unless float16
        if checkpoint is not None:
            self._restore(checkpoint)
        self.model = torch.compile(self.raw_model) if cfg.compile else self.raw_model
        self.history = []  # (iter, train loss) at every log line
        self.evals = []  # dicts: iter, train_loss, val_loss, train_seconds

    def _restore(self, checkpoint: dict) -> None:
        self.raw_model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.iter_num, self.best_val_loss = checkpoint["iter_num"], checkpoint["best_val_loss"]
        self.train_seconds = checkpoint["train_seconds"]
        self.train_batches.set_state(checkpoint["rng"]["sampler"])
        torch.set_rng_state(checkpoint["rng"]["torch"])  # dropout masks continue where they left off
        self.log(f"resumed from {self.out_dir / 'ckpt.pt'} at iter {self.iter_num}")

    def checkpoint(self) -> dict:
        return {
            "model": self.raw_model.state_dict(),
            "model_kind": self.model_kind,
            "model_args": self.model_args,
            "tokenizer": self.tokenizer.meta(),
            "optimizer": self.optimizer.state_dict(),
            "iter_num": self.iter_num,
            "best_val_loss": self.best_val_loss,
            "train_seconds": self.train_seconds,
            "rng": {"sampler": self.train_batches.state(), "torch": torch.get_rng_state()},
            "config": dataclasses.asdict(self.cfg),
        }

    def _grad_sync(self, last_micro_step: bool):
        """Under DDP, all-reduce gradients only on the last micro-step; no_sync must cover forward and backward."""
        if last_micro_step or not hasattr(self.model, "no_sync"):
            return contextlib.nullcontext()
        return self.model.no_sync()

    def train_step(self, lr: float) -> torch.Tensor:
        """One optimizer step over gradient_accumulation_steps micro-batches; returns the mean loss (a tensor)."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        steps = self.cfg.gradient_accumulation_steps
        total = torch.zeros((), device=self.device)
        for micro_step in range(steps):
            x, y = self.train_batches.next()
            with self._grad_sync(micro_step == steps - 1):
                with autocast(self.device, self.dtype):
                    _, loss = self.model(x, y)
                loss = loss / steps  # gradients of the mean over all micro-batches
                self.scaler.scale(loss).backward()
            total += loss.detach()
        if self.cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.cfg.grad_clip, foreach=True)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)  # frees the gradients instead of writing zeros into them
        return total

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Mean loss over eval_iters fixed batches of each split."""
        self.model.eval()
        losses = {}
        for split, batches in self.eval_batches.items():
            batches.set_state(torch.Generator().manual_seed(EVAL_SEED).get_state())
            total = 0.0
            for _ in range(self.cfg.eval_iters):
                x, y = batches.next()
                with autocast(self.device, self.dtype):
                    _, loss = self.model(x, y)
                total += loss.item()
            losses[split] = total / self.cfg.eval_iters
        self.model.train()
        return losses

    def _evaluate_and_checkpoint(self) -> dict:
        losses = self.evaluate()
        self.evals.append({"iter": self.iter_num, "train_loss": losses["train"], "val_loss": losses["val"]})
        self.evals[-1]["train_seconds"] = round(self.train_seconds, 3)
        self.log(f"eval iter {self.iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        improved = losses["val"] < self.best_val_loss
        self.best_val_loss = min(self.best_val_loss, losses["val"])
        if improved or self.cfg.always_save_checkpoint:
            save_checkpoint(self.checkpoint(), self.out_dir)
        return losses

    def run(self) -> dict:
        cfg = self.cfg
        tokens_per_iter = cfg.batch_size * cfg.block_size * cfg.gradient_accumulation_steps
        n_params = self.raw_model.num_params()
        self.log(f"{self.model_kind}: {n_params / 1e6:.2f}M parameters on {self.device} ({self.dtype}), ")
        self.log(f"{tokens_per_iter:,} tokens per iteration, iters {self.iter_num} -> {cfg.max_iters}")
        start_iter, wall_start, eval_seconds = self.iter_num, time.perf_counter(), 0.0
        losses = None
        self.raw_model.train()
        segment_start = interval_start = time.perf_counter()
        interval_iters = 0
        while self.iter_num < cfg.max_iters:
            loss = self.train_step(lr_at(self.iter_num, cfg))
            self.iter_num += 1
            interval_iters += 1
            last = self.iter_num == cfg.max_iters
            if self.iter_num % cfg.log_interval == 0 or last:
                loss = loss.item()  # the only host sync in the loop (a no-op on CPU)
                now = time.perf_counter()
                ms = (now - interval_start) * 1000 / interval_iters
                eta = (cfg.max_iters - self.iter_num) * ms / 1000
                self.history.append((self.iter_num, loss))
                self.log(
                    f"iter {self.iter_num}/{cfg.max_iters}: loss {loss:.4f}, lr {lr_at(self.iter_num - 1, cfg):.2e}, "
                    f"{ms:.1f} ms/iter, {tokens_per_iter * 1000 / ms:,.0f} tokens/s, ETA {eta:.0f}s"
                )
            if self.iter_num % cfg.eval_interval == 0 or last:
                if not isinstance(loss, float):
                    loss = loss.item()  # sync before the clock stops
                eval_start = time.perf_counter()
                self.train_seconds += eval_start - segment_start
                losses = self._evaluate_and_checkpoint()
                eval_seconds += time.perf_counter() - eval_start
                segment_start = time.perf_counter()
            if self.iter_num % cfg.log_interval == 0 or last:
                interval_start, interval_iters = time.perf_counter(), 0
        if losses is None:  # nothing to train (max_iters reached already): just report where the model stands
            losses = self._evaluate_and_checkpoint()
        trained_iters = self.iter_num - start_iter
        session_train_seconds = time.perf_counter() - wall_start - eval_seconds
        metrics = {
            "train_loss": losses["train"],
            "val_loss": losses["val"],
            "best_val_loss": self.best_val_loss,
            "iters": self.iter_num,
            "tokens_per_sec": trained_iters * tokens_per_iter / session_train_seconds if trained_iters else 0.0,
            "seconds": round(self.train_seconds, 3),  # training only, all sessions of a resumed run
            "eval_seconds": round(eval_seconds, 3),
            "wall_seconds": round(time.perf_counter() - wall_start, 3),
            "params": n_params,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "torch": torch.__version__,
            "evals": self.evals,
            "config": dataclasses.asdict(cfg),
        }
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.out_dir / "metrics.json.tmp"
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
        os.replace(tmp, self.out_dir / "metrics.json")
        return metrics
