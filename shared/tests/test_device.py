"""zero_to_hero.device on a CPU machine (CUDA paths are exercised by the packages' GPU tests)."""

import os
import random
import time

import numpy as np
import pytest
import torch

from zero_to_hero import UserError
from zero_to_hero.device import autocast, default_dtype, grad_scaler, parse_dtype, pick_device, seed_everything


def test_auto_picks_the_best_available():
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device("auto").type == expected
    assert pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_is_a_clear_error():
    with pytest.raises(UserError, match="CUDA is not available"):
        pick_device("cuda")
    with pytest.raises(UserError, match="CUDA is not available"):
        pick_device("cuda:1")


def test_unknown_device():
    with pytest.raises(UserError, match="unknown device 'tpu'; choose one of auto, cpu, cuda, mps"):
        pick_device("tpu")


def test_cpu_precision_is_fp32_without_scaling():
    cpu = torch.device("cpu")
    assert default_dtype(cpu) == torch.float32
    assert parse_dtype("auto", cpu) == torch.float32
    assert parse_dtype("bfloat16", cpu) == torch.bfloat16
    with pytest.raises(UserError, match="unknown dtype 'fp8'"):
        parse_dtype("fp8", cpu)
    assert not grad_scaler(cpu, torch.float32).is_enabled()
    x = torch.randn(4, 4)
    with autocast(cpu, torch.float32):
        assert (x @ x).dtype == torch.float32
    with autocast(cpu, torch.bfloat16):
        assert (x @ x).dtype == torch.bfloat16


def test_seeding_is_reproducible():
    def draw():
        g = seed_everything(123)
        return random.random(), np.random.rand(), torch.rand(3).tolist(), torch.rand(2, generator=g).tolist()

    assert draw() == draw()
    first = draw()
    seed_everything(124)
    assert torch.rand(3).tolist() != first[2]


def test_auto_threads_leave_the_busy_cores_alone(monkeypatch):
    from zero_to_hero import device

    monkeypatch.setattr(device.os, "cpu_count", lambda: 8)
    for busy, expected in [(0.0, 8), (0.3, 8), (0.6, 7), (2.4, 6), (7.9, 1), (30.0, 1)]:
        monkeypatch.setattr(device, "busy_cores", lambda busy=busy: busy)
        assert device.idle_cores() == expected
    # no /proc/stat: the load average; no load average either: every core
    monkeypatch.setattr(device, "busy_cores", lambda: None)
    monkeypatch.setattr(device.os, "getloadavg", lambda: (2.4, 1.0, 1.0))
    assert device.idle_cores() == 6

    def no_loadavg():
        raise OSError("no load average here")

    monkeypatch.setattr(device.os, "getloadavg", no_loadavg)
    assert device.idle_cores() == 8


def test_busy_cores_sees_a_busy_process():
    import subprocess
    import sys

    from zero_to_hero.device import busy_cores

    idle = busy_cores(0.5)
    assert idle is not None or not os.path.exists("/proc/stat")  # measured wherever Linux can tell
    if idle is None:
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        busy = busy_cores(0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy - idle > 0.6  # one more core busy (the rest of the machine may be busy too)


def test_set_threads_takes_auto_or_a_positive_number():
    import torch

    from zero_to_hero import UserError
    from zero_to_hero.device import parse_threads, set_threads

    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
        assert set_threads("2") == 2 and torch.get_num_threads() == 2
        assert 1 <= set_threads("auto") <= (os.cpu_count() or 1)
        assert parse_threads(None) is None and parse_threads(" AUTO ") >= 1
        for bad in (0, -1, "two", "1.5", ""):
            with pytest.raises(UserError, match="threads must be 'auto' or a whole number >= 1"):
                parse_threads(bad)
    finally:
        torch.set_num_threads(before)
