"""The upgrades after GPT-2, each against a reference or the property it is for; the defaults stay GPT-2."""

import math

import pytest
import torch
import torch.nn.functional as F

from nanogpt.model import GPT, GPTConfig, apply_rope, rms_norm, rope_tables

SMALL = dict(vocab_size=31, block_size=16, n_layer=2, n_head=2, n_embd=32)
MODERN = dict(pos_emb="rope", norm="rmsnorm", qk_norm=True, mlp_act="relu2", tie_weights=False, zero_init=True)
MODERN["logit_softcap"] = 15.0
UPGRADES = [
    dict(pos_emb="rope"), dict(norm="rmsnorm"), dict(qk_norm=True), dict(mlp_act="relu2"),
    dict(tie_weights=False), dict(zero_init=True), dict(logit_softcap=5.0), MODERN,
]  # fmt: skip


def test_rms_norm_matches_its_definition():
    x = torch.randn(3, 5, 16, dtype=torch.float64) * 4 + 1
    reference = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
    torch.testing.assert_close(rms_norm(x), reference)
    assert not torch.allclose(rms_norm(x), F.layer_norm(x, (16,)))  # no centering: not LayerNorm


def test_rope_scores_depend_on_relative_position_only():
    cos, sin = rope_tables(block_size=40, head_size=8)
    q, k = torch.randn(2, 1, 1, 1, 8, dtype=torch.float64)  # (B, nh, T, hs) each

    def score(m, n):  # q at position m attends to k at position n
        return (apply_rope(q, cos[m : m + 1], sin[m : m + 1]) * apply_rope(k, cos[n : n + 1], sin[n : n + 1])).sum()

    for m, n in [(5, 2), (9, 9), (3, 7)]:
        for shift in (1, 10, 30):
            assert score(m + shift, n + shift).item() == pytest.approx(score(m, n).item(), abs=1e-5)
    assert score(5, 2).item() != pytest.approx(score(6, 2).item(), abs=1e-3)  # but it does see the distance
    rotated = apply_rope(q.expand(1, 1, 40, 8), cos, sin)  # q at every position
    torch.testing.assert_close(rotated.norm(dim=-1), q.norm().expand(1, 1, 40))  # a rotation keeps lengths
    torch.testing.assert_close(rotated[:, :, :1], q)  # position 0: not rotated


@pytest.mark.parametrize("upgrade", UPGRADES, ids=lambda u: ",".join(f"{k}={v}" for k, v in u.items()))
def test_each_upgrade_is_causal_trains_and_keeps_cached_generation_exact(upgrade):
    torch.manual_seed(0)
    model = GPT(GPTConfig(**SMALL, **upgrade))
    idx = torch.randint(0, 31, (3, 16))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(30):  # a few steps so that no zero-initialized weight stays zero
        _, loss = model(idx, idx.roll(-1, dims=1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 1.5  # from ln(31) = 3.4
    model.eval()
    changed = idx.clone()
    changed[:, 9:] = (changed[:, 9:] + 1) % 31
    full, _ = model(idx, idx)
    torch.testing.assert_close(model(changed, changed)[0][:, :9], full[:, :9])  # the future changes nothing
    caches = model.new_kv_caches()  # the cache: positions offset by the cached length
    steps = [model(idx[:, :4], kv_caches=caches)[0]] + [
        model(idx[:, t : t + 1], kv_caches=caches)[0] for t in range(4, 16)
    ]
    torch.testing.assert_close(torch.cat(steps, dim=1), full[:, 3:], rtol=0, atol=1e-5)
    for prompt, new in [(3, 10), (2, 20)]:  # within block_size, and sliding past it
        start = idx[:2, :prompt]
        assert torch.equal(
            model.generate(start, new, temperature=0), model.generate(start, new, temperature=0, use_cache=False)
        )
        sampled = [
            model.generate(start, new, temperature=1.2, generator=torch.Generator().manual_seed(3), use_cache=c)
            for c in (True, False)
        ]
        assert torch.equal(*sampled)


def test_the_defaults_are_gpt2():
    model = GPT(GPTConfig(**SMALL))
    names = set(model.state_dict())
    assert {"transformer.wte.weight", "transformer.wpe.weight", "lm_head.weight", "transformer.ln_f.weight"} <= names
    assert model.lm_head.weight is model.transformer.wte.weight
    assert isinstance(model.transformer.h[0].mlp.act, torch.nn.GELU)
    assert isinstance(model.transformer.h[0].ln_1, torch.nn.LayerNorm)
    assert model.config.logit_softcap == 0 and not model.config.qk_norm


def test_modern_model_parameters_and_count():
    c = GPTConfig(**SMALL, **MODERN)
    model = GPT(c)
    names = set(model.state_dict())
    assert not any("wpe" in n or "ln" in n for n in names)  # rotary positions and norms have no parameters
    assert model.lm_head.weight is not model.transformer.wte.weight
    per_block = 12 * c.n_embd**2
    assert model.num_params() == c.n_layer * per_block + c.vocab_size * c.n_embd  # the head, not the embedding
    assert model.num_params(non_embedding=False) == model.num_params() + c.vocab_size * c.n_embd


def test_zero_init_makes_every_block_the_identity_and_the_first_prediction_uniform():
    model = GPT(GPTConfig(**SMALL, zero_init=True, tie_weights=False))
    for block in model.transformer.h:
        assert not block.attn.c_proj.weight.any() and not block.mlp.c_proj.weight.any()
    idx = torch.randint(0, 31, (2, 16))
    logits, loss = model(idx, idx)
    assert not logits.any() and loss.item() == pytest.approx(math.log(31))
    tied = GPT(GPTConfig(**SMALL, zero_init=True))  # tied: the embedding is the head, left random
    assert tied.lm_head.weight.std().item() == pytest.approx(0.02, rel=0.2)


def test_logit_softcap_bounds_the_logits():
    torch.manual_seed(0)
    plain = GPT(GPTConfig(**SMALL))
    capped = GPT(GPTConfig(**SMALL, logit_softcap=0.5))
    capped.load_state_dict(plain.state_dict())
    idx = torch.randint(0, 31, (2, 16))
    logits = plain(idx, idx)[0]
    torch.testing.assert_close(capped(idx, idx)[0], 0.5 * torch.tanh(logits / 0.5))
    assert capped(idx, idx)[0].abs().max() < 0.5


def test_relu2_activation():
    model = GPT(GPTConfig(**SMALL, mlp_act="relu2"))
    x = torch.linspace(-2, 2, 9)
    torch.testing.assert_close(model.transformer.h[0].mlp.act(x), torch.where(x > 0, x * x, 0.0))


def test_rope_crop_block_size_and_checks():
    torch.manual_seed(0)
    model = GPT(GPTConfig(**SMALL, pos_emb="rope")).eval()
    idx = torch.randint(0, 31, (2, 6))
    before, _ = model(idx, idx)
    model.crop_block_size(6)
    torch.testing.assert_close(model(idx, idx)[0], before)
    with pytest.raises(ValueError, match="longer than block_size"):
        model(torch.zeros(1, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="head size must be even"):
        GPT(GPTConfig(**{**SMALL, "n_embd": 30, "n_head": 2}, pos_emb="rope"))
    with pytest.raises(ValueError, match="norm must be one of layernorm, rmsnorm"):
        GPT(GPTConfig(**SMALL, norm="batchnorm"))
