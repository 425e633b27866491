"""zero_to_hero.device on a CPU machine (CUDA paths are exercised by the packages' GPU tests)."""

import os
import random

import numpy as np
import pytest
import torch

from zero_to_hero import UserError
from zero_to_hero.device import autocast, default_dtype, grad_scaler, parse_dtype, pick_device, seed_everything


@pytest.mark.parametrize(
    "cuda, mps, expected",
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    """Availability is faked, so every machine checks all four cases against the order written out here."""
    from zero_to_hero import device

    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(device, "_mps_available", lambda: mps)
    assert pick_device("auto") == torch.device(expected)
    assert pick_device("cpu") == torch.device("cpu")  # asked for by name: whatever else there is


def test_named_devices_are_checked_against_what_exists(monkeypatch):
    from zero_to_hero import device

    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(device.torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(device, "_mps_available", lambda: False)
    assert pick_device("cuda") == torch.device("cuda") and pick_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(UserError, match=r"device 'cuda:2' asked for, but only 2 CUDA device\(s\) exist"):
        pick_device("cuda:2")
    with pytest.raises(UserError, match="MPS is not available"):
        pick_device("mps")


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


def test_busy_cores_from_two_proc_stat_readings(monkeypatch):
    """The busy share of the CPU time between two /proc/stat readings, times the cores: here 300 of 400 jiffies
    were neither idle nor iowait, on 2 cores -> 1.5 busy cores. (Live, the answer depends on the rest of the
    machine, which a test cannot control: a spinner on a saturated machine adds nothing.)"""
    import io

    import zero_to_hero.device as device

    readings = iter(
        [
            "cpu  1000 0 500 2000 100 0 0 0 0 0\ncpu0 ...\n",
            # user +200, system +100, idle +80, iowait +20: 400 jiffies in all, 300 of them busy
            "cpu  1200 0 600 2080 120 0 0 0 0 0\ncpu0 ...\n",
        ]
    )
    monkeypatch.setattr(device, "open", lambda path: io.StringIO(next(readings)), raising=False)
    monkeypatch.setattr(device.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(device.os, "cpu_count", lambda: 2)
    assert device.busy_cores() == pytest.approx(1.5)


def test_busy_cores_live_is_a_share_of_the_cores():
    from zero_to_hero.device import busy_cores

    busy = busy_cores(0.2)
    if not os.path.exists("/proc/stat"):
        assert busy is None
    else:
        assert 0.0 <= busy <= os.cpu_count()


def test_set_threads_takes_auto_or_a_positive_number():
    import torch

    from zero_to_hero import UserError
    from zero_to_hero.device import resolve_threads, set_threads

    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
        assert set_threads("2") == 2 and torch.get_num_threads() == 2
        assert 1 <= set_threads("auto") <= (os.cpu_count() or 1)
        assert resolve_threads(None) is None and resolve_threads(" AUTO ") >= 1
        for bad in (0, -1, "two", "1.5", ""):
            with pytest.raises(UserError, match="threads must be 'auto' or a whole number >= 1"):
                resolve_threads(bad)
    finally:
        torch.set_num_threads(before)


def test_threads_option_checks_without_measuring_and_resolve_measures_once(monkeypatch):
    from zero_to_hero import device

    measured = []
    monkeypatch.setattr(device, "idle_cores", lambda: measured.append(1) or 3)
    assert [device.threads_option(v) for v in ("auto", " Auto ", "4", 2, None)] == ["auto", "auto", 4, 2, None]
    assert measured == []  # checking a value measures nothing
    for bad in (0, "-1", "two", "1.5", ""):
        with pytest.raises(UserError, match="threads must be 'auto' or a whole number >= 1"):
            device.threads_option(bad)
    assert device.resolve_threads("auto") == 3 and measured == [1]  # one measurement per resolve
    assert device.resolve_threads("2") == 2 and device.resolve_threads(None) is None and measured == [1]
    before = torch.get_num_threads()
    try:
        assert device.set_threads("auto") == 3 and torch.get_num_threads() == 3 and measured == [1, 1]
    finally:
        torch.set_num_threads(before)
