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
import math
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from nanogpt import distributed
from nanogpt.allocator import retain_freed_memory
from nanogpt.checkpoint import build_model, load_checkpoint, save_checkpoint
from nanogpt.config import TrainConfig
from nanogpt.data import Batches, Tokenizer, prepare
from nanogpt.mfu import peak_flops, training_flops_per_token
from nanogpt.shards import ShardedBatches, read_shard_meta
from zero_to_hero import UserError
from zero_to_hero.device import autocast, grad_scaler, parse_dtype, pick_device, seed_everything
from zero_to_hero.files import write_json

# resuming keeps the checkpoint's architecture and data (the schedule, iterations, dropout... may change)
RESUME_KEEPS = ("model", "n_layer", "n_head", "n_embd", "bias", "block_size", "dataset", "encoding", "data_dir")
RESUME_KEEPS += ("vocab_size",)
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


def compile_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """torch.compile; on a CPU also with inductor's C++ wrapper, which calls the generated kernels from C++:
    a small model's step is dozens of tiny kernels, and launching each from Python costs more than it computes
    (measured with bench.py: 27.6 -> 26.5 ms/iter on the CPU config)."""
    options = {"cpp_wrapper": True} if device.type == "cpu" else None
    return torch.compile(model, options=options)


class Trainer:
    def __init__(self, cfg: TrainConfig, log=print):
        self.cfg = cfg
        self.world, self.device = distributed.setup(pick_device(cfg.device))  # world of 1 unless under torchrun
        self.log = log if self.world.is_master else lambda *args: None
        if cfg.gradient_accumulation_steps % self.world.size:
            raise UserError(
                f"gradient_accumulation_steps ({cfg.gradient_accumulation_steps}) must be a multiple of the "
                f"number of processes ({self.world.size}): it counts micro-batches of the whole global batch"
            )
        self.micro_steps = cfg.gradient_accumulation_steps // self.world.size  # this rank's share of them
        self.dtype = parse_dtype(cfg.dtype, self.device)
        if self.device.type == "cpu":
            retain_freed_memory()  # no page faults on every step's activations (see allocator.py)
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True  # fp32 matmuls that remain run on tensor cores
            torch.backends.cudnn.allow_tf32 = True
        seed_everything(cfg.seed)
        checkpoint = load_checkpoint(cfg.out_dir, self.device) if cfg.init_from == "resume" else None
        if checkpoint is not None:  # the model and its data are the checkpoint's, whatever the config says
            cfg = self.cfg = dataclasses.replace(cfg, **{k: checkpoint["config"][k] for k in RESUME_KEEPS})
        self.out_dir = Path(cfg.out_dir)

        shards = read_shard_meta(cfg.dataset)  # a folder from `python -m nanogpt.shards`, or None
        data_folder = Path(cfg.data_dir) / f"{Path(cfg.dataset).stem}-{cfg.encoding}"
        if shards is not None:
            self.meta = shards
        else:
            if self.world.local_rank != 0:  # one process per node prepares the data, the others wait
                distributed.barrier(self.world)
            self.meta = prepare(cfg.dataset, cfg.encoding, data_folder)
            if self.world.local_rank == 0:
                distributed.barrier(self.world)
        self.tokenizer = Tokenizer.from_meta(self.meta)

        def batches(split, seed, rank=0, world_size=1):
            if shards is not None:
                return ShardedBatches(
                    shards[split], cfg.block_size, cfg.batch_size, seed, self.device, rank, world_size
                )
            path = data_folder / f"{split}.bin"
            return Batches(path, cfg.block_size, cfg.batch_size, seed, self.device, rank, world_size)

        # training: the ranks share one seeded stream, each taking its own rows (see data.Batches);
        # evaluation: every rank computes the same batches, so every rank knows the losses
        self.train_batches = batches("train", cfg.seed, self.world.rank, self.world.size)
        self.eval_batches = {split: batches(split, EVAL_SEED) for split in ("train", "val")}

        self.iter_num, self.best_val_loss, self.train_seconds = 0, float("inf"), 0.0
        self.model_kind = cfg.model
        if 0 < cfg.vocab_size < self.tokenizer.vocab_size:
            raise UserError(f"vocab_size {cfg.vocab_size} is smaller than the tokenizer's {self.tokenizer.vocab_size}")
        vocab_size = max(cfg.vocab_size, self.tokenizer.vocab_size)  # padding rows are never targets
        self.model_args = dict(vocab_size=vocab_size, block_size=cfg.block_size)
        if cfg.model == "gpt":
            self.model_args.update(n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd)
            self.model_args.update(dropout=cfg.dropout, bias=cfg.bias)
        self.raw_model = build_model(self.model_kind, self.model_args).to(self.device)
        self.optimizer = configure_optimizer(self.raw_model, cfg, self.device)
        self.scaler = grad_scaler(self.device, self.dtype)  # a no-op unless float16
        if checkpoint is not None:
            self._restore(checkpoint)
        self.model = compile_model(self.raw_model, self.device) if cfg.compile else self.raw_model
        if self.world.size > 1:
            torch.manual_seed(cfg.seed + self.world.rank)  # per-rank dropout masks (weights are rank 0's anyway)
            self.model = DDP(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
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
        steps = self.micro_steps
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
        if (improved or self.cfg.always_save_checkpoint) and self.world.is_master:
            save_checkpoint(self.checkpoint(), self.out_dir)
        return losses

    def run(self) -> dict:
        cfg = self.cfg
        tokens_per_iter = cfg.batch_size * cfg.block_size * cfg.gradient_accumulation_steps
        n_params = self.raw_model.num_params()
        peak = peak_flops(self.device, cfg.peak_flops)
        peak = peak * self.world.size if peak else None  # tokens/s below are the whole world's
        flops_per_token = 0.0
        if self.model_kind == "gpt":
            c = self.raw_model.config
            flops_per_token = training_flops_per_token(n_params, c.n_layer, c.n_embd, c.block_size)
        self.log(f"{self.model_kind}: {n_params / 1e6:.2f}M parameters on {self.device} ({self.dtype}), ")
        if self.world.size > 1:
            self.log(f"DDP: {self.world.size} processes, {self.micro_steps} micro-steps each per iteration")
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
                loss = distributed.mean_over_ranks(loss, self.world).item()  # the only host sync in the loop
                now = time.perf_counter()
                ms = (now - interval_start) * 1000 / interval_iters
                eta = (cfg.max_iters - self.iter_num) * ms / 1000
                self.history.append((self.iter_num, loss))
                mfu = f", MFU {tokens_per_iter * 1000 / ms * flops_per_token / peak:.1%}" if peak else ""
                self.log(
                    f"iter {self.iter_num}/{cfg.max_iters}: loss {loss:.4f}, lr {lr_at(self.iter_num - 1, cfg):.2e}, "
                    f"{ms:.1f} ms/iter, {tokens_per_iter * 1000 / ms:,.0f} tokens/s{mfu}, ETA {eta:.0f}s"
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
        tokens_per_sec = trained_iters * tokens_per_iter / session_train_seconds if trained_iters else 0.0
        metrics = {
            "train_loss": losses["train"],
            "val_loss": losses["val"],
            "best_val_loss": self.best_val_loss,
            "iters": self.iter_num,
            "tokens_per_sec": tokens_per_sec,  # the whole world's
            "mfu": tokens_per_sec * flops_per_token / peak if peak else None,
            "world_size": self.world.size,
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
        if self.world.is_master:
            write_json(self.out_dir / "metrics.json", metrics)
        distributed.barrier(self.world)  # the ranks finish together: rank 0's files are written, no message in flight
        return metrics

    def close(self) -> None:
        """Leave torchrun's process group (a no-op for one process)."""
        self.model = self.raw_model  # drop the DDP wrapper: its reducer holds on to the process group
        distributed.close(self.world)
