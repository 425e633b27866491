"""The training loop: AdamW, warmup + cosine learning rate, gradient accumulation and clipping,
periodic evaluation (val loss, HellaSwag, samples), checkpoints, resume, a streamed log, metrics.

    trainer = Trainer(load_config("configs/shakespeare_char_cpu.py"))
    metrics = trainer.run()   # also writes out_dir/ckpt.pt, out_dir/log.jsonl and out_dir/metrics.json

Read `Trainer.__init__` for the setup, one named step per job, and `Trainer.run` for the loop. The model is
used through `self.model` (possibly torch.compile'd, later DDP-wrapped) and saved through `self.raw_model`;
`_grad_sync` is the one place that decides when gradients are all-reduced.
"""

import contextlib
import dataclasses
import gc
import math
import os
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from nanogpt import distributed
from nanogpt.allocator import retain_freed_memory
from nanogpt.checkpoint import (
    RESUME_FIXED,
    RESUME_KEEPS,
    build_model,
    fitting_its_config,
    load_checkpoint,
    save_checkpoint,
)
from nanogpt.config import KEYS, TrainConfig, accumulation_steps
from nanogpt.data import Batches, Tokenizer, resolve_dataset, token_files
from nanogpt.mfu import mfu, model_flops_per_token, peak_flops
from nanogpt.model import GPTConfig
from nanogpt.optim import configure_optimizer, lr_at
from nanogpt.runlog import JsonLog, TrainingClock, WandbLog
from nanogpt.sampling import sample_text
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
from zero_to_hero.progress import progress_line

RESUME_NOT_NOTED = ("init_from", "overwrite", "device", "threads")  # how to run, not what: changes go unmentioned
TRAINED = ("ckpt.pt", "best.pt")
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


def model_args_from_config(cfg: TrainConfig, tokenizer_vocab_size: int) -> dict:
    """The model's constructor arguments: for a GPT every GPTConfig field that is also a config key (a new
    architecture switch needs no edit here), for the bigram its table size; the vocabulary is at least the
    tokenizer's (more pads the embedding; the padding rows are never targets)."""
    if 0 < cfg.vocab_size < tokenizer_vocab_size:
        raise UserError(f"vocab_size {cfg.vocab_size} is smaller than the tokenizer's {tokenizer_vocab_size}")
    vocab_size = max(cfg.vocab_size, tokenizer_vocab_size)
    if cfg.model != "gpt":
        return {"vocab_size": vocab_size, "block_size": cfg.block_size}
    args = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(GPTConfig) if f.name in KEYS}
    return {**args, "vocab_size": vocab_size}


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
    differ from the checkpoint's config; the architecture, data and optimizer keys among them are a UserError."""
    keys = KEYS.keys() if given is None else given
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
        self._join_world(log)
        self._set_up_numerics()
        checkpoint = self._read_checkpoint(given)
        self._split_the_batch()
        self._set_up_data()
        self._build_model(checkpoint)
        self.iter_num, self.best_val_loss, self.train_seconds = 0, float("inf"), 0.0
        rank_rng = self._restore(checkpoint) if checkpoint is not None else None
        self._wrap_model()
        self._seed_dropout(rank_rng)
        self._set_up_records(resumed=checkpoint is not None)

    # --- setup, in order ---

    def _join_world(self, log) -> None:
        """This process's place: the device, and the torchrun process group (a world of 1 without torchrun);
        rank 0 alone logs."""
        self.world, self.device = distributed.setup(pick_device(self.cfg.device), self.cfg.backend)
        self.log = log if self.world.is_master else lambda *args: None

    def _set_up_numerics(self) -> None:
        """How this process computes: dtype, CPU threads (a node's processes share its idle cores), the CPU
        allocator, TF32 on CUDA, and the seed of everything random."""
        cfg = self.cfg
        self.dtype = parse_dtype(cfg.dtype, self.device)
        threads = parse_threads(cfg.threads)
        if cfg.threads.strip().lower() == "auto":
            threads = max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
        self.threads = set_threads(threads)
        if self.device.type == "cpu":
            retain_freed_memory()  # no page faults on every step's activations (see allocator.py)
        if self.device.type == "cuda":
            enable_tf32()
        seed_everything(cfg.seed)

    def _read_checkpoint(self, given: set[str] | None) -> dict | None:
        """init_from=resume: the checkpoint (on the CPU), whose model, data and optimizer keys self.cfg takes
        (asking for other values is a UserError, other changes are noted). Otherwise None, after refusing to
        train over a trained out_dir unasked."""
        cfg = self.cfg
        self.resume_changes = {}
        if cfg.init_from != "resume":
            trained = [name for name in TRAINED if (Path(cfg.out_dir) / name).is_file()]
            if trained and not (cfg.overwrite or cfg.eval_only):
                raise UserError(
                    f"{cfg.out_dir} already holds a trained {' and '.join(trained)}; continue it with "
                    "--init_from=resume, replace it with --overwrite=True, or choose another --out_dir"
                )
            return None
        checkpoint = load_checkpoint(cfg.out_dir, for_resume=True)
        saved = checkpoint["config"]
        self.resume_changes = resume_changes(cfg, saved, given)
        kept = [k for k in RESUME_KEEPS if k not in self.resume_changes]  # a data_dir asked for is used
        self.cfg = dataclasses.replace(cfg, **{k: saved[k] for k in kept})
        return checkpoint

    def _split_the_batch(self) -> None:
        """Micro-steps per optimizer step for this rank, and the tokens one optimizer step takes (all ranks)."""
        steps = accumulation_steps(self.cfg, self.world.size)
        if steps % self.world.size:
            raise UserError(
                f"gradient_accumulation_steps ({steps}) must be a multiple of the "
                f"number of processes ({self.world.size}): it counts micro-batches of the whole global batch"
            )
        self.micro_steps = steps // self.world.size  # this rank's share of them
        self.tokens_per_iter = self.cfg.batch_size * self.cfg.block_size * steps

    def _set_up_data(self) -> None:
        """The output folder checked, the token files (prepared if need be), the tokenizer, and the batch
        sources: training's stream (the ranks share one seeded stream, each taking its own rows, see
        data.Batches) and evaluation's fixed one per split (rank r computes every world-size-th batch)."""
        cfg = self.cfg
        dataset, encoding = resolve_dataset(cfg.dataset, "gpt2" if cfg.init_from.startswith("gpt2") else cfg.encoding)
        self.out_dir = Path(cfg.out_dir)
        if self.world.is_master:  # a folder that takes no files must be found now, not at the first checkpoint
            prepare_out_dir(self.out_dir, "--out_dir")
        self.meta, files = token_files(dataset, encoding, Path(cfg.data_dir), self.world)
        self.tokenizer = Tokenizer.from_meta(self.meta)

        def batches(split, seed, rank=0, world_size=1):
            return Batches(files[split], cfg.block_size, cfg.batch_size, seed, self.device, rank, world_size)

        self.train_batches = batches("train", cfg.seed, self.world.rank, self.world.size)
        self.eval_batches = {split: batches(split, EVAL_SEED) for split in ("train", "val")}

    def _build_model(self, checkpoint: dict | None) -> None:
        """self.raw_model on the device: OpenAI's GPT-2 (init_from=gpt2*), the checkpoint's architecture, or the
        config's; self.model_args rebuilds it (checkpoints hold them). Then its optimizer and fp16 loss scaler."""
        cfg = self.cfg
        self.model_kind = cfg.model
        self.model_args = model_args_from_config(cfg, self.tokenizer.vocab_size)
        if checkpoint is not None:
            self.model_args = {**checkpoint["model_args"]}
            if "dropout" in self.model_args:
                self.model_args["dropout"] = cfg.dropout  # may change on resume, as in nanoGPT
        if cfg.init_from.startswith("gpt2"):
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

    def _restore(self, checkpoint: dict) -> dict | None:
        """Model, optimizer, counters and the sampler from the checkpoint; returns this rank's RNG states to set
        once the model is wrapped (None when the checkpoint has none for this world size)."""
        with fitting_its_config(self.out_dir / "ckpt.pt"):
            self.raw_model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
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

    def _wrap_model(self) -> None:
        """self.model, what training calls: compiled if asked, DDP-wrapped under torchrun; self.eval_model the
        same but never DDP-wrapped (ranks evaluate different batches: nothing to synchronize)."""
        self.model = compile_model(self.raw_model, self.device) if self.cfg.compile else self.raw_model
        self.eval_model = self.model
        if self.world.size > 1:
            self.model = DDP(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def _seed_dropout(self, rank_rng: dict | None) -> None:
        """Dropout's random streams: where a checkpoint saved this rank's, continue it; otherwise one seed per
        rank under torchrun (weights are rank 0's anyway)."""
        if rank_rng is not None:
            self._set_rng_state(rank_rng)
        elif self.world.size > 1:
            torch.manual_seed(self.cfg.seed + self.world.rank)

    def _set_up_records(self, resumed: bool) -> None:
        """What the run keeps and writes: losses, evaluations, samples; log.jsonl and Weights & Biases (rank 0)."""
        if self.cfg.hellaswag_interval and (self.tokenizer.encoding != "gpt2" or self.model_kind != "gpt"):
            raise UserError("hellaswag_interval needs a GPT model with GPT-2 BPE (encoding='gpt2' or a shard folder)")
        self.history = []  # (iter, train loss) at every progress line
        self.evals = []  # dicts: iter, train_loss, val_loss, train_seconds
        self.hellaswag_results = []  # dicts: iter, acc, acc_norm, examples
        self.samples = []  # (iter, [texts]) on rank 0
        self.grad_norm = torch.zeros(())
        self._hellaswag_examples = None
        self.json_log = JsonLog(self.out_dir / "log.jsonl", self.world.is_master, self.iter_num if resumed else None)
        self.wandb = WandbLog(self.cfg, self.world.is_master, self.log)

    # --- checkpoints ---

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

    # --- one step, evaluations ---

    def _grad_sync(self, last_micro_step: bool):
        """Under DDP, all-reduce gradients only on the last micro-step; no_sync must cover forward and backward."""
        if last_micro_step or not hasattr(self.model, "no_sync"):
            return contextlib.nullcontext()
        return self.model.no_sync()

    def train_step(self, lr: float) -> torch.Tensor:
        """One optimizer step over the micro-batches; returns the mean loss (a tensor). self.grad_norm: the
        gradient norm before clipping (a tensor too: reading either waits for the GPU). A parameter group's
        `lr_scale` (set by its optimizer) scales the schedule's lr for that group."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
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

    def _record_eval(self, losses: dict) -> None:
        self.evals.append({"iter": self.iter_num, "train_loss": losses["train"], "val_loss": losses["val"]})
        self.evals[-1]["train_seconds"] = round(self.train_seconds, 3)
        self._write({"step": self.iter_num, "type": "eval", "train_loss": losses["train"], "val_loss": losses["val"]})

    def _evaluate_and_checkpoint(self) -> None:
        """Evaluate, then save ckpt.pt when val improved (or always_save_checkpoint); with checkpoint_interval
        set, best.pt instead (ckpt.pt is then written on that schedule)."""
        losses = self.evaluate()
        self.log(f"eval iter {self.iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        self._record_eval(losses)
        improved = losses["val"] < self.best_val_loss
        self.best_val_loss = min(self.best_val_loss, losses["val"])
        if self.cfg.checkpoint_interval:
            if improved:
                self.save("best.pt")
        elif improved or self.cfg.always_save_checkpoint:
            self.save()

    def _evaluate_only(self) -> None:
        """eval_only (nanoGPT's eval_gpt2 configs): the losses (and HellaSwag) of the model as it is."""
        losses = self.evaluate()
        self.log(f"eval only: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        self._record_eval(losses)
        if self.cfg.hellaswag_interval:
            self.evaluate_hellaswag()

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

    # --- the run ---

    def _due(self, interval: int, last: bool) -> bool:
        return bool(interval) and (self.iter_num % interval == 0 or last)

    def _work_due(self, last: bool) -> list:
        """What runs after this step, in this order: evaluation (and the checkpoint it may write), HellaSwag,
        samples, the scheduled checkpoint (the last one, to resume from)."""
        cfg = self.cfg
        schedule = [(cfg.eval_interval, self._evaluate_and_checkpoint)]
        schedule += [(cfg.hellaswag_interval, self.evaluate_hellaswag), (cfg.sample_interval, self.sample)]
        schedule += [(cfg.checkpoint_interval, self.save)]
        return [work for interval, work in schedule if self._due(interval, last)]

    def _synced_loss(self, step_loss: torch.Tensor) -> float:
        """The step's loss as a number, the mean over ranks (the loop's only host sync), checked finite on every
        rank (all raise or none) before anything is evaluated, saved or sampled."""
        loss = distributed.mean_over_ranks(step_loss, self.world).item()
        if not math.isfinite(loss):
            raise UserError(nonfinite_loss_message(self.cfg, self.iter_num, loss))
        return loss

    def _log_start(self) -> None:
        n_params = self.raw_model.num_params()
        where = f"{format_params(n_params)} parameters on {self.device} ({self.dtype})"
        if self.device.type == "cpu":
            where += f", {self.threads} CPU thread{'s' if self.threads > 1 else ''}"
        self.log(f"{self.model_kind}: {where}")
        if self.world.size > 1:
            self.log(f"DDP: {self.world.size} processes, {self.micro_steps} micro-steps each per iteration")
        self.log(f"{self.tokens_per_iter:,} tokens per iteration, iters {self.iter_num} -> {self.cfg.max_iters}")

    def _log_progress(self, loss: float, lr: float) -> None:
        """The progress line (and its log record): loss, lr, gradient norm, speed over the steps since the
        previous line (training time only), MFU where the device's peak is known, ETA."""
        seconds_per_step = self.clock.lap()
        norm = self.grad_norm.item()  # every rank's is the same (after the all-reduce)
        tokens_per_sec = self.tokens_per_iter / seconds_per_step
        utilization = mfu(tokens_per_sec, self.flops_per_token, self.peak)
        shown = {"loss": loss, "lr": lr, "norm": norm}
        if utilization is not None:
            shown["mfu"] = f"{utilization:.1%}"
        line = progress_line(
            self.iter_num, self.cfg.max_iters, seconds_per_step=seconds_per_step, rate=tokens_per_sec, **shown
        )
        self.log(line)
        self.history.append((self.iter_num, loss))
        record = {"step": self.iter_num, "type": "train", "loss": loss, "lr": lr, "grad_norm": norm}
        record.update(ms_per_iter=round(seconds_per_step * 1000, 3), tokens_per_sec=round(tokens_per_sec, 1))
        self._write({**record, "mfu": utilization})

    @contextlib.contextmanager
    def _outside_training(self):
        """Evaluation, samples and checkpoints: not training time (checkpoints record the training time so far)."""
        with self.clock.paused():
            self.train_seconds = self.clock.train_seconds
            yield

    def run(self) -> dict:
        """Train from iter_num to max_iters, with the evaluations, samples and checkpoints due on the way; write
        and return the metrics."""
        cfg = self.cfg
        peak = peak_flops(self.device, cfg.peak_flops)
        self.peak = peak * self.world.size if peak else None  # tokens/s are the whole world's
        self.flops_per_token = model_flops_per_token(self.raw_model)
        self._log_start()
        self.clock, start_iter = TrainingClock(self.train_seconds), self.iter_num
        if cfg.eval_only:
            with self._outside_training():
                self._evaluate_only()
            start_iter = self.iter_num = max(self.iter_num, cfg.max_iters)  # no training below
        self.raw_model.train()
        while self.iter_num < cfg.max_iters:
            lr = lr_at(self.iter_num, cfg)
            step_loss = self.train_step(lr)  # a tensor: reading it waits for the device
            self.iter_num += 1
            self.clock.step()
            last = self.iter_num == cfg.max_iters
            progress, work = self._due(cfg.log_interval, last), self._work_due(last)
            if progress or work:
                loss = self._synced_loss(step_loss)
                if progress:
                    self._log_progress(loss, lr)
                if work:
                    with self._outside_training():
                        for job in work:
                            job()
        if not self.evals:  # nothing to train (max_iters reached already): just report where the model stands
            with self._outside_training():
                self._evaluate_and_checkpoint()
        return self._finish(self.iter_num - start_iter)

    def _finish(self, trained_iters: int) -> dict:
        """metrics.json (rank 0), once every rank is done."""
        session_seconds = self.clock.session_seconds
        tokens_per_sec = trained_iters * self.tokens_per_iter / session_seconds if trained_iters else 0.0
        final = self.evals[-1]
        metrics = {
            "train_loss": final["train_loss"],
            "val_loss": final["val_loss"],
            "best_val_loss": self.best_val_loss,
            "iters": self.iter_num,
            "tokens_per_sec": tokens_per_sec,  # the whole world's
            "mfu": mfu(tokens_per_sec, self.flops_per_token, self.peak),
            "world_size": self.world.size,
            "seconds": round(self.train_seconds, 3),  # training only, all sessions of a resumed run
            "eval_seconds": round(self.clock.paused_seconds, 3),
            "wall_seconds": round(self.clock.wall_seconds, 3),
            "params": self.raw_model.num_params(),
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "torch": torch.__version__,
            "evals": self.evals,
            "config": dataclasses.asdict(self.cfg),
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
