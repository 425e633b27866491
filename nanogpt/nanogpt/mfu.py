"""Model FLOPs utilization: what fraction of the GPU's peak our training actually uses.

    per_token = model_flops_per_token(model)          # training_flops_per_token(N, n_layer, n_embd, block_size)
    peak = peak_flops(device)                           # from the table below, None if unknown
    utilization = mfu(tokens_per_sec, per_token, peak)  # e.g. 0.41 (the trainer's progress lines, bench.py)

The count is the PaLM paper's (appendix B), which nanoGPT uses too, so our figures compare with
its: every weight does one multiply-add per token forward (2 FLOPs) and two backward (4 FLOPs),
hence 6 N; attention adds q @ k^T and att @ v, 2 * 2 * T * C per layer forward, times 3 for
training, counted over the full T x T square as is the custom (the causal half is not subtracted).
"""

import re

import torch

from nanogpt.model import GPT

# Dense (no sparsity) bf16/fp16 tensor-core peak, FLOP/s, from the vendors' data sheets.
# Matched against torch.cuda.get_device_name() in order: the first pattern that matches wins.
PEAK_FLOPS = [
    (r"H100.*PCIe", 756e12),
    (r"H100.*NVL", 835e12),
    (r"H200.*NVL", 835e12),  # the PCIe card: H100 NVL's clocks
    (r"H800.*PCIe", 756e12),
    (r"H100|H200|H800|GH200", 989e12),  # SXM; H200 has H100's compute with faster, larger memory
    (r"H20\b", 148e12),
    (r"B200", 2250e12),
    (r"A100|A800", 312e12),  # SXM4 and PCIe, 40 and 80 GB: the same tensor cores and clocks' peak
    (r"\bA10G\b", 70e12),
    (r"\bA10\b", 125e12),
    (r"L40S", 362e12),
    (r"\bL4\b", 121e12),
    (r"V100", 125e12),  # fp16: V100 has no bf16
    (r"\bT4\b", 65e12),  # fp16
]


def training_flops_per_token(n_params: int, n_layer: int, n_embd: int, block_size: int) -> float:
    """FLOPs of one forward + backward per token: 6 per weight, plus attention's 12 * L * C * T."""
    return 6 * n_params + 12 * n_layer * n_embd * block_size


def model_flops_per_token(model: torch.nn.Module) -> float:
    """training_flops_per_token of a GPT, from its own non-embedding parameter count and shapes; 0 for the
    bigram table (no matmul to speak of: its MFU is not worth quoting)."""
    if not isinstance(model, GPT):
        return 0.0
    config = model.config
    return training_flops_per_token(model.num_params(), config.n_layer, config.n_embd, config.block_size)


def peak_flops(device, override: float = 0.0) -> float | None:
    """The device's dense bf16 peak (FLOP/s): `override` if given, else the table; None where unknown (CPUs)."""
    if override > 0:
        return override
    device = torch.device(device)
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return lookup_peak_flops(name)


def lookup_peak_flops(device_name: str) -> float | None:
    for pattern, flops in PEAK_FLOPS:
        if re.search(pattern, device_name):
            return flops
    return None


def mfu(tokens_per_sec: float, flops_per_token: float, peak: float | None) -> float | None:
    """Achieved FLOP/s over peak FLOP/s (None without a peak to compare with)."""
    return tokens_per_sec * flops_per_token / peak if peak else None
