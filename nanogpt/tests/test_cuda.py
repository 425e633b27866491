"""The CUDA path: mixed precision, grad scaling, compile, pinned non-blocking batches. Skipped without a GPU."""

import pytest
import torch

from nanogpt.trainer import evaluate, set_up, train, train_step

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
silent = dict(log=lambda *a: None)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
def test_training_on_cuda_lowers_the_loss(tiny_config, dtype):
    if dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    trainer = set_up(tiny_config(device="cuda", dtype=dtype, max_iters=60, lr_decay_iters=60), **silent)
    assert trainer.scaler.is_enabled() == (dtype == "float16")  # loss scaling only where fp16 needs it
    assert torch.backends.cuda.matmul.fp32_precision == "tf32"
    initial = evaluate(trainer)["val"]
    metrics = train(trainer)
    assert metrics["val_loss"] < initial - 0.8 and metrics["device"] == "cuda"
    assert metrics["mfu"] is not None and 0 < metrics["mfu"] < 1


def test_batches_arrive_on_the_gpu_equal_to_the_cpu_ones(tiny_config):
    gpu = set_up(tiny_config(device="cuda"), **silent).train_batches
    cpu = set_up(tiny_config(device="cpu", out_dir="unused"), **silent).train_batches
    for _ in range(3):
        (x, y), (x_cpu, y_cpu) = gpu.next(), cpu.next()
        assert x.is_cuda and torch.equal(x.cpu(), x_cpu) and torch.equal(y.cpu(), y_cpu)


def test_compiled_model_trains_like_the_eager_one(tiny_config):
    eager = set_up(tiny_config(device="cuda", dtype="float32", out_dir="unused-a"), **silent)
    compiled = set_up(tiny_config(device="cuda", dtype="float32", compile=True, out_dir="unused-b"), **silent)
    for _ in range(3):
        torch.testing.assert_close(train_step(compiled, 1e-2), train_step(eager, 1e-2), rtol=1e-3, atol=1e-3)
