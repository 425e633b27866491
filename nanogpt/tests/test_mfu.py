import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from nanogpt.mfu import lookup_peak_flops, mfu, peak_flops, training_flops_per_token
from nanogpt.model import GPT, GPTConfig


def test_flops_per_token_matches_torch_flop_counter():
    # the explicit attention path runs as plain matmuls, which torch's counter counts one by one
    config = GPTConfig(vocab_size=256, block_size=64, n_layer=3, n_head=4, n_embd=64)
    model = GPT(config)
    model.set_attention(False)
    idx = torch.randint(0, 256, (2, 64))
    with FlopCounterMode(display=False) as counter:
        _, loss = model(idx, idx)
        loss.backward()
    ours = training_flops_per_token(model.num_params(), config.n_layer, config.n_embd, config.block_size) * idx.numel()
    # ours also counts the LayerNorm gains as if they were matmul weights: 0.2% here
    assert ours == pytest.approx(counter.get_total_flops(), rel=5e-3)


def test_gpt2_124m_figures_match_the_issue():
    # nanoGPT's bench: 28.4 ms/iter at batch 12, block 1024 is "about 369 TFLOPS, 37% of an H100's 989"
    model = GPT(GPTConfig(vocab_size=50304, block_size=1024, n_layer=12, n_head=12, n_embd=768))
    per_token = training_flops_per_token(model.num_params(), 12, 768, 1024)
    tokens_per_sec = 12 * 1024 / 0.0284
    assert tokens_per_sec * per_token == pytest.approx(369e12, rel=0.01)
    assert mfu(tokens_per_sec, per_token, lookup_peak_flops("NVIDIA H100 80GB HBM3")) == pytest.approx(0.37, abs=0.01)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("NVIDIA H100 80GB HBM3", 989e12),
        ("NVIDIA H100 PCIe", 756e12),
        ("NVIDIA H100 NVL", 835e12),
        ("NVIDIA H200", 989e12),
        ("NVIDIA A100-SXM4-40GB", 312e12),
        ("NVIDIA L4", 121e12),
        ("NVIDIA L40S", 362e12),
        ("Tesla T4", 65e12),
        ("NVIDIA GeForce GTX 1080", None),
    ],
)
def test_peak_table_by_device_name(name, expected):
    assert lookup_peak_flops(name) == expected


def test_peak_override_and_cpu():
    assert peak_flops("cpu") is None and mfu(1e6, 1e6, None) is None
    assert peak_flops("cpu", override=2e12) == 2e12
    assert mfu(1000.0, 1e9, 2e12) == pytest.approx(0.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_this_gpu_is_in_the_table():
    assert peak_flops("cuda") is not None, torch.cuda.get_device_name()
