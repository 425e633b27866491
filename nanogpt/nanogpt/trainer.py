"""A training run, top to bottom, as in nanoGPT's train.py: `set_up` (processes, device, precision -> data ->
model -> optimizer, resume) then the step, the evaluation, and `train` (the loop -> the end of the run). Each
optional feature (DDP, resume, HellaSwag, samples, log.jsonl, wandb, MFU) is one named call into the module that
holds its work: skip them and what is left is nanoGPT's loop.

    run = set_up(load_config("configs/shakespeare_char_cpu.py"))  # a Run: plain fields, no methods
    metrics = train(run)   # writes out_dir/ckpt.pt, log.jsonl and metrics.json
    close(run)             # leaves torchrun's process group, closes the logs

bench.py, the ablation and gpu_check time `train_step(run, lr)`, the loop's own step.
"""

import contextlib
import dataclasses
import gc
import math
from pathlib import Path

import torch

from nanogpt import checkpoint, distributed, runlog
from nanogpt.allocator import retain_freed_memory
from nanogpt.config import TrainConfig, accumulation_steps, inert_keys_note
from nanogpt.data import Batches, Tokenizer, resolve_dataset, token_files
from nanogpt.mfu import model_flops_per_token, peak_flops
from nanogpt.optim import configure_optimizer, grad_norm_and_clip, lr_at
from nanogpt.sampling import sample_text
from zero_to_hero import UserError
from zero_to_hero.device import autocast, grad_scaler, parse_dtype, pick_device, seed_everything, set_threads
from zero_to_hero.files import prepare_out_dir, write_json

EVAL_SEED = 123  # evaluations always see the same batches: their losses are comparable, and they never
# touch the training sampler's random stream (which is what makes resuming exact)


@dataclasses.dataclass(eq=False)
class Run:
    cfg: TrainConfig
    log: object  # print-like; a no-op on ranks other than 0
    world: distributed.World
    device: torch.device
    dtype: torch.dtype
    threads: int
    micro_steps: int  # this rank's micro-batches per optimizer step
    tokens_per_iter: int  # tokens per optimizer step, all ranks
    out_dir: Path
    writes: bool  # False: eval_only on a trained run, which must leave its files as they are
    tokenizer: Tokenizer
    train_batches: Batches
    eval_batches: dict  # split -> Batches, fixed (EVAL_SEED)
    model_kind: str
    model_args: dict  # rebuilds the model (checkpoints hold them)
    raw_model: torch.nn.Module  # what is saved and sampled
    model: torch.nn.Module  # what training calls: maybe compiled, DDP-wrapped under torchrun
    eval_model: torch.nn.Module  # the same, never DDP-wrapped
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler  # a no-op unless float16
    json_log: runlog.JsonLog | None = None
    wandb: runlog.WandbLog | None = None
    iter_num: int = 0
    best_val_loss: float = float("inf")
    train_seconds: float = 0.0
    grad_norm: torch.Tensor = dataclasses.field(default_factory=lambda: torch.zeros(()))
    history: list = dataclasses.field(default_factory=list)  # (iter, train loss) at every progress line
    evals: list = dataclasses.field(default_factory=list)  # dicts: iter, train_loss, val_loss, train_seconds
    hellaswag_results: list = dataclasses.field(default_factory=list)  # dicts: iter, acc, acc_norm, examples
    hellaswag_examples: list | None = None


def set_up(cfg: TrainConfig, log=print, given: set[str] | None = None) -> Run:
    """Everything before the first step. given: the config keys the user set (a resume compares those with the
    checkpoint's; None = all)."""
    # processes, device, precision: torchrun's process group (a world of 1 without torchrun); rank 0 alone logs
    world, device = distributed.setup(pick_device(cfg.device), cfg.backend)
    log = log if world.is_master else lambda *args: None
    dtype = parse_dtype(cfg.dtype, device)
    threads = set_threads(distributed.threads_per_process(cfg.threads))  # a node's processes share its cores
    if device.type == "cpu":
        retain_freed_memory()  # no page faults on every step's activations (see allocator.py)
    if device.type == "cuda":
        distributed.enable_tf32()
    seed_everything(cfg.seed)

    # a trained run in out_dir: resume it (eval_only: evaluate it), with its model, data and optimizer keys
    out_dir, saved, changes = Path(cfg.out_dir), None, {}
    trained = checkpoint.trained_files(out_dir)
    if cfg.init_from == "resume" or (cfg.eval_only and cfg.init_from == "scratch"):
        saved = checkpoint.load_checkpoint(out_dir, for_resume=True)  # never a fresh random model to evaluate
        cfg, changes = checkpoint.resume_config(cfg, saved["config"], given)
    elif trained and not (cfg.overwrite or cfg.eval_only):
        checkpoint.refuse_to_train_over(out_dir, trained)
    writes = not (cfg.eval_only and trained)
    micro_steps, tokens_per_iter = distributed.split_batch(
        accumulation_steps(cfg, world.size), cfg.batch_size * cfg.block_size, world
    )

    # data: the output folder checked, the token files (prepared if need be), the tokenizer, and the
    # batches: training's stream (the ranks share one seeded stream, each taking its own rows, see
    # data.Batches) and evaluation's fixed one per split (rank r computes every world-size-th batch)
    dataset, encoding = resolve_dataset(cfg.dataset, "gpt2" if cfg.init_from.startswith("gpt2") else cfg.encoding)
    if world.is_master:  # a folder that takes no files must be found now, not at the first checkpoint
        prepare_out_dir(out_dir, "--out_dir")
    meta, files = token_files(dataset, encoding, Path(cfg.data_dir), world)
    tokenizer = Tokenizer.from_meta(meta)

    def batches(split, seed, rank=0, world_size=1):
        return Batches(files[split], cfg.block_size, cfg.batch_size, seed, device, rank, world_size)

    train_batches = batches("train", cfg.seed, world.rank, world.size)
    eval_batches = {split: batches(split, EVAL_SEED) for split in ("train", "val")}

    # model: OpenAI's GPT-2 (init_from=gpt2*), the checkpoint's architecture, or the config's
    model_kind, model_args = cfg.model, checkpoint.model_args_from_config(cfg, tokenizer.vocab_size)
    if saved is not None:
        model_args = {**saved["model_args"]}
        if "dropout" in model_args:
            model_args["dropout"] = cfg.dropout  # may change on resume, as in nanoGPT
    checkpoint.check_model_fits(model_kind, model_args, device)  # a 10**12-layer config: one line, now
    if cfg.init_from.startswith("gpt2"):
        from nanogpt.pretrained import load_openai_gpt2

        raw_model = load_openai_gpt2(cfg.init_from, cfg.dropout, cfg.pretrained_dir, log)
        if cfg.block_size < raw_model.config.block_size:
            raw_model.crop_block_size(cfg.block_size)  # as nanoGPT does
        model_args = dataclasses.asdict(raw_model.config)
        raw_model.to(device)
    else:
        raw_model = checkpoint.build_model(model_kind, model_args).to(device)

    # optimizer
    optimizer = configure_optimizer(raw_model, cfg, device)
    run = Run(
        cfg, log, world, device, dtype, threads, micro_steps, tokens_per_iter, out_dir, writes, tokenizer,
        train_batches, eval_batches, model_kind, model_args, raw_model, raw_model, raw_model, optimizer,
        grad_scaler(device, dtype),
    )  # fmt: skip

    # resume: the model, optimizer, counters, evaluations and the sampler from the checkpoint
    rank_rng = checkpoint.restore(run, saved, changes) if saved is not None else None
    run.model, run.eval_model = distributed.wrap_model(raw_model, cfg.compile, device, world)
    if rank_rng is not None:  # dropout's random streams: this rank's from the checkpoint, or one seed per rank
        checkpoint.set_rng_state(rank_rng, device)
    elif world.size > 1:
        torch.manual_seed(cfg.seed + world.rank)

    # before the first step: every file the run will need, and the keys that do nothing here
    if cfg.hellaswag_interval:
        if tokenizer.encoding != "gpt2" or model_kind != "gpt":
            raise UserError("hellaswag_interval needs a GPT model with GPT-2 BPE (encoding='gpt2' or a shard folder)")
        from nanogpt import hellaswag

        run.hellaswag_examples = hellaswag.load_examples(cfg.hellaswag_file, cfg.hellaswag_limit)
    if note := inert_keys_note(cfg, given):
        log(note)
    run.json_log = runlog.JsonLog(out_dir / "log.jsonl", world.is_master and writes, run.iter_num if saved else None)
    run.wandb = runlog.WandbLog(cfg, world.is_master and writes, log)
    return run


def train_step(run: Run, lr: float) -> torch.Tensor:
    """One optimizer step over the micro-batches; returns the mean loss, and sets run.grad_norm before clipping
    (tensors: reading either waits for the GPU). A param group's `lr_scale` (see optim.py) scales lr for it."""
    for group in run.optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    total = torch.zeros((), device=run.device)
    for micro_step in range(run.micro_steps):
        x, y = run.train_batches.next()
        last = micro_step == run.micro_steps - 1
        # under DDP, gradients are all-reduced on the last micro-step only; no_sync covers forward and backward
        with contextlib.nullcontext() if last or run.world.size == 1 else run.model.no_sync():
            with autocast(run.device, run.dtype):
                _, loss = run.model(x, y)
            loss = loss / run.micro_steps  # gradients of the mean over all micro-batches
            run.scaler.scale(loss).backward()
        total += loss.detach()
    run.scaler.unscale_(run.optimizer)  # a no-op without fp16 loss scaling
    run.grad_norm = grad_norm_and_clip(list(run.raw_model.parameters()), run.cfg.grad_clip)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.optimizer.zero_grad(set_to_none=True)  # frees the gradients instead of writing zeros into them
    return total


@torch.no_grad()
def evaluate(run: Run) -> dict:
    """Mean loss over eval_iters fixed batches of each split. Under DDP rank r computes batches r, r + world, ...
    and the sums are all-reduced: every rank gets the same means, with no host sync per batch."""
    run.model.eval()
    sums = torch.zeros(len(run.eval_batches), device=run.device)
    for i, batches in enumerate(run.eval_batches.values()):
        batches.set_state(torch.Generator().manual_seed(EVAL_SEED).get_state())
        for k in range(run.cfg.eval_iters):
            if k % run.world.size != run.world.rank:
                batches.skip()  # another rank's batch
                continue
            x, y = batches.next()
            with autocast(run.device, run.dtype):
                _, loss = run.eval_model(x, y)  # no DDP forward: nothing to synchronize
            sums[i] += loss.float()
    run.model.train()
    means = (distributed.sum_over_ranks(sums, run.world) / run.cfg.eval_iters).tolist()
    return dict(zip(run.eval_batches, means, strict=True))


def write(run: Run, record: dict) -> None:
    run.json_log.write(record)
    run.wandb.write(record)


def log_evaluation(run: Run, what: str) -> dict:
    losses = evaluate(run)
    run.log(f"{what}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
    run.evals.append({"iter": run.iter_num, "train_loss": losses["train"], "val_loss": losses["val"]})
    run.evals[-1]["train_seconds"] = round(run.train_seconds, 3)
    write(run, {"step": run.iter_num, "type": "eval", "train_loss": losses["train"], "val_loss": losses["val"]})
    return losses


def save(run: Run, filename: str = "ckpt.pt") -> None:
    """Every rank calls this (its RNG state is gathered); rank 0 writes."""
    states = distributed.gather_objects(checkpoint.rng_state(run.device), run.world)
    if run.world.is_master:
        checkpoint.save_checkpoint(checkpoint.run_state(run, states), run.out_dir, filename)


def evaluate_and_save(run: Run) -> None:
    """Evaluate, then save ckpt.pt when val improved (or always_save_checkpoint); with checkpoint_interval set,
    best.pt instead (ckpt.pt is then written on that schedule)."""
    losses = log_evaluation(run, f"eval iter {run.iter_num}")
    improved = losses["val"] < run.best_val_loss
    run.best_val_loss = min(run.best_val_loss, losses["val"])
    if run.cfg.checkpoint_interval:
        if improved:
            save(run, "best.pt")
    elif improved or run.cfg.always_save_checkpoint:
        save(run)


def log_hellaswag(run: Run) -> None:
    from nanogpt import hellaswag

    result = hellaswag.evaluate(run.raw_model, run.tokenizer.encode, run.hellaswag_examples, run.dtype, run.world)
    run.hellaswag_results.append({"iter": run.iter_num, **result})
    run.log(
        f"hellaswag iter {run.iter_num}: acc {result['acc']:.4f}, acc_norm {result['acc_norm']:.4f} "
        f"({result['examples']:,} examples)"
    )
    write(run, {"step": run.iter_num, "type": "hellaswag", **result})


def log_samples(run: Run) -> None:
    """sample_count continuations of sample_prompt, a fixed seed (rank 0; the model's own RNG is untouched)."""
    if not run.world.is_master:
        return
    cfg = run.cfg
    texts = sample_text(
        run.raw_model, run.tokenizer, cfg.sample_prompt, cfg.sample_tokens, 1.0, 50, cfg.seed + 42,
        cfg.sample_count, run.device,
    )  # fmt: skip
    run.raw_model.train()
    for i, text in enumerate(texts):
        run.log(f"sample {i} iter {run.iter_num}: {text!r}")
    write(run, {"step": run.iter_num, "type": "sample", "samples": texts})


def train(run: Run) -> dict:
    """Train from iter_num to max_iters, with the evaluations, samples and checkpoints due on the way."""
    cfg, log, world = run.cfg, run.log, run.world
    peak = peak_flops(run.device, cfg.peak_flops)
    peak = peak * world.size if peak else None  # tokens/s are the whole world's
    flops_per_token = model_flops_per_token(run.raw_model)
    for line in runlog.start_lines(run):
        log(line)
    clock, start_iter, evals_before = runlog.TrainingClock(run.train_seconds), run.iter_num, len(run.evals)
    due = lambda interval, it, last: bool(interval) and (it % interval == 0 or last)  # noqa: E731

    @contextlib.contextmanager
    def outside_training():  # evaluation, samples, checkpoints: their time is not training time
        with clock.paused():
            run.train_seconds = clock.train_seconds  # what a checkpoint records
            yield

    if cfg.eval_only:  # nanoGPT's eval_gpt2 configs: the losses (and HellaSwag) of the model as it is
        with outside_training():
            log_evaluation(run, "eval only")
            if cfg.hellaswag_interval:
                log_hellaswag(run)
        start_iter = run.iter_num = max(run.iter_num, cfg.max_iters)  # no training below
    run.raw_model.train()
    while run.iter_num < cfg.max_iters:
        lr = lr_at(run.iter_num, cfg)
        step_loss = train_step(run, lr)  # a tensor: reading it waits for the device
        run.iter_num += 1
        clock.step()
        it, last = run.iter_num, run.iter_num == cfg.max_iters
        log_now, eval_now = due(cfg.log_interval, it, last), due(cfg.eval_interval, it, last)
        hellaswag_now, sample_now = due(cfg.hellaswag_interval, it, last), due(cfg.sample_interval, it, last)
        save_now = due(cfg.checkpoint_interval, it, last)
        if not (log_now or eval_now or hellaswag_now or sample_now or save_now):
            continue
        # the step's loss as a number, the mean over ranks (the loop's only host sync), checked finite on every
        # rank (all raise or none) before anything is evaluated, saved or sampled
        loss = distributed.mean_over_ranks(step_loss, world).item()
        if not math.isfinite(loss):
            raise UserError(runlog.nonfinite_loss_message(cfg, it, loss))
        if log_now:
            seconds_per_step = clock.lap()  # training time since the previous line
            line, record = runlog.progress(
                it, cfg.max_iters, loss, lr, run.grad_norm.item(), seconds_per_step, run.tokens_per_iter,
                flops_per_token, peak,
            )  # fmt: skip
            log(line)
            run.history.append((it, loss))
            write(run, record)
        if eval_now or hellaswag_now or sample_now or save_now:
            with outside_training():
                if eval_now:
                    evaluate_and_save(run)  # ckpt.pt when val improved
                if hellaswag_now:
                    log_hellaswag(run)
                if sample_now:
                    log_samples(run)
                if save_now:
                    save(run)  # the last step's, to resume from
    if len(run.evals) == evals_before:  # nothing to train (max_iters reached already): where the model stands
        with outside_training():
            evaluate_and_save(run)

    # the end of the run: metrics.json (rank 0), once every rank is done
    metrics = runlog.run_metrics(run, clock, run.iter_num - start_iter, flops_per_token, peak)
    if world.is_master and run.writes:
        write_json(run.out_dir / "metrics.json", metrics)
    distributed.barrier(world)  # the ranks finish together: rank 0's files are written, no message in flight
    return metrics


def close(run: Run) -> None:
    """Leave torchrun's process group (a no-op for one process); close the logs."""
    run.json_log.close()
    run.wandb.close()
    run.model = run.raw_model  # drop the DDP wrapper: its reducer holds on to the process group
    gc.collect()  # and free it now (it sits in reference cycles), not at interpreter exit after the group is gone
    distributed.close(run.world)
