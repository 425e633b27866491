"""MFU against references: FLOPs counted by torch and from the model's own shapes, nanoGPT's published figure,
the vendors' data sheets."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from nanogpt.bigram import BigramLanguageModel
from nanogpt.mfu import lookup_peak_flops, mfu, model_flops_per_token, peak_flops
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
    # ours also counts the LayerNorm gains as if they were matmul weights: 0.2% here
    assert model_flops_per_token(model) * idx.numel() == pytest.approx(counter.get_total_flops(), rel=5e-3)


@pytest.mark.parametrize("bias", [False, True])
def test_flops_per_token_counted_from_the_shapes(bias):
    """6 FLOPs per weight (PaLM, appendix B) with the weights counted by hand from the architecture: per block
    q, k, v and the output projection (4 C^2), the MLP (8 C^2), two LayerNorms; the final LayerNorm; the token
    embedding, which is also the output head (tied); no position table. Plus attention: 12 C T per layer."""
    V, T, L, C = 100, 32, 3, 48
    model = GPT(GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=4, n_embd=C, bias=bias))
    per_block = 12 * C * C + 2 * C + (3 * C + C + 4 * C + C + 2 * C if bias else 0)  # weights (+ biases)
    final_norm = C + (C if bias else 0)
    weights = L * per_block + final_norm + V * C
    assert model_flops_per_token(model) == 6 * weights + 12 * L * C * T


def test_gpt2_124m_figures_match_nanogpt():
    # nanoGPT's bench: 28.4 ms/iter at batch 12, block 1024 is "about 369 TFLOPS, 37% of an H100's 989"
    model = GPT(GPTConfig(vocab_size=50304, block_size=1024, n_layer=12, n_head=12, n_embd=768))
    per_token = model_flops_per_token(model)
    tokens_per_sec = 12 * 1024 / 0.0284
    assert tokens_per_sec * per_token == pytest.approx(369e12, rel=0.01)
    assert mfu(tokens_per_sec, per_token, lookup_peak_flops("NVIDIA H100 80GB HBM3")) == pytest.approx(0.37, abs=0.01)


def test_the_bigram_table_has_no_flops_to_speak_of():
    assert model_flops_per_token(BigramLanguageModel(65)) == 0.0


# The data sheets quote bf16 (T4: fp16) tensor-core throughput "with sparsity", twice the dense figure MFU uses:
# NVIDIA H100 (SXM 1,979 TFLOPS, PCIe 1,513), H200 (SXM 1,979), A100 (624), L4 (242); T4 quotes 65 dense.
DATA_SHEET_SPARSE = {
    "NVIDIA H100 80GB HBM3": 1979e12,
    "NVIDIA H100 PCIe": 1513e12,
    "NVIDIA H200": 1979e12,
    "NVIDIA A100-SXM4-40GB": 624e12,
    "NVIDIA A100 80GB PCIe": 624e12,
    "NVIDIA L4": 242e12,
    "Tesla T4": 2 * 65e12,
}


@pytest.mark.parametrize("name", DATA_SHEET_SPARSE)
def test_a_gpu_name_gives_its_data_sheet_dense_peak(name):
    assert lookup_peak_flops(name) == pytest.approx(DATA_SHEET_SPARSE[name] / 2, rel=2e-3)


def test_the_first_matching_pattern_is_the_right_variant():
    """Names that contain another's: each must reach its own row, not the broader one listed after it."""
    peak = lookup_peak_flops
    assert peak("NVIDIA H100 PCIe") < peak("NVIDIA H100 NVL") < peak("NVIDIA H100 80GB HBM3")
    assert peak("NVIDIA H200 NVL") == peak("NVIDIA H100 NVL") and peak("NVIDIA H800 PCIe") == peak("NVIDIA H100 PCIe")
    assert peak("NVIDIA H800") == peak("NVIDIA GH200 480GB") == peak("NVIDIA H200") == peak("NVIDIA H100 80GB HBM3")
    assert peak("NVIDIA H20") < peak("NVIDIA A100-SXM4-80GB") < peak("NVIDIA H200")
    assert peak("NVIDIA A10G") < peak("NVIDIA A10") < peak("NVIDIA A100-PCIE-40GB") == peak("NVIDIA A800-SXM4-80GB")
    assert peak("NVIDIA L4") < peak("NVIDIA L40S")
    assert peak("NVIDIA GeForce GTX 1080") is None


def test_peak_override_and_cpu():
    assert peak_flops("cpu") is None and mfu(1e6, 1e6, None) is None
    assert peak_flops("cpu", override=2e12) == 2e12
    assert mfu(1000.0, 1e9, 2e12) == pytest.approx(0.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_this_gpu_is_in_the_table():
    assert peak_flops("cuda") is not None, torch.cuda.get_device_name()
