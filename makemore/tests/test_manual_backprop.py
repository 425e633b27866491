"""Lecture 5: every hand-written gradient against autograd, the fused backward passes, training without autograd."""

import pytest
import torch
import torch.nn.functional as F

from makemore.manual_backprop import ManualMLP, batchnorm_backward, cross_entropy_backward, gradient_check, manual_step
from makemore.training import train

EVERY_TENSOR = [
    "logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes", "logits",
    "h", "hpreact", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani", "hprebn", "embcat", "emb",
    "C", "W1", "b1", "W2", "b2", "bngain", "bnbias",
]  # fmt: skip
FUSED = ["logits", "h", "hpreact", "hprebn", "C", "W1", "b1", "W2", "b2", "bngain", "bnbias"]


def batch(n=32, block_size=3, vocab_size=27, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab_size, (n, block_size), generator=g), torch.randint(0, vocab_size, (n,), generator=g)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_manual_gradient_matches_autograd(seed):
    model = ManualMLP(27, 3, n_embd=10, n_hidden=64, generator=torch.Generator().manual_seed(seed))
    diffs = gradient_check(model, *batch(seed=seed))
    assert sorted(diffs) == sorted(EVERY_TENSOR)
    for name in EVERY_TENSOR:
        atomic, fused = diffs[name]
        assert atomic <= 1e-6, f"d{name}: max |manual - autograd| = {atomic:.2e}"
        if name in FUSED:
            assert fused <= 1e-6, f"fused d{name}: max |manual - autograd| = {fused:.2e}"


def test_gradient_check_can_fail():
    """A wrong gradient is caught: tanh' written as 1 - h (instead of 1 - h^2) shows up downstream."""
    model = ManualMLP(27, 3, n_embd=10, n_hidden=64, generator=torch.Generator().manual_seed(0))
    original = model.backward

    def wrong_backward(Xb, Yb, f):
        return original(Xb, Yb, {**f, "h": f["h"].abs().sqrt()})  # makes 1 - h^2 into 1 - |h|

    model.backward = wrong_backward
    diffs = gradient_check(model, *batch())
    assert diffs["logits"][0] <= 1e-6  # above tanh: unaffected
    assert diffs["hpreact"][0] > 1e-3 and diffs["W1"][0] > 1e-4


def test_fused_cross_entropy_backward():
    logits = torch.randn(16, 27, generator=torch.Generator().manual_seed(0)).requires_grad_()
    Y = torch.randint(0, 27, (16,), generator=torch.Generator().manual_seed(1))
    F.cross_entropy(logits, Y).backward()
    assert torch.allclose(cross_entropy_backward(logits.detach(), Y), logits.grad, atol=1e-7)


def test_fused_batchnorm_backward_matches_torch():
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(32, 8, generator=g) * 2 + 1).requires_grad_()
    gain, bias = torch.randn(8, generator=g), torch.randn(8, generator=g)
    out = F.batch_norm(x, None, None, weight=gain, bias=bias, training=True, eps=1e-5)
    dout = torch.randn(32, 8, generator=g)
    out.backward(dout)
    with torch.no_grad():
        var_inv = (x.var(0, unbiased=False) + 1e-5) ** -0.5
        xhat = (x - x.mean(0)) * var_inv
        dx = batchnorm_backward(dout, xhat, gain, var_inv)
    assert torch.allclose(dx, x.grad, atol=1e-5)


def test_eval_mode_uses_running_statistics():
    model = ManualMLP(27, 3, n_embd=10, n_hidden=64, generator=torch.Generator().manual_seed(0))
    X, Y = batch()
    f = model.forward(X, Y)
    model.running_mean, model.running_var = f["bnmeani"].clone(), f["bnvar"].clone()  # the batch's own statistics
    assert torch.allclose(model(X), f["logits"], atol=1e-5)


def test_manual_training_equals_autograd_training_and_never_calls_backward(monkeypatch):
    X, Y = batch(n=512)
    manual = ManualMLP(27, 3, n_embd=10, n_hidden=32, generator=torch.Generator().manual_seed(0))
    reference = ManualMLP(27, 3, n_embd=10, n_hidden=32, generator=torch.Generator().manual_seed(0))
    params = {k: v.clone().requires_grad_() for k, v in reference.params.items()}

    def autograd_step(Xb, Yb, lr):  # the same model trained by autograd, for reference
        loss = reference.forward(Xb, Yb)["loss"]
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            for p, grad in zip(params.values(), grads, strict=True):
                p -= lr * grad
        return loss.item()

    reference.params = params
    settings = dict(steps=50, batch_size=32, lr_at=lambda i: 0.1)
    ref_losses = train(autograd_step, X, Y, **settings, generator=torch.Generator().manual_seed(3))

    def forbidden(*args, **kwargs):
        raise AssertionError("manual training called autograd")

    monkeypatch.setattr(torch.Tensor, "backward", forbidden)
    monkeypatch.setattr(torch.autograd, "backward", forbidden)
    monkeypatch.setattr(torch.autograd, "grad", forbidden)
    losses = train(manual_step(manual), X, Y, **settings, generator=torch.Generator().manual_seed(3))
    assert not any(p.requires_grad for p in manual.parameters())
    assert losses == pytest.approx(ref_losses, abs=1e-4)
    for name, p in manual.params.items():
        assert torch.allclose(p, params[name].detach(), atol=1e-4), name
    assert sum(losses[-10:]) < sum(losses[:10])
    assert not torch.equal(manual.running_mean, torch.zeros_like(manual.running_mean))  # stats were tracked
