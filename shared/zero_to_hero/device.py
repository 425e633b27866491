"""Device choice, training precision and seeding — the few lines every train.py needs.

Usage:
    device = pick_device(args.device)             # "auto" -> cuda, then mps, then cpu
    dtype = default_dtype(device)                 # bf16 where supported, fp16 on older CUDA, else fp32
    with autocast(device, dtype): loss = model(x) # a no-op context for fp32
    scaler = grad_scaler(device, dtype)           # enabled only for fp16
    seed_everything(1337)
    threads_option(args.threads)                  # check a --threads value early: 'auto' or a number, nothing measured
    set_threads("auto")                           # torch's CPU threads: the cores no other process keeps busy
"""

import contextlib
import os
import random
import time

import torch

from zero_to_hero.errors import UserError

DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _mps_available() -> bool:
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def pick_device(name: str = "auto") -> torch.device:
    """`auto` is the best available device; asking for an unavailable one is a UserError."""
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise UserError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)} (or cuda:N)")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"device {name!r} asked for, but CUDA is not available here; use --device cpu or auto")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise UserError(f"device {name!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) exist")
    if kind == "mps" and not _mps_available():
        raise UserError("device 'mps' asked for, but MPS is not available here; use --device cpu or auto")
    return torch.device(name)


def default_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 on CUDA that supports it, float16 on older CUDA, float32 elsewhere."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def parse_dtype(name: str, device: torch.device) -> torch.dtype:
    """A dtype from its name ('auto' = default_dtype); one the device cannot train in is a UserError."""
    if name == "auto":
        return default_dtype(device)
    if name not in DTYPES:
        raise UserError(f"unknown dtype {name!r}; choose one of auto, {', '.join(DTYPES)}")
    dtype = DTYPES[name]
    if torch.device(device).type == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise UserError("this GPU does not support bfloat16; use dtype float16 (with grad scaling) or auto")
    return dtype


def autocast(device: torch.device, dtype: torch.dtype):
    """Mixed-precision context for the forward pass; a no-op for float32."""
    device = torch.device(device)
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device, dtype: torch.dtype) -> torch.amp.GradScaler:
    """Loss scaling guards fp16 gradients against underflow; bf16 and fp32 don't need it (disabled)."""
    device = torch.device(device)
    return torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (all devices); returns a CPU generator seeded the same."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def busy_cores(interval: float = 0.25) -> float | None:
    """How many cores other processes keep busy right now: the machine's CPU time over `interval` seconds, from
    /proc/stat (Linux), while this process sleeps. None where there is no /proc/stat."""

    def read() -> list[int]:
        with open("/proc/stat") as f:
            return [int(field) for field in f.readline().split()[1:]]

    try:
        before = read()
        time.sleep(interval)
        after = read()
    except (OSError, ValueError):
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8])  # user nice system idle iowait irq softirq steal (guest time is inside user)
    if total <= 0:
        return None
    return (1 - (delta[3] + delta[4]) / total) * (os.cpu_count() or 1)


def idle_cores() -> int:
    """Cores that no other process keeps busy: measured now where the system allows it (busy_cores), else by the
    1-minute load average, else all cores. The load average lags: right after another job ends it still counts it."""
    cores = os.cpu_count() or 1
    busy = busy_cores()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):  # Windows
            return cores
    return max(1, min(cores, cores - round(busy)))


def threads_option(value) -> int | str | None:
    """A --threads value checked, nothing measured: 'auto', a whole number >= 1, or None (None stays None);
    anything else is a UserError. resolve_threads turns it into a number."""
    if value is None:
        return None
    if str(value).strip().lower() == "auto":
        return "auto"
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise UserError(f"threads must be 'auto' or a whole number >= 1, got {value!r}")
    return threads


def resolve_threads(value) -> int | None:
    """The number of threads a --threads value means: 'auto' measures idle_cores() (a quarter of a second) once
    here, a number is itself, None stays None; a bad value is threads_option's UserError."""
    option = threads_option(value)
    return idle_cores() if option == "auto" else option


def set_threads(value="auto") -> int:
    """Set torch's CPU threads ('auto' or a number, see threads_option); returns the number set. 'auto' is
    measured here, once (resolve_threads).

    Why 'auto' and not all cores: torch's threads wait for each other at the end of every operation, so one
    thread that loses its core to another process stalls all of them. On a 2-core machine with one other busy
    process, training with 2 threads can run many times slower than with 1 (nanogpt's README has the table)."""
    threads = resolve_threads(value)
    torch.set_num_threads(threads)
    return threads
