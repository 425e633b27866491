"""The GPU check: everything a CUDA machine must confirm, in one command, in about 8 minutes on an H100/H200.

    cd nanogpt && python -m nanogpt.gpu_check --data=../../shared/data     # on one CUDA GPU
    python -m nanogpt.gpu_check --dry_run                                   # the plan, nothing run
    python -m nanogpt.gpu_check --smoke                                     # every check, tiny, on the CPU

Needs torch and this package only (pytest optional: the CUDA-marked tests run when it is installed) and the
data folder (`--data`, the course mirror: tinyshakespeare.txt, hellaswag_val_full.txt). Checks, in order:

  1. tests      pytest tests/test_cuda.py tests/test_gpu_paths.py (skipped without pytest)
  2. char       configs/shakespeare_char.py: seconds from launch to the first val loss <= 1.47
  3. bench      bench.py on GPT-2 124M, synthetic tokens, micro-batch 16 x 1024: ms/iter, tokens/s, MFU
  4. resume     a tiny dropout model trained 20 steps vs 10 + resume 10 on CUDA: the same losses
  5. nccl       torchrun --nproc_per_node=1 (NCCL, device_id): trains and exits cleanly
  6. generate   bench.py --generate (KV cache vs none, bf16 speed, tokens compared in fp32)
  7. memory     GPT-2 124M micro-batch 64 x 1024 (the recipe's): peak memory, fits in 80 GB or not

It prints a summary table (check, result, seconds) and writes it to --out_dir/gpu_check.json.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from zero_to_hero import UserError, run_main
from zero_to_hero.files import prepare_out_dir, write_json

ROOT = Path(__file__).resolve().parents[1]  # nanogpt/ (train.py, bench.py, configs/, tests/)
TINY = ["--n_layer=2", "--n_head=2", "--n_embd=32", "--block_size=32", "--batch_size=8", "--compile=false"]


def run(command, timeout, env=None, cwd=ROOT):
    """(return code, stdout + stderr, seconds); a timeout is return code 124."""
    start = time.perf_counter()
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **(env or {}),
    }
    try:
        done = subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout + done.stderr, time.perf_counter() - start
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return 124, out, time.perf_counter() - start


def first_val_below(output: str, target: float, launch_seconds: list) -> tuple[float | None, int | None]:
    """(seconds from launch, iteration) of the first 'eval iter N: ... val loss X' with X <= target."""
    for line, seconds in zip(output.splitlines(), launch_seconds, strict=False):
        match = re.search(r"eval iter (\d+): train loss [\d.]+, val loss ([\d.]+)", line)
        if match and float(match.group(2)) <= target:
            return seconds, int(match.group(1))
    return None, None


def timed_lines(command, timeout, stop, env=None):
    """Run `command`, timestamping each output line from launch; stop it once `stop(line)` holds."""
    start = time.perf_counter()
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **(env or {}),
    }
    proc = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, stamps = [], []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            stamps.append(time.perf_counter() - start)
            if stop(line) or time.perf_counter() - start > timeout:
                break
    finally:
        proc.kill()
        proc.wait()
    return "\n".join(lines), stamps


class Check:
    def __init__(self, args):
        self.args, self.smoke = args, args.smoke
        self.device = "cpu" if args.smoke else "cuda"
        self.out = Path(args.out_dir)
        self.python = sys.executable
        self.env = {"ZERO_TO_HERO_MIRROR": str(Path(args.data).resolve())} if args.data else {}

    def tests(self):
        try:
            import pytest  # noqa: F401
        except ImportError:
            return "skipped: pytest is not installed"
        code, out, _ = run([self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cuda.py",
                            "tests/test_gpu_paths.py"], 300, self.env)  # fmt: skip
        summary = out.strip().splitlines()[-1] if out.strip() else "no output"
        return ("PASS " if code == 0 else "FAIL ") + summary

    def char(self):
        config = ["configs/shakespeare_char.py", f"--device={self.device}", f"--out_dir={self.out / 'char'}"]
        config += ["--eval_interval=50", "--eval_iters=20", "--log_interval=50", "--overwrite=true"]  # a rerun
        target = 1.47
        if self.smoke:
            config += [*TINY, "--max_iters=20", "--eval_interval=10", "--dropout=0"]
            target = 99.0
        pattern = re.compile(r"val loss ([\d.]+)")

        def reached(line):
            match = pattern.search(line)
            return bool(match) and float(match.group(1)) <= target

        output, stamps = timed_lines([self.python, "train.py", *config], 240, reached, self.env)
        seconds, iteration = first_val_below(output, target, stamps)
        if seconds is None:
            return f"FAIL: val <= {target} not reached (last lines: {output.splitlines()[-2:]})"
        verdict = "PASS" if seconds <= 40 or self.smoke else "SLOW"
        return f"{verdict}: val <= {target} at iter {iteration}, {seconds:.1f} s from launch (target 40 s)"

    def bench(self):
        args = ["configs/gpt2.py", "--synthetic", f"--device={self.device}", "--gradient_accumulation_steps=1"]
        args += ["--batch_size=16", "--iters=10", "--rounds=3", "--warmup=5", f"--json={self.out / 'bench.json'}"]
        if self.smoke:
            args = ["--synthetic", "--device=cpu", *TINY, "--iters=2", "--rounds=1", "--warmup=1"]
            args += [f"--json={self.out / 'bench.json'}"]
        code, out, _ = run([self.python, "bench.py", *args], 400, self.env)
        if code:
            return f"FAIL (exit {code}): {out.strip().splitlines()[-1:]}"
        result = json.loads((self.out / "bench.json").read_text())["nanogpt"]
        mfu = f", MFU {result['mfu']:.1%}" if result.get("mfu") else ""
        return f"{result['ms_per_iter']} ms/iter, {result['tokens_per_sec']:,} tokens/s, {result['tflops']} TFLOPS{mfu}"

    def resume(self):
        base = [self.python, "train.py", *TINY, f"--device={self.device}", "--dropout=0.1", "--lr_decay_iters=20"]
        base += ["--log_interval=5", "--eval_interval=10", "--eval_iters=2", "--always_save_checkpoint=true"]
        base += ["--overwrite=true"]  # a rerun of the check replaces its runs (the resume ignores it)
        whole, split = self.out / "resume-whole", self.out / "resume-split"
        results = [
            run([*base, "--max_iters=20", f"--out_dir={whole}"], 200, self.env),
            run([*base, "--max_iters=10", f"--out_dir={split}"], 200, self.env),
            run([*base, "--max_iters=20", f"--out_dir={split}", "--init_from=resume"], 200, self.env),
        ]
        if any(code for code, _, _ in results):
            return f"FAIL: {[r[1].strip().splitlines()[-1:] for r in results if r[0]]}"

        def losses(folder):
            records = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
            return [(r["step"], r.get("loss", r.get("val_loss"))) for r in records if r["type"] in ("train", "eval")]

        same = losses(whole) == losses(split)
        return ("PASS: " if same else "FAIL: ") + f"20 steps vs 10 + resume 10, losses equal: {same}"

    def nccl(self):
        launcher = [self.python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1"]
        args = ["train.py", *TINY, f"--device={self.device}", "--max_iters=10", "--lr_decay_iters=10"]
        args += ["--eval_interval=10", "--eval_iters=2", f"--out_dir={self.out / 'nccl'}", "--overwrite=true"]
        code, out, seconds = run([*launcher, *args], 200, self.env)
        backend = "gloo" if self.smoke else "nccl"
        return ("PASS" if code == 0 else f"FAIL (exit {code})") + f": 1 rank, {backend}, {seconds:.1f} s"

    def generate(self):
        args = ["configs/shakespeare_char.py", "--generate", f"--device={self.device}", "--rounds=3"]
        if self.smoke:
            args = ["--generate", "--device=cpu", *TINY, "--rounds=1"]
        code, out, _ = run([self.python, "bench.py", *args], 200, self.env)
        line = next((line for line in out.splitlines() if line.startswith("KV cache")), out.strip()[-200:])
        return ("" if code == 0 else f"FAIL (exit {code}): ") + line

    def memory(self):
        size = "1, 64" if self.smoke else "64, 1024"
        code = f"""
import torch
from nanogpt.config import load_config
from nanogpt.shards import write_synthetic_shards
from nanogpt.trainer import set_up, train_step
device = {self.device!r}
folder = write_synthetic_shards({str(self.out / "synthetic")!r}, 50257)["train"][0].parent
batch, block = {size}
over = dict(dataset=str(folder), device=device, batch_size=batch, block_size=block, gradient_accumulation_steps=1,
            compile={not self.smoke}, out_dir={str(self.out / "memory")!r})
if device == "cpu":
    over.update(n_layer=1, n_head=2, n_embd=32)
run = set_up(load_config("configs/gpt2.py", over), log=lambda *a: None)
try:
    for _ in range(2):
        train_step(run, 1e-4).item()
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else 0.0
    print(f"FITS peak {{peak:.1f}} GiB")
except torch.OutOfMemoryError:
    print("OOM")
"""
        rc, out, _ = run([self.python, "-c", code], 300, self.env)
        line = next((line for line in out.splitlines() if line.startswith(("FITS", "OOM"))), None)
        if line is None:
            return f"FAIL (exit {rc}): {out.strip().splitlines()[-1:]}"
        if line == "OOM":
            return "micro-batch 64 x 1024 does not fit on this GPU"
        peak = float(line.split()[2])
        verdict = "fits in 80 GB" if peak <= 80 else "needs more than 80 GB"
        return f"micro-batch {size.replace(', ', ' x ')}: peak {peak:.1f} GiB allocated ({verdict})"


PLAN = dict(re.findall(r"^  \d\. (\w+) +(.*)$", __doc__, flags=re.MULTILINE))  # the numbered list above
CHECKS = list(PLAN)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent.parent / "shared" / "data"), help="the data mirror")
    parser.add_argument("--out_dir", default="out/gpu_check", help="where runs, bench.json and gpu_check.json go")
    parser.add_argument("--only", default=",".join(CHECKS), help=f"comma-separated subset of {','.join(CHECKS)}")
    parser.add_argument("--dry_run", action="store_true", help="print the plan and exit")
    parser.add_argument("--smoke", action="store_true", help="every check at a tiny scale on the CPU")
    args = parser.parse_args(argv)
    chosen = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = sorted(set(chosen) - set(CHECKS))
    if unknown:
        raise UserError(f"unknown checks {', '.join(unknown)}; choose from {', '.join(CHECKS)}")
    if not chosen:  # `--only=` would run nothing and exit 0, as if every check had passed
        raise UserError(f"--only names no check; choose from {', '.join(CHECKS)} (or leave --only out: all)")
    if len(set(chosen)) != len(chosen):
        twice = sorted({c for c in chosen if chosen.count(c) > 1})
        raise UserError(f"--only names {', '.join(twice)} more than once; name each check once")
    if args.dry_run:
        for name in chosen:
            print(f"{name:>9}: {PLAN[name]}")
        return
    import torch

    if not args.smoke and not torch.cuda.is_available():
        raise UserError("no CUDA GPU here; run it on a GPU machine (or --smoke to try every check on the CPU)")
    if args.data and not Path(args.data).is_dir():
        raise UserError(f"data folder {args.data} not found; point --data at the course mirror (shared/data)")
    prepare_out_dir(args.out_dir, "--out_dir")  # a bad folder found after 8 minutes would cost the figures
    device = "cpu (smoke)" if args.smoke else torch.cuda.get_device_name()
    print(f"gpu_check on {device}, torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    check, rows = Check(args), []
    for name in chosen:
        start = time.perf_counter()
        try:
            result = getattr(check, name)()
        except Exception as e:  # one broken check must not hide the others' figures
            result = f"ERROR {type(e).__name__}: {e}"
        rows.append({"check": name, "result": result, "seconds": round(time.perf_counter() - start, 1)})
        print(f"{name:>9} | {result} | {rows[-1]['seconds']} s", flush=True)
    summary = {"device": device, "torch": torch.__version__, "checks": rows}
    write_json(Path(args.out_dir) / "gpu_check.json", summary)
    print("\n| check | result | seconds |\n| --- | --- | --- |")
    for row in rows:
        print(f"| {row['check']} | {row['result']} | {row['seconds']} |")


if __name__ == "__main__":
    run_main(main)
