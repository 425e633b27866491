"""The zoo's models: shapes, causality, and the building blocks against torch's own modules."""

import pytest
import torch
from torch import nn

from makemore.zoo.models import (
    MODELS,
    CausalSelfAttention,
    GRUCell,
    LSTMCell,
    ModelConfig,
    RNNCell,
    build_model,
    causal_mean,
    count_params,
)
from zero_to_hero import UserError

CONFIG = ModelConfig(vocab_size=7, block_size=6, n_layer=2, n_embd=8, n_embd2=12, n_head=2)


def model_of(model_type: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = build_model(model_type, CONFIG)
    for p in model.parameters():  # the bigram starts at zeros; random weights make every check bite
        nn.init.normal_(p, std=0.5)
    return model.eval()


@pytest.mark.parametrize("model_type", MODELS)
@pytest.mark.parametrize("T", [1, 3, 6])
def test_logits_shape(model_type, T):
    idx = torch.randint(CONFIG.vocab_size, (4, T))
    assert model_of(model_type)(idx).shape == (4, T, CONFIG.vocab_size)


@pytest.mark.parametrize("model_type", MODELS)
def test_causal_output_at_t_ignores_later_inputs(model_type):
    model = model_of(model_type)
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(CONFIG.vocab_size, (5, CONFIG.block_size), generator=g)
    logits = model(idx)
    for t in range(CONFIG.block_size - 1):
        changed = idx.clone()
        changed[:, t + 1 :] = (idx[:, t + 1 :] + 1 + torch.randint(5, idx[:, t + 1 :].shape, generator=g)) % 7
        assert torch.equal(changed[:, : t + 1], idx[:, : t + 1]) and not torch.equal(changed, idx)
        after = model(changed)
        torch.testing.assert_close(after[:, : t + 1], logits[:, : t + 1], rtol=0, atol=1e-5)
        assert not torch.allclose(after[:, t + 1 :], logits[:, t + 1 :])  # the future did change something


@pytest.mark.parametrize("model_type", [m for m in MODELS if m != "bigram"])
def test_context_models_see_the_past(model_type):
    # Everything but the bigram uses earlier characters: changing the first input moves the last output.
    model = model_of(model_type)
    idx = torch.randint(CONFIG.vocab_size, (3, CONFIG.block_size))
    changed = idx.clone()
    changed[:, 0] = (idx[:, 0] + 1) % CONFIG.vocab_size
    assert not torch.allclose(model(idx)[:, -1], model(changed)[:, -1])


def test_bigram_is_a_table_lookup_with_gradient():
    model = build_model("bigram", CONFIG)
    assert count_params(model) == 7 * 7
    with torch.no_grad():
        model.logits.copy_(torch.arange(49.0).view(7, 7))
    idx = torch.tensor([[0, 3, 6]])
    logits = model(idx)
    torch.testing.assert_close(logits[0], torch.arange(49.0).view(7, 7)[[0, 3, 6]])
    logits.sum().backward()
    assert model.logits.grad[[0, 3, 6]].eq(1).all() and model.logits.grad.sum() == 3 * 7  # used rows only


@pytest.mark.parametrize(
    "ours, theirs, n_states",
    [(RNNCell, nn.RNNCell, 1), (GRUCell, nn.GRUCell, 1), (LSTMCell, nn.LSTMCell, 2)],
)
def test_recurrent_cells_match_torch(ours, theirs, n_states):
    torch.manual_seed(0)
    reference = theirs(5, 9)
    cell = ours(5, 9)
    with torch.no_grad():
        cell.x2h.weight.copy_(reference.weight_ih)
        cell.x2h.bias.copy_(reference.bias_ih)
        cell.h2h.weight.copy_(reference.weight_hh)
        cell.h2h.bias.copy_(reference.bias_hh)
    x = torch.randn(4, 5)
    state = tuple(torch.randn(4, 9) for _ in range(n_states))
    expected = reference(x, state if n_states == 2 else state[0])
    expected = expected if n_states == 2 else (expected,)
    for got, want in zip(cell(x, state), expected, strict=True):
        torch.testing.assert_close(got, want)


def test_attention_matches_torch_multihead_attention_with_causal_mask():
    torch.manual_seed(0)
    config = ModelConfig(vocab_size=7, block_size=6, n_embd=12, n_head=3)
    attn = CausalSelfAttention(config)
    reference = nn.MultiheadAttention(12, 3, batch_first=True)
    with torch.no_grad():
        reference.in_proj_weight.copy_(attn.qkv.weight)
        reference.in_proj_bias.copy_(attn.qkv.bias)
        reference.out_proj.weight.copy_(attn.proj.weight)
        reference.out_proj.bias.copy_(attn.proj.bias)
    x = torch.randn(2, 6, 12)
    future = torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1)  # True = may not attend
    expected, _ = reference(x, x, x, attn_mask=future, need_weights=False)
    torch.testing.assert_close(attn(x), expected)


def test_causal_mean_matches_a_loop_and_the_running_sum():
    x = torch.randn(3, 5, 4)
    expected = torch.stack([x[:, : t + 1].mean(dim=1) for t in range(5)], dim=1)
    torch.testing.assert_close(causal_mean(x), expected)
    # the masked-softmax ("attention with equal scores") form is the running mean: cumsum / count
    torch.testing.assert_close(causal_mean(x), x.cumsum(dim=1) / torch.arange(1, 6).view(1, 5, 1))


def test_parameter_counts_follow_the_sizes():
    V, B, E, H = 7, 6, 8, 12
    assert count_params(build_model("mlp", CONFIG)) == (V + 1) * E + (B * E + 1) * H + (H + 1) * V
    assert count_params(build_model("rnn", CONFIG)) == V * E + (E + 1) * H + (H + 1) * H + H + (H + 1) * V
    assert count_params(build_model("lstm", CONFIG)) == V * E + 4 * ((E + 1) * H + (H + 1) * H) + 2 * H + (H + 1) * V


@pytest.mark.parametrize(
    "model_type, change, message",
    [
        ("gpt", {}, "unknown model type 'gpt'"),
        ("transformer", {"n_head": 3}, "must be divisible by --n-head"),
        ("rnn", {"n_embd2": 0}, "--n-embd2 must be >= 1"),
    ],
)
def test_bad_model_choices_are_user_errors(model_type, change, message):
    config = ModelConfig(**{**CONFIG.__dict__, **change})
    with pytest.raises(UserError, match=message):
        build_model(model_type, config)


def test_transformer_dropout_acts_in_training_only():
    torch.manual_seed(0)
    model = build_model("transformer", ModelConfig(**{**CONFIG.__dict__, "dropout": 0.5}))
    idx = torch.randint(CONFIG.vocab_size, (2, CONFIG.block_size))
    model.eval()
    torch.testing.assert_close(model(idx), model(idx))
    model.train()
    assert not torch.allclose(model(idx), model(idx))
