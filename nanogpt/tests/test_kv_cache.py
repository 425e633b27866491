"""The KV cache changes how fast generation is, never what it generates."""

import pytest
import torch

from nanogpt.model import GPT, GPTConfig

CONFIG = dict(vocab_size=31, block_size=16, n_layer=3, n_head=4, n_embd=32, bias=True)


def model(sdpa=True, device="cpu"):
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(**CONFIG)).to(device).eval()
    gpt.set_attention(sdpa)
    return gpt


@pytest.mark.parametrize("sdpa", [True, False])
def test_cached_logits_equal_the_full_forward_at_every_position(sdpa):
    gpt = model(sdpa)
    idx = torch.randint(0, 31, (3, 16))
    full, _ = gpt(idx, idx)  # (B, T, vocab): every position's logits from one causal forward
    caches = gpt.new_kv_caches()
    prompt_logits, _ = gpt(idx[:, :5], kv_caches=caches)
    steps = [prompt_logits] + [gpt(idx[:, t : t + 1], kv_caches=caches)[0] for t in range(5, 16)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full[:, 4:], rtol=0, atol=1e-5)
    assert all(cache.length == 16 for cache in caches)


@pytest.mark.parametrize("prompt, new", [(3, 10), (3, 30), (20, 6), (1, 15)])
def test_greedy_tokens_are_the_same_with_and_without_the_cache(prompt, new):
    # (3, 30) and (1, 15)+: the text outgrows block_size 16 and the window slides; (20, 6): the prompt already has
    gpt = model()
    idx = torch.randint(0, 31, (2, prompt))
    cached = gpt.generate(idx, new, temperature=0)
    assert cached.shape == (2, prompt + new)
    assert torch.equal(cached, gpt.generate(idx, new, temperature=0, use_cache=False))


@pytest.mark.parametrize("sdpa", [True, False])
def test_seeded_sampling_gives_the_same_tokens_with_and_without_the_cache(sdpa):
    gpt = model(sdpa)
    idx = torch.randint(0, 31, (4, 2))
    runs = [
        gpt.generate(idx, 24, temperature=1.3, top_k=10, generator=torch.Generator().manual_seed(5), use_cache=c)
        for c in (True, False)
    ]
    assert torch.equal(*runs)
    assert len(set(runs[0][:, 2:].flatten().tolist())) > 5  # really sampled, not one token over and over


def test_cached_forward_misuse_is_an_error():
    gpt = model()
    caches = gpt.new_kv_caches()
    gpt(torch.zeros(1, 4, dtype=torch.long), kv_caches=caches)
    with pytest.raises(ValueError, match="one token at a time"):
        gpt(torch.zeros(1, 2, dtype=torch.long), kv_caches=caches)
    for _ in range(12):
        gpt(torch.zeros(1, 1, dtype=torch.long), kv_caches=caches)
    with pytest.raises(ValueError, match="longer than block_size"):
        gpt(torch.zeros(1, 1, dtype=torch.long), kv_caches=caches)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cache_on_cuda_with_bf16_autocast():
    gpt = model(device="cuda")
    idx = torch.randint(0, 31, (2, 4), device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        full, _ = gpt(idx, idx)
        caches = gpt.new_kv_caches()
        first, _ = gpt(idx[:, :3], kv_caches=caches)
        last, _ = gpt(idx[:, 3:], kv_caches=caches)
    assert caches[0].k.dtype == torch.bfloat16
    torch.testing.assert_close(torch.cat([first, last], 1).float(), full[:, 2:].float(), rtol=0, atol=3e-2)
    assert torch.equal(gpt.generate(idx, 20, temperature=0), gpt.generate(idx, 20, temperature=0, use_cache=False))
