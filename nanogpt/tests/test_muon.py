"""Muon: the Newton-Schulz orthogonalization against an SVD, the update rule by hand, AdamW groups as torch's."""

import copy

import pytest
import torch

from nanogpt.config import load_config
from nanogpt.model import GPT, GPTConfig
from nanogpt.muon import QUINTIC, Muon, is_hidden_matrix, orthogonalize
from nanogpt.optim import configure_optimizer

CUBIC = (1.5, -0.5, 0.0)  # the classic Newton-Schulz iteration: converges to U V^T exactly


def svd_orthogonal(G):
    U, _, Vh = torch.linalg.svd(G.double(), full_matrices=False)
    return U @ Vh


@pytest.mark.parametrize("shape", [(32, 64), (64, 32), (48, 48)])
def test_newton_schulz_converges_to_the_svd_polar_factor(shape):
    G = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(orthogonalize(G, steps=40, coefficients=CUBIC), svd_orthogonal(G), rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(32, 64), (64, 32), (128, 384)])
def test_five_quintic_steps_keep_the_singular_vectors_and_bring_the_values_near_one(shape):
    G = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    G[:, 0] *= 30  # badly conditioned, as gradients are: one direction dominates
    X = orthogonalize(G)
    assert X.shape == G.shape and X.dtype == G.dtype
    U, S, Vh = torch.linalg.svd(G.double(), full_matrices=False)
    inner = U.T @ X.double() @ Vh.T  # U^T X V: diagonal if X has G's singular vectors
    off_diagonal = inner - torch.diag(torch.diagonal(inner))
    assert off_diagonal.abs().max() < 1e-4
    values = torch.diagonal(inner)  # p(S): the quintic's output per singular value
    assert values.min() > 0.6 and values.max() < 1.2  # U V^T has them all 1; G's spread over a factor > 30
    assert S.max() / S.min() > 30
    # the same odd polynomial applied to the singular values alone
    s = S / torch.linalg.norm(G.double())
    for _ in range(5):
        s = QUINTIC[0] * s + QUINTIC[1] * s**3 + QUINTIC[2] * s**5
    torch.testing.assert_close(values, s, rtol=1e-4, atol=1e-4)


def test_a_stack_is_orthogonalized_matrix_by_matrix():
    G = torch.randn(3, 24, 8, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(orthogonalize(G), torch.stack([orthogonalize(g) for g in G]))


def test_muon_step_by_hand():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(24, 8))  # tall: the update is scaled by sqrt(24 / 8)
    start = w.detach().clone()
    opt = Muon([{"params": [w], "muon": True}], lr=0.1, momentum=0.9)
    grads = [torch.randn(24, 8) for _ in range(2)]
    buf = torch.zeros(24, 8)
    expected = start.clone()
    for g in grads:
        w.grad = g.clone()
        opt.step()
        buf = 0.9 * buf + g
        expected -= 0.1 * 3**0.5 * orthogonalize(g + 0.9 * buf)  # Nesterov: the gradient plus the new momentum
    torch.testing.assert_close(w.detach(), expected)


def test_non_muon_groups_are_torch_adamw():
    torch.manual_seed(0)
    ours, theirs = (torch.nn.Parameter(torch.randn(5, 3)) for _ in range(2))
    theirs.data.copy_(ours.data)
    settings = dict(lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
    opt = Muon([{"params": [ours]}], **settings)
    reference = torch.optim.AdamW([theirs], **settings)
    for _ in range(5):
        g = torch.randn(5, 3)
        ours.grad, theirs.grad = g.clone(), g.clone()
        opt.step()
        reference.step()
    torch.testing.assert_close(ours.detach(), theirs.detach())


def test_state_dict_round_trip_continues_identically():
    def make():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(6, 6), torch.nn.LayerNorm(6))
        groups = [{"params": [model[0].weight], "muon": True}, {"params": [model[0].bias, *model[1].parameters()]}]
        return model, Muon(groups, lr=0.05)

    def step(model, opt, seed):
        x = torch.randn(4, 6, generator=torch.Generator().manual_seed(seed))
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()

    a, opt_a = make()
    for seed in range(3):
        step(a, opt_a, seed)
    b, opt_b = make()
    b.load_state_dict(a.state_dict())
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))  # a copy, as from a checkpoint: no shared buffers
    for seed in range(3, 6):
        step(a, opt_a, seed)
        step(b, opt_b, seed)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_muon_group_takes_matrices_only():
    with pytest.raises(ValueError, match="2-D parameters only"):
        Muon([{"params": [torch.nn.Parameter(torch.zeros(3))], "muon": True}])


def test_configure_optimizer_muon_groups():
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16, tie_weights=False))
    cfg = load_config(None, dict(optimizer="muon", learning_rate=2e-3, muon_lr=0.02, weight_decay=0.1))
    opt = configure_optimizer(model, cfg, torch.device("cpu"))
    assert isinstance(opt, Muon)
    names = {id(p): n for n, p in model.named_parameters()}
    by_kind = {}
    for group in opt.param_groups:
        by_kind[(group["muon"], group["weight_decay"])] = {names[id(p)] for p in group["params"]}
        assert group.get("lr_scale", 1.0) == pytest.approx(10.0 if group["muon"] else 1.0)
    hidden = {n for n, p in model.named_parameters() if is_hidden_matrix(n, p)}
    assert by_kind[(True, 0.0)] == hidden and len(hidden) == 2 * 4  # qkv, attention proj, MLP up and down
    assert by_kind[(False, 0.1)] == {"transformer.wte.weight", "lm_head.weight"}
    assert by_kind[(False, 0.0)] == {n for n, p in model.named_parameters() if p.dim() == 1} | {
        "transformer.wpe.weight"
    }


def test_muon_trains_a_small_gpt_faster_than_its_adamw_start():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=32))
    idx, targets = torch.randint(0, 11, (2, 4, 8))
    cfg = load_config(None, dict(optimizer="muon", learning_rate=1e-2, muon_lr=0.05))
    opt = configure_optimizer(model, cfg, torch.device("cpu"))
    for group in opt.param_groups:
        group["lr"] = cfg.learning_rate * group.get("lr_scale", 1.0)
    for _ in range(60):
        _, loss = model(idx, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05  # from ln(11) = 2.4: memorized
