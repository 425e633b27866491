"""The optimizer and its schedule: AdamW with weight decay on matrices only (or Muon for the hidden matrices,
see muon.py), linear warmup then a cosine (or, decay_lr=False, nanoGPT's constant learning_rate), and the
gradient clipping of each step.

optimizer = configure_optimizer(model, cfg, device)
for group in optimizer.param_groups: group["lr"] = lr_at(step, cfg) * group.get("lr_scale", 1.0)
norm = grad_norm_and_clip(parameters, cfg.grad_clip)
"""

import inspect
import math

import torch

from nanogpt.config import TrainConfig
from nanogpt.muon import Muon, is_hidden_matrix


def lr_at(it: int, cfg: TrainConfig) -> float:
    """Linear warmup for warmup_iters steps, then a cosine from learning_rate down to min_lr at lr_decay_iters.
    decay_lr=False: the constant learning_rate from the first step, no warmup (nanoGPT's get_lr is not called
    then: its finetune_shakespeare.py trains at learning_rate throughout)."""
    if not cfg.decay_lr:
        return cfg.learning_rate
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / cfg.warmup_iters
    if it >= cfg.lr_decay_iters:
        return cfg.min_lr
    progress = (it - cfg.warmup_iters) / max(cfg.lr_decay_iters - cfg.warmup_iters, 1)  # 0 -> 1
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.learning_rate - cfg.min_lr)


def configure_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices (linear weights, token embedding) only: decaying gains, biases
    and position embeddings toward zero only hurts. optimizer=muon: the blocks' matrices go to Muon instead,
    at muon_lr (lr_scale = muon_lr / learning_rate: the schedule's multiple), without weight decay."""
    decay, no_decay, hidden = [], [], []
    for name, p in model.named_parameters():
        if cfg.optimizer == "muon" and is_hidden_matrix(name, p):
            hidden.append(p)
        else:
            (decay if p.dim() >= 2 and not name.endswith("wpe.weight") else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "muon":
        scale = cfg.muon_lr / cfg.learning_rate
        groups.append({"params": hidden, "muon": True, "weight_decay": 0.0, "lr_scale": scale})
        return Muon(groups, lr=cfg.learning_rate, momentum=cfg.muon_momentum, betas=(cfg.beta1, cfg.beta2))
    # one fused kernel for the whole update (CPU and CUDA, torch >= 2.4) instead of a dozen ops per tensor
    fused = "fused" in inspect.signature(torch.optim.AdamW).parameters and device.type in ("cpu", "cuda")
    kwargs = {"fused": True} if fused else {"foreach": True}
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), **kwargs)


def grad_norm_and_clip(parameters, max_norm: float) -> torch.Tensor:
    """The global gradient norm before clipping (a tensor: no host sync); clips to max_norm when > 0."""
    if max_norm > 0:
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm, foreach=True)
    grads = [p.grad for p in parameters if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads, foreach=True)
