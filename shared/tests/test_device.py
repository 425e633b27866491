"""zero_to_hero.device on a CPU machine (CUDA paths are exercised by the packages' GPU tests)."""

import random

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
