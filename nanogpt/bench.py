"""Training throughput: our train step against a plain PyTorch loop, alternating in one process.

    python bench.py                                  # the CPU config (4 layers, 128 wide, block 64, batch 12)
    python bench.py configs/shakespeare_char.py --device=cuda --no-peer
    python bench.py --threads=1 --profile            # where the time goes
    python bench.py configs/gpt2.py --synthetic --batch_size=16 --gradient_accumulation_steps=1   # GPT-2, no corpus
    python bench.py --generate                       # sampling tokens/s with and without the KV cache

The plain loop is what one writes first: the same GPT, torch.optim.AdamW with its defaults, a batch
built by re-opening the memmap and stacking B slices, zero_grad(). Both run on the same data and
config; each round times `--iters` steps of each, and the median round is reported. Evaluation is
never timed. With a known GPU (or --peak_flops) each line also gives the model FLOPs utilization.
"""

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from nanogpt.config import add_config_arguments, config_from_args
from nanogpt.mfu import mfu, model_flops_per_token, peak_flops
from nanogpt.model import GPT, GPTConfig
from nanogpt.optim import lr_at
from nanogpt.runlog import format_params
from nanogpt.shards import VOCAB_SIZE, write_synthetic_shards
from nanogpt.trainer import Run, set_up, train_step
from zero_to_hero import UserError, run_main
from zero_to_hero.device import autocast
from zero_to_hero.files import prepare_out_dir, write_json

CONFIGS = Path(__file__).parent / "configs"


class PlainLoop:
    """The textbook loop, for comparison (not used for training)."""

    def __init__(self, run: Run):
        cfg = run.cfg
        torch.manual_seed(cfg.seed)
        self.model = GPT(GPTConfig(**run.model_args)).to(run.device)
        self.model.load_state_dict(run.raw_model.state_dict())
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay
        )
        self.cfg, self.device = cfg, run.device
        self.path = str(Path(cfg.data_dir) / f"{Path(cfg.dataset).stem}-{cfg.encoding}" / "train.bin")

    def get_batch(self):
        data = np.memmap(self.path, dtype=np.uint16, mode="r")
        T = self.cfg.block_size
        ix = torch.randint(len(data) - T, (self.cfg.batch_size,))
        x = torch.stack([torch.from_numpy(data[i : i + T].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1 : i + 1 + T].astype(np.int64)) for i in ix])
        return x.to(self.device), y.to(self.device)

    def train_step(self, lr):
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        x, y = self.get_batch()
        _, loss = self.model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss


def time_steps(step, iters: int, device) -> float:
    """Seconds per step over `iters` steps (synchronized at the end on CUDA)."""
    start = time.perf_counter()
    for _ in range(iters):
        loss = step(lr=1e-3)
    loss.item()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters


def first_divergence(a: torch.Tensor, b: torch.Tensor) -> int | None:
    """The first position where two (1, T) token sequences differ, or None if they are equal."""
    differs = (a != b).flatten().nonzero()
    return int(differs[0]) if len(differs) else None


def time_generation(run: Run, rounds: int) -> dict:
    """Greedy generation of block_size - 1 tokens from one, with and without the KV cache, timed in the
    run's dtype. The tokens are compared in float32: under bf16 autocast the two ways round differently,
    and a near-tie between two tokens may flip, which says nothing about the cache."""
    model, device = run.raw_model.eval(), run.device
    idx = torch.zeros((1, 1), dtype=torch.long, device=device)
    new_tokens = model.config.block_size - 1
    results, outputs = {}, {}
    for use_cache in (True, False):
        seconds = []
        for _ in range(rounds + 1):  # the first round warms up
            start = time.perf_counter()
            with autocast(device, run.dtype):
                outputs[use_cache] = model.generate(idx, new_tokens, temperature=0, use_cache=use_cache)
            outputs[use_cache].tolist()  # waits for the GPU
            seconds.append(time.perf_counter() - start)
        results["kv_cache" if use_cache else "no_cache"] = round(new_tokens / statistics.median(seconds[1:]), 1)
    fp32 = [model.generate(idx, new_tokens, temperature=0, use_cache=use_cache) for use_cache in (True, False)]
    return {
        "new_tokens": new_tokens,
        "tokens_per_sec": results,
        "first_divergence_fp32": first_divergence(*fp32),  # None: the same tokens
        "first_divergence_timed_dtype": first_divergence(outputs[True], outputs[False]),
    }


def check_args(args: argparse.Namespace) -> None:
    """Bad values and an unwritable --json end here, before the model is built."""
    for flag in ("iters", "rounds", "warmup"):
        if getattr(args, flag) < 1:
            raise UserError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if args.json:
        path = Path(args.json)
        if path.is_dir():
            raise UserError(f"--json {path} is a folder; give a file name")
        prepare_out_dir(path.parent, "--json's folder")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(parser)
    parser.add_argument("--iters", type=int, default=50, help="timed steps per round (per contender)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (allocator, caches, compile)")
    parser.add_argument("--masked", action="store_true", help="our model with the explicit masked-softmax attention")
    parser.add_argument("--no-peer", action="store_true", help="time only our train step")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's op table for our step")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--synthetic", action="store_true", help="random tokens instead of the config's dataset")
    parser.add_argument("--generate", action="store_true", help="time sampling with and without the KV cache")
    cfg, config_file, args = config_from_args(parser, argv, lambda device: CONFIGS / "shakespeare_char_cpu.py")
    check_args(args)
    cfg = dataclasses.replace(cfg, overwrite=True)  # bench writes no checkpoint: a trained out_dir is fine
    if args.synthetic:  # uniform random tokens: measures speed only, needs no corpus (the plain loop needs one)
        vocab_size = VOCAB_SIZE if cfg.encoding == "gpt2" else 65
        folder = write_synthetic_shards(Path(cfg.data_dir) / f"synthetic-{vocab_size}", vocab_size)["train"][0].parent
        cfg, args.no_peer = dataclasses.replace(cfg, dataset=str(folder)), True
    run = set_up(cfg, log=lambda *a: None)
    if args.masked:
        run.raw_model.set_attention(sdpa=False)
    if args.generate:
        results = time_generation(run, args.rounds)
        speeds = results["tokens_per_sec"]
        print(f"generate {results['new_tokens']} tokens, greedy, batch 1, {run.device}, {run.dtype}:")
        same = results["first_divergence_fp32"] is None
        check = (
            "the same tokens in fp32"
            if same
            else f"fp32 tokens differ from position {results['first_divergence_fp32']}"
        )
        if results["first_divergence_timed_dtype"] is not None:
            check += f"; in {run.dtype} they part at position {results['first_divergence_timed_dtype']} (near-ties)"
        print(f"KV cache {speeds['kv_cache']:,.0f} tokens/s, without {speeds['no_cache']:,.0f} tokens/s ({check})")
        if args.json:
            write_json(args.json, {"config": str(config_file), **results})
        return
    contenders = {"nanogpt": lambda lr: train_step(run, lr_at(100, cfg))}
    if not args.no_peer:
        contenders["plain loop"] = PlainLoop(run).train_step
    tokens = run.tokens_per_iter  # total_batch_size or batch x block x accumulation
    print(
        f"config {config_file}: {format_params(run.raw_model.num_params())} params, {tokens} tokens/iter, "
        f"{run.device}, {run.dtype}, compile={cfg.compile}, threads={torch.get_num_threads()}"
    )
    for step in contenders.values():
        time_steps(step, args.warmup, run.device)
    rounds = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, step in contenders.items():
            rounds[name].append(time_steps(step, args.iters, run.device))
    results = {}
    flops_per_token = model_flops_per_token(run.raw_model)
    peak = peak_flops(run.device, cfg.peak_flops)
    for name, seconds in rounds.items():
        ms = statistics.median(seconds) * 1000
        tokens_per_sec = tokens * 1000 / ms
        tflops = tokens_per_sec * flops_per_token / 1e12
        utilization = mfu(tokens_per_sec, flops_per_token, peak)
        results[name] = {"ms_per_iter": round(ms, 2), "tokens_per_sec": round(tokens_per_sec)}
        results[name].update(tflops=round(tflops, 2), mfu=round(utilization, 4) if peak else None)
        spread = f"{min(seconds) * 1000:.1f}-{max(seconds) * 1000:.1f}"
        shown = f", MFU {utilization:.1%}" if peak else ""
        print(
            f"{name:>10}: {ms:6.2f} ms/iter (rounds {spread}), {tokens_per_sec:,.0f} tokens/s, "
            f"{tflops:.3g} TFLOPS{shown}"
        )
    if "plain loop" in results:
        ratio = results["plain loop"]["ms_per_iter"] / results["nanogpt"]["ms_per_iter"]
        results["speedup_vs_plain_loop"] = round(ratio, 3)
        print(f"speedup over the plain loop: {ratio:.2f}x")
    if args.json:
        write_json(args.json, {"config": str(config_file), **results})
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            time_steps(contenders["nanogpt"], args.iters, run.device)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


if __name__ == "__main__":
    run_main(main)
