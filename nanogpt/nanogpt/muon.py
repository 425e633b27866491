"""Muon (Keller Jordan et al. 2024, modded-nanogpt): momentum, then orthogonalize the update of each hidden matrix.

    optimizer = Muon([{"params": matrices, "muon": True, "lr": 0.02},
                      {"params": the_rest, "muon": False, "lr": 2e-3, "weight_decay": 0.0}])

SGD or Adam move a weight matrix mostly along the few directions its gradient is largest in. Muon replaces the
(momentum-averaged) gradient G = U S V^T of a 2-D weight by its nearest orthogonal matrix U V^T: every direction
of the update gets the same size, the rare ones as much as the dominant ones. U V^T is computed without an SVD, by
a few steps of a Newton-Schulz iteration (matrix products only, fast on any hardware).

Muon is for the hidden matrices only: the embeddings, the output head and the gains (1-D) use AdamW, in the same
optimizer (groups with muon=False), so that one optimizer's state_dict, GradScaler and the training loop work as for
AdamW. Under DDP the gradients are already averaged over the ranks when step() runs, so nothing else is needed.
"""

import torch

# the quintic's coefficients, tuned by Keller Jordan to push every singular value into ~[0.7, 1.2] in 5 steps
# (converging to exactly 1 is slower and does not train better)
QUINTIC = (3.4445, -4.7750, 2.0315)


def orthogonalize(G: torch.Tensor, steps: int = 5, coefficients=QUINTIC, eps: float = 1e-7) -> torch.Tensor:
    """~U V^T of G = U S V^T (2-D, or a stack of same-shaped matrices (..., m, n)) by `steps` of
    X <- a X + b (X X^T) X + c (X X^T)^2 X: an odd polynomial p(X) = U p(S) V^T acts on the singular values
    only, and p applied again and again drives each one, once scaled into (0, 1] (divide by the Frobenius norm,
    which is >= the largest), towards ~1. With coefficients (1.5, -0.5, 0) this is the classic cubic
    Newton-Schulz iteration, which converges to U V^T. On a GPU it runs in bfloat16 (modded-nanogpt)."""
    a, b, c = coefficients
    dtype = torch.bfloat16 if G.is_cuda else torch.float32
    X = (G / (G.norm(dim=(-2, -1), keepdim=True) + eps)).to(dtype)
    tall = X.size(-2) > X.size(-1)
    if tall:  # iterate on the wide side: X X^T is then the smaller square
        X = X.mT
    for _ in range(steps):
        A = X @ X.mT
        X = a * X + (b * A + c * A @ A) @ X
    return (X.mT if tall else X).to(G.dtype)


class Muon(torch.optim.Optimizer):
    """Muon for the groups with muon=True (2-D parameters), AdamW for the others. Group keys: lr,
    weight_decay (decoupled, both kinds), momentum and nesterov (Muon), betas and eps (AdamW)."""

    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, betas=(0.9, 0.95), eps=1e-8,
                 weight_decay=0.0):  # fmt: skip
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, betas=betas, eps=eps)
        super().__init__(params, dict(defaults, weight_decay=weight_decay, muon=False))
        for group in self.param_groups:
            if group["muon"] and any(p.dim() != 2 for p in group["params"]):
                raise ValueError("Muon orthogonalizes matrices: a muon=True group takes 2-D parameters only")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if group["weight_decay"] and params:
                torch._foreach_mul_(params, 1 - group["lr"] * group["weight_decay"])
            if group["muon"]:
                for shape in dict.fromkeys(p.shape for p in params):  # one batched iteration per shape
                    self._muon_update([p for p in params if p.shape == shape], group)
            else:
                for p in params:
                    self._adamw_update(p, group)
        return loss

    def _muon_update(self, params: list, group):
        """params: same-shaped matrices, orthogonalized together (a stack is one batched matmul per step)."""
        for p in params:
            if not self.state[p]:
                self.state[p]["momentum_buffer"] = torch.zeros_like(p)
        grads = [p.grad for p in params]
        bufs = [self.state[p]["momentum_buffer"] for p in params]
        torch._foreach_mul_(bufs, group["momentum"])
        torch._foreach_add_(bufs, grads)
        g = torch.stack(bufs)
        if group["nesterov"]:  # look ahead: the gradient plus the new momentum
            g = torch.stack(grads).add_(g, alpha=group["momentum"])
        update = orthogonalize(g, group["ns_steps"])  # (n, out, in)
        # U V^T of an (out, in) matrix has entries of size ~1/sqrt(in) (in >= out) or ~1/sqrt(out): scaling by
        # sqrt(out / in) for tall matrices gives every matrix's update the same per-entry size (modded-nanogpt)
        out, into = params[0].shape
        torch._foreach_add_(params, list(update.unbind(0)), alpha=-group["lr"] * max(1.0, out / into) ** 0.5)

    def _adamw_update(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0  # a Python int: no host sync to read it on a GPU
            state["exp_avg"], state["exp_avg_sq"] = torch.zeros_like(p), torch.zeros_like(p)
        beta1, beta2 = group["betas"]
        state["step"] = step = state["step"] + 1
        state["exp_avg"].lerp_(p.grad, 1 - beta1)  # running mean of the gradient
        state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)  # ... and of its square
        denominator = (state["exp_avg_sq"] / (1 - beta2**step)).sqrt_().add_(group["eps"])
        p.addcdiv_(state["exp_avg"], denominator, value=-group["lr"] / (1 - beta1**step))


def is_hidden_matrix(name: str, p: torch.nn.Parameter) -> bool:
    """The 2-D weights inside the transformer blocks (transformer.h.*) are Muon's; embeddings, the output head
    and 1-D gains stay with AdamW (an embedding row is a lookup, not a map to orthogonalize)."""
    return p.dim() == 2 and name.startswith("transformer.h.")


if __name__ == "__main__":  # how close to U V^T 5 steps get (singular values 1), quintic vs. the cubic
    G = torch.randn(128, 512)
    for name, coefficients, steps in [("quintic", QUINTIC, 5), ("cubic", (1.5, -0.5, 0.0), 5)]:
        s = torch.linalg.svdvals(orthogonalize(G, steps, coefficients))
        print(f"{name}, {steps} steps: singular values in [{s.min():.3f}, {s.max():.3f}] (U V^T: all 1)")
    print(f"G's own: [{torch.linalg.svdvals(G).min():.1f}, {torch.linalg.svdvals(G).max():.1f}]")
