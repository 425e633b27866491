"""The training loop: AdamW, warmup + cosine learning rate, gradient accumulation and clipping,
periodic evaluation (val loss, HellaSwag, samples), checkpoints, resume, a streamed log, metrics.

    trainer = Trainer(load_config("configs/shakespeare_char_cpu.py"))
    metrics = trainer.run()   # also writes out_dir/ckpt.pt, out_dir/log.jsonl and out_dir/metrics.json

The model is used through `self.model` (possibly torch.compile'd, later DDP-wrapped) and saved
through `self.raw_model`; `_grad_sync` is the one place that decides when gradients are all-reduced.
"""

import contextlib
import dataclasses
import gc
import json
import math
import os
import time
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from nanogpt import distributed
from nanogpt.allocator import retain_freed_memory
from nanogpt.checkpoint import build_model, load_checkpoint, save_checkpoint
from nanogpt.config import KEYS, TrainConfig, accumulation_steps
from nanogpt.data import Batches, Tokenizer, prepare
from nanogpt.mfu import peak_flops, training_flops_per_token
from nanogpt.optim import configure_optimizer, lr_at
from nanogpt.sampling import sample_text
from nanogpt.shards import ShardedBatches, read_shard_meta
from zero_to_hero import UserError
from zero_to_hero.device import (
    autocast,
    grad_scaler,
    parse_dtype,
    parse_threads,
    pick_device,
    seed_everything,
    set_threads,
)
from zero_to_hero.files import prepare_out_dir, write_json

# resuming keeps the checkpoint's architecture and data (the schedule, iterations, dropout... may change):
# asking for other values of these is an error, a change of any other key is printed
RESUME_FIXED = ("model", "n_layer", "n_head", "n_embd", "bias", "block_size", "dataset", "encoding", "vocab_size")
RESUME_KEEPS = (*RESUME_FIXED, "data_dir")
RESUME_NOT_NOTED = ("init_from", "overwrite", "device", "threads")  # how to run, not what: changes go unmentioned
TRAINED = ("ckpt.pt", "best.pt")
KEYS_SET = set(KEYS)
EVAL_SEED = 123  # evaluations always see the same batches: their losses are comparable, and they never
# touch the training sampler's random stream (which is what makes resuming exact)


def enable_tf32() -> None:
    """fp32 matmuls that remain under autocast run on tensor cores (TF32). set_float32_matmul_precision("high")
    is the API that keeps every reader consistent: it sets torch.backends.cuda.matmul.fp32_precision to "tf32",
    while setting that leaf alone makes torch.get_float32_matmul_precision() (which inductor calls) raise for
    "mixing" APIs, and the allow_tf32 flags are deprecated. cuDNN convolutions use TF32 by default."""
    torch.set_float32_matmul_precision("high")


def grad_norm_and_clip(parameters, max_norm: float) -> torch.Tensor:
    """The global gradient norm before clipping (a tensor: no host sync); clips to max_norm when > 0."""
    if max_norm > 0:
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm, foreach=True)
    grads = [p.grad for p in parameters if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads, foreach=True)


# nanoGPT's data set names (folders under its data/) -> ours: (data set, encoding) or how to make it
NANOGPT_DATASETS = {"shakespeare_char": ("tinyshakespeare", "char"), "shakespeare": ("tinyshakespeare", "gpt2")}
NANOGPT_RECIPES = {
    "openwebtext": "python -m nanogpt.shards --hf=Skylion007/openwebtext --out_dir=out/data/openwebtext "
    "(pip install 'nanogpt[corpora]'), then --dataset=out/data/openwebtext"
}


def resolve_dataset(dataset: str, encoding: str) -> tuple[str, str]:
    """(dataset, encoding): nanoGPT's names mapped to ours unless a file or folder of that name exists."""
    if Path(dataset).exists():
        return dataset, encoding
    if dataset in NANOGPT_DATASETS:
        return NANOGPT_DATASETS[dataset]
    if dataset in NANOGPT_RECIPES:
        raise UserError(f"nanoGPT's data set {dataset!r} must be prepared first: {NANOGPT_RECIPES[dataset]}")
    return dataset, encoding


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


def compile_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """torch.compile; on a CPU also with inductor's C++ wrapper, which calls the generated kernels from C++:
    a small model's step is dozens of tiny kernels, and launching each from Python costs more than it computes
    (measured with bench.py: 27.6 -> 26.5 ms/iter on the CPU config)."""
    options = {"cpp_wrapper": True} if device.type == "cpu" else None
    return torch.compile(model, options=options)


def format_params(n: int) -> str:
    """'10.65M' from a million up; the exact count below (a tiny model is not '0.00M')."""
    return f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n:,}"


def resume_changes(cfg: TrainConfig, saved: dict, given: set[str] | None) -> dict:
    """{key: (checkpoint's value, asked-for value)} for the keys the user set (all keys when given is None) that
    differ from the checkpoint's config; the architecture and data keys among them are a UserError."""
    keys = KEYS_SET if given is None else given
    changes = {k: (saved[k], getattr(cfg, k)) for k in sorted(keys) if k in saved and saved[k] != getattr(cfg, k)}
    fixed = {k: v for k, v in changes.items() if k in RESUME_FIXED}
    if fixed:
        listed = ", ".join(f"{k}={new!r} (checkpoint: {old!r})" for k, (old, new) in fixed.items())
        raise UserError(
            f"cannot resume with {listed}: the model and data stay the checkpoint's; drop those flags, "
            "or train anew into another out_dir (or with --overwrite=True)"
        )
    return {k: v for k, v in changes.items() if k not in RESUME_NOT_NOTED}


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


class Trainer:
    def __init__(self, cfg: TrainConfig, log=print, given: set[str] | None = None):
        """given: the config keys the user set (resuming compares those with the checkpoint; None = all)."""
        self.cfg = cfg
        self.world, self.device = distributed.setup(pick_device(cfg.device), cfg.backend)  # world of 1 without torchrun
        self.log = log if self.world.is_master else lambda *args: None
        steps = accumulation_steps(cfg, self.world.size)
        if steps % self.world.size:
            raise UserError(
                f"gradient_accumulation_steps ({steps}) must be a multiple of the "
                f"number of processes ({self.world.size}): it counts micro-batches of the whole global batch"
            )
        self.micro_steps = steps // self.world.size  # this rank's share of them
        self.tokens_per_iter = cfg.batch_size * cfg.block_size * steps
        self.dtype = parse_dtype(cfg.dtype, self.device)
        threads = parse_threads(cfg.threads)
        if cfg.threads.strip().lower() == "auto":  # processes of one node share its idle cores
            threads = max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        self.threads = set_threads(threads)
        if self.device.type == "cpu":
            retain_freed_memory()  # no page faults on every step's activations (see allocator.py)
        if self.device.type == "cuda":
            enable_tf32()
        seed_everything(cfg.seed)
        checkpoint = load_checkpoint(cfg.out_dir, for_resume=True) if cfg.init_from == "resume" else None  # CPU
        self.resume_changes = {}
        if checkpoint is not None:  # the model and its data are the checkpoint's, whatever the config says
            self.resume_changes = resume_changes(cfg, checkpoint["config"], given)
            kept = [k for k in RESUME_KEEPS if k not in self.resume_changes]  # a data_dir asked for is used
            cfg = self.cfg = dataclasses.replace(cfg, **{k: checkpoint["config"][k] for k in kept})
        elif not (cfg.overwrite or cfg.eval_only):
            trained = [name for name in TRAINED if (Path(cfg.out_dir) / name).is_file()]
            if trained:
                raise UserError(
                    f"{cfg.out_dir} already holds a trained {' and '.join(trained)}; continue it with "
                    "--init_from=resume, replace it with --overwrite=True, or choose another --out_dir"
                )
        pretrained = cfg.init_from.startswith("gpt2")
        dataset, encoding = resolve_dataset(cfg.dataset, "gpt2" if pretrained else cfg.encoding)
        self.out_dir = Path(cfg.out_dir)

        shards = read_shard_meta(dataset)  # a folder from `python -m nanogpt.shards`, or None
        data_folder = Path(cfg.data_dir) / f"{Path(dataset).stem}-{encoding}"
        if self.world.is_master:  # a folder that takes no files must be found now, not at the first checkpoint
            prepare_out_dir(self.out_dir, "--out_dir")
        if shards is None and self.world.local_rank == 0:
            prepare_out_dir(data_folder, "--data_dir")
        if shards is not None:
            self.meta = shards
        else:
            if self.world.local_rank != 0:  # one process per node prepares the data, the others wait
                distributed.barrier(self.world)
            self.meta = prepare(dataset, encoding, data_folder)
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
        # evaluation: one fixed stream of eval_iters batches, rank r computing every world-size-th of them
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
        if checkpoint is not None:
            self.model_args = {**checkpoint["model_args"]}
            if "dropout" in self.model_args:
                self.model_args["dropout"] = cfg.dropout  # may change on resume, as in nanoGPT
        if pretrained:
            from nanogpt.pretrained import load_openai_gpt2

            self.raw_model = load_openai_gpt2(cfg.init_from, cfg.dropout, cfg.pretrained_dir, self.log)
            if cfg.block_size < self.raw_model.config.block_size:
                self.raw_model.crop_block_size(cfg.block_size)  # as nanoGPT does
            self.model_args = dataclasses.asdict(self.raw_model.config)
            self.raw_model.to(self.device)
        else:
            self.raw_model = build_model(self.model_kind, self.model_args).to(self.device)
        self.optimizer = configure_optimizer(self.raw_model, cfg, self.device)
        self.scaler = grad_scaler(self.device, self.dtype)  # a no-op unless float16
        rank_rng = None
        if checkpoint is not None:
            rank_rng = self._restore(checkpoint)
        self.model = compile_model(self.raw_model, self.device) if cfg.compile else self.raw_model
        self.eval_model = self.model  # compiled, never DDP-wrapped: ranks evaluate different batches
        if self.world.size > 1:
            self.model = DDP(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        # dropout streams: where a checkpoint saved this rank's, continue it; otherwise one seed per rank
        if rank_rng is not None:
            self._set_rng_state(rank_rng)
        elif self.world.size > 1:
            torch.manual_seed(cfg.seed + self.world.rank)  # per-rank dropout masks (weights are rank 0's anyway)
        self.history = []  # (iter, train loss) at every log line
        self.evals = []  # dicts: iter, train_loss, val_loss, train_seconds
        self.hellaswag_results = []  # dicts: iter, acc, acc_norm, examples
        self.samples = []  # (iter, [texts]) on rank 0
        self.grad_norm = torch.zeros(())
        self._hellaswag_examples = None
        if cfg.hellaswag_interval and (self.tokenizer.encoding != "gpt2" or self.model_kind != "gpt"):
            raise UserError("hellaswag_interval needs a GPT model with GPT-2 BPE (encoding='gpt2' or a shard folder)")
        self.json_log = JsonLog(self.out_dir / "log.jsonl", self.world.is_master, self.iter_num if checkpoint else None)
        self.wandb = WandbLog(cfg, self.world.is_master, self.log)

    def _rng_state(self) -> dict:
        """This process's dropout generators: the CPU one, and the current GPU's where training runs on CUDA."""
        state = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def _set_rng_state(self, state: dict) -> None:
        torch.set_rng_state(state["torch"].cpu())
        if self.device.type == "cuda" and "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"].cpu(), self.device)

    def _restore(self, checkpoint: dict) -> dict | None:
        """Model, optimizer, counters and the sampler from the checkpoint; returns this rank's RNG states to set
        once the model is wrapped (None when the checkpoint has none for this world size)."""
        try:
            self.raw_model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
        except (RuntimeError, ValueError, KeyError, TypeError) as e:
            path = self.out_dir / "ckpt.pt"
            reason = str(e).strip().splitlines()[0]
            raise UserError(f"checkpoint {path} does not match its own config ({reason}); train again") from None
        self.iter_num, self.best_val_loss = checkpoint["iter_num"], checkpoint["best_val_loss"]
        self.train_seconds = checkpoint["train_seconds"]
        rng = checkpoint["rng"]
        self.train_batches.set_state(rng["sampler"].cpu())
        self.log(f"resumed from {self.out_dir / 'ckpt.pt'} at iter {self.iter_num}")
        if self.resume_changes:
            changed = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in self.resume_changes.items())
            self.log(f"changed since the checkpoint: {changed}")
        ranks = rng.get("ranks")
        if ranks is not None and len(ranks) == self.world.size:
            return ranks[self.world.rank]
        if self.world.size == 1:
            return {"torch": rng["torch"], **({"cuda": rng["cuda"]} if "cuda" in rng else {})}
        self.log(f"the checkpoint's dropout streams are not for {self.world.size} processes: they restart from seeds")
        return None

    def checkpoint(self, rank_states: list | None = None) -> dict:
        rank_states = rank_states or [self._rng_state()]
        return {
            "model": self.raw_model.state_dict(),
            "model_kind": self.model_kind,
            "model_args": self.model_args,
            "tokenizer": self.tokenizer.meta(),
            "optimizer": self.optimizer.state_dict(),
            "iter_num": self.iter_num,
            "best_val_loss": self.best_val_loss,
            "train_seconds": self.train_seconds,
            # "torch" (and "cuda") are rank 0's; "ranks" holds every rank's, so each continues its own stream
            "rng": {"sampler": self.train_batches.state(), **rank_states[0], "ranks": rank_states},
            "config": dataclasses.asdict(self.cfg),
        }

    def save(self, filename: str = "ckpt.pt") -> None:
        """Every rank calls this (its RNG state is gathered); rank 0 writes."""
        states = distributed.gather_objects(self._rng_state(), self.world)
        if self.world.is_master:
            save_checkpoint(self.checkpoint(states), self.out_dir, filename)

    def _grad_sync(self, last_micro_step: bool):
        """Under DDP, all-reduce gradients only on the last micro-step; no_sync must cover forward and backward."""
        if last_micro_step or not hasattr(self.model, "no_sync"):
            return contextlib.nullcontext()
        return self.model.no_sync()

    def train_step(self, lr: float) -> torch.Tensor:
        """One optimizer step over the micro-batches; returns the mean loss (a tensor). self.grad_norm: the
        gradient norm before clipping (a tensor too: reading either waits for the GPU)."""
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
        self.scaler.unscale_(self.optimizer)  # a no-op without fp16 loss scaling
        self.grad_norm = grad_norm_and_clip(list(self.raw_model.parameters()), self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)  # frees the gradients instead of writing zeros into them
        return total

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Mean loss over eval_iters fixed batches of each split. Under DDP rank r computes batches r, r + world,
        ... and the sums are all-reduced: every rank gets the same means, with no host sync per batch."""
        self.model.eval()
        sums = torch.zeros(len(self.eval_batches), device=self.device)
        for i, batches in enumerate(self.eval_batches.values()):
            batches.set_state(torch.Generator().manual_seed(EVAL_SEED).get_state())
            for k in range(self.cfg.eval_iters):
                if k % self.world.size != self.world.rank:
                    batches.skip()  # another rank's batch
                    continue
                x, y = batches.next()
                with autocast(self.device, self.dtype):
                    _, loss = self.eval_model(x, y)  # no DDP forward: nothing to synchronize
                sums[i] += loss.float()
        self.model.train()
        means = (distributed.sum_over_ranks(sums, self.world) / self.cfg.eval_iters).tolist()
        return dict(zip(self.eval_batches, means, strict=True))

    def _write(self, record: dict) -> None:
        self.json_log.write(record)
        self.wandb.write(record)

    def _evaluate_and_checkpoint(self) -> dict:
        losses = self.evaluate()
        self.evals.append({"iter": self.iter_num, "train_loss": losses["train"], "val_loss": losses["val"]})
        self.evals[-1]["train_seconds"] = round(self.train_seconds, 3)
        self.log(f"eval iter {self.iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        self._write({"step": self.iter_num, "type": "eval", "train_loss": losses["train"], "val_loss": losses["val"]})
        improved = losses["val"] < self.best_val_loss
        self.best_val_loss = min(self.best_val_loss, losses["val"])
        if self.cfg.checkpoint_interval:  # the recipe's way: best.pt at improvements, ckpt.pt on schedule
            if improved:
                self.save("best.pt")
        elif improved or self.cfg.always_save_checkpoint:
            self.save()
        return losses

    def evaluate_hellaswag(self) -> dict:
        from nanogpt import hellaswag

        if self._hellaswag_examples is None:
            self._hellaswag_examples = hellaswag.load_examples(self.cfg.hellaswag_file, self.cfg.hellaswag_limit)
        examples = self._hellaswag_examples
        result = hellaswag.evaluate(self.raw_model, self.tokenizer.encode, examples, self.dtype, self.world)
        self.hellaswag_results.append({"iter": self.iter_num, **result})
        self.log(
            f"hellaswag iter {self.iter_num}: acc {result['acc']:.4f}, acc_norm {result['acc_norm']:.4f} "
            f"({result['examples']:,} examples)"
        )
        self._write({"step": self.iter_num, "type": "hellaswag", **result})
        return result

    def sample(self) -> list[str]:
        """sample_count continuations of sample_prompt, a fixed seed (rank 0; the model's own RNG is untouched)."""
        if not self.world.is_master:
            return []
        cfg = self.cfg
        texts = sample_text(
            self.raw_model, self.tokenizer, cfg.sample_prompt, cfg.sample_tokens, 1.0, 50, cfg.seed + 42,
            cfg.sample_count, self.device,
        )  # fmt: skip
        self.raw_model.train()
        self.samples.append((self.iter_num, texts))
        for i, text in enumerate(texts):
            self.log(f"sample {i} iter {self.iter_num}: {text!r}")
        self._write({"step": self.iter_num, "type": "sample", "samples": texts})
        return texts

    def _check_finite(self, loss: float) -> None:
        if not math.isfinite(loss):
            raise UserError(nonfinite_loss_message(self.cfg, self.iter_num, loss))

    def _due(self, interval: int, last: bool) -> bool:
        return bool(interval) and (self.iter_num % interval == 0 or last)

    def run(self) -> dict:
        cfg = self.cfg
        tokens_per_iter = self.tokens_per_iter
        n_params = self.raw_model.num_params()
        peak = peak_flops(self.device, cfg.peak_flops)
        peak = peak * self.world.size if peak else None  # tokens/s below are the whole world's
        flops_per_token = 0.0
        if self.model_kind == "gpt":
            c = self.raw_model.config
            flops_per_token = training_flops_per_token(n_params, c.n_layer, c.n_embd, c.block_size)
        threads = f", {self.threads} CPU thread{'s' if self.threads > 1 else ''}" if self.device.type == "cpu" else ""
        self.log(f"{self.model_kind}: {format_params(n_params)} parameters on {self.device} ({self.dtype}){threads}")
        if self.world.size > 1:
            self.log(f"DDP: {self.world.size} processes, {self.micro_steps} micro-steps each per iteration")
        self.log(f"{tokens_per_iter:,} tokens per iteration, iters {self.iter_num} -> {cfg.max_iters}")
        start_iter, wall_start, eval_seconds = self.iter_num, time.perf_counter(), 0.0
        losses = None
        if cfg.eval_only:  # nanoGPT's eval_gpt2 configs: losses (and HellaSwag) of the model as it is
            losses = self.evaluate()
            self.log(f"eval only: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            self.evals.append({"iter": self.iter_num, "train_loss": losses["train"], "val_loss": losses["val"]})
            record = {"step": self.iter_num, "type": "eval", "train_loss": losses["train"], "val_loss": losses["val"]}
            self._write(record)
            if cfg.hellaswag_interval:
                self.evaluate_hellaswag()
            start_iter = self.iter_num = max(self.iter_num, cfg.max_iters)  # no training below
        self.raw_model.train()
        segment_start = interval_start = time.perf_counter()
        interval_iters = 0
        while self.iter_num < cfg.max_iters:
            lr = lr_at(self.iter_num, cfg)
            loss = self.train_step(lr)
            self.iter_num += 1
            interval_iters += 1
            last = self.iter_num == cfg.max_iters
            if self.iter_num % cfg.log_interval == 0 or last:
                loss = distributed.mean_over_ranks(loss, self.world).item()  # the only host sync in the loop
                self._check_finite(loss)
                norm = self.grad_norm.item()  # every rank's is the same (after the all-reduce)
                now = time.perf_counter()
                ms = (now - interval_start) * 1000 / interval_iters
                eta = (cfg.max_iters - self.iter_num) * ms / 1000
                self.history.append((self.iter_num, loss))
                tokens_per_sec = tokens_per_iter * 1000 / ms
                utilization = tokens_per_sec * flops_per_token / peak if peak else None
                mfu = f", MFU {utilization:.1%}" if peak else ""
                self.log(
                    f"iter {self.iter_num}/{cfg.max_iters}: loss {loss:.4f}, lr {lr:.2e}, norm {norm:.4f}, "
                    f"{ms:.1f} ms/iter, {tokens_per_sec:,.0f} tokens/s{mfu}, ETA {eta:.0f}s"
                )
                record = {"step": self.iter_num, "type": "train", "loss": loss, "lr": lr, "grad_norm": norm}
                record.update(ms_per_iter=round(ms, 3), tokens_per_sec=round(tokens_per_sec, 1), mfu=utilization)
                self._write(record)
            evaluations = [self._due(cfg.eval_interval, last), self._due(cfg.hellaswag_interval, last)]
            evaluations += [self._due(cfg.sample_interval, last), self._due(cfg.checkpoint_interval, last)]
            if any(evaluations):
                if not isinstance(loss, float):  # sync before the clock stops (every rank: they all raise or none)
                    loss = distributed.mean_over_ranks(loss, self.world).item()
                    self._check_finite(loss)  # before anything is evaluated, saved or sampled
                eval_start = time.perf_counter()
                self.train_seconds += eval_start - segment_start
                if evaluations[0]:
                    losses = self._evaluate_and_checkpoint()
                if evaluations[1]:
                    self.evaluate_hellaswag()
                if evaluations[2]:
                    self.sample()
                if evaluations[3]:
                    self.save()  # the last checkpoint, to resume from
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
        if self.hellaswag_results:
            metrics["hellaswag"] = self.hellaswag_results
        if self.world.is_master:
            write_json(self.out_dir / "metrics.json", metrics)
        distributed.barrier(self.world)  # the ranks finish together: rank 0's files are written, no message in flight
        return metrics

    def close(self) -> None:
        """Leave torchrun's process group (a no-op for one process); close the logs."""
        self.json_log.close()
        self.wandb.close()
        self.model = self.raw_model  # drop the DDP wrapper: its reducer holds on to the process group
        gc.collect()  # and free it now (it sits in reference cycles), not at interpreter exit after the group is gone
        distributed.close(self.world)
