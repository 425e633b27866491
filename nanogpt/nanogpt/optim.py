"""The optimizer and its schedule: AdamW with weight decay on matrices only, linear warmup then a cosine.

optimizer = configure_optimizer(model, cfg, device)
for group in optimizer.param_groups: group["lr"] = lr_at(step, cfg)
"""

import inspect
import math

import torch

from nanogpt.config import TrainConfig


def lr_at(it: int, cfg: TrainConfig) -> float:
    """Linear warmup for warmup_iters steps, then a cosine from learning_rate down to min_lr at lr_decay_iters."""
    if not cfg.decay_lr:
        return cfg.learning_rate * min(1.0, (it + 1) / max(cfg.warmup_iters, 1))
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / cfg.warmup_iters
    if it >= cfg.lr_decay_iters:
        return cfg.min_lr
    progress = (it - cfg.warmup_iters) / max(cfg.lr_decay_iters - cfg.warmup_iters, 1)  # 0 -> 1
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.learning_rate - cfg.min_lr)


def configure_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices (linear weights, token embedding) only: decaying gains, biases
    and position embeddings toward zero only hurts."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and not name.endswith("wpe.weight") else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    # one fused kernel for the whole update (CPU and CUDA, torch >= 2.4) instead of a dozen ops per tensor
    fused = "fused" in inspect.signature(torch.optim.AdamW).parameters and device.type in ("cpu", "cuda")
    kwargs = {"fused": True} if fused else {"foreach": True}
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), **kwargs)
