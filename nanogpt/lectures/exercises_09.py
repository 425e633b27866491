# %% [markdown]
# # Lecture 9 exercises — reproducing GPT-2
#
# Six pieces of the lecture, left for you. Fill in each function whose body is
# `raise NotImplementedError  # YOUR CODE`, then run `python lectures/exercises_09.py` (or the notebook's
# cells): the last cell checks each one and says *not done*, *wrong* (naming the first input or value that
# differs) or *right*. The answers are in `lectures/09_gpt2.py` and in the package (`nanogpt/pretrained.py`,
# `model.py`, `optim.py`, `hellaswag.py`).
#
# Everything runs offline on a CPU in seconds: the models are tiny GPTs of the package, and no GPT-2 weights
# are needed.

# %%
import math

import torch
import torch.nn as nn  # noqa: F401 (for your solutions)
import torch.nn.functional as F  # noqa: F401 (for your solutions)

from nanogpt import hellaswag
from nanogpt.config import TrainConfig
from nanogpt.data import Tokenizer
from nanogpt.model import GPT, GPTConfig
from nanogpt.optim import lr_at
from zero_to_hero.lectures import Exercises

torch.set_num_threads(1)
TINY = dict(vocab_size=50257, block_size=64, n_layer=2, n_head=2, n_embd=32, bias=True, gelu_approximate="tanh")

# %% [markdown]
# ## Exercise 1: GPT-2's weights into a fresh GPT
#
# `sd_hf` is a state dict in Hugging Face's layout (the names our GPT uses too). Copy every tensor into
# `model` (a fresh `GPT` of the same shape), in place, under `torch.no_grad()`. Four kinds of matrices were
# stored by OpenAI's "Conv1D" as (in, out) and must be transposed: `attn.c_attn.weight`,
# `attn.c_proj.weight`, `mlp.c_fc.weight`, `mlp.c_proj.weight`. Skip the causal-mask buffers (names ending
# in `.attn.bias` or `.attn.masked_bias`). `lm_head.weight` is the same tensor as `transformer.wte.weight`.


# %%
def load_hf_weights(model, sd_hf):
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 2: GPT-2's initialization
#
# Re-initialize `model` in place: every `nn.Linear` and `nn.Embedding` weight ~ N(0, 0.02), every Linear
# bias 0, and then the residual projections (parameters named `...c_proj.weight`) ~ N(0, 0.02 / √(2·n_layer))
# (n_layer = `model.config.n_layer`). LayerNorms stay at weight 1, bias 0 (reset them too). Keep the tied
# `lm_head` / `wte` tied.


# %%
def gpt2_init(model):
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 3: the weight-decay parameter groups
#
# Return AdamW's two parameter groups, as the lecture makes them: every parameter of 2 or more dimensions
# (matmul weights, embeddings) in `{"params": [...], "weight_decay": weight_decay}`, the rest (biases,
# LayerNorm gains) in `{"params": [...], "weight_decay": 0.0}`. Each tensor once (`model.parameters()` yields
# the tied matrix once).


# %%
def weight_decay_groups(model, weight_decay):
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 4: gradient accumulation
#
# `micro_batches` is a list of (x, y) pairs of equal shapes. Run the model's forward and backward on each
# (the model returns `(logits, loss)`, the loss a mean over its micro-batch) so that afterwards the
# parameters' `.grad` equal the gradient of the loss of all micro-batches taken as one big batch. The grads
# start at zero (None). Return the big batch's loss (a float).


# %%
def accumulate_gradients(model, micro_batches):
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 5: HellaSwag's completion scorer
#
# `tokens` and `mask` are (4, T) as `hellaswag.render` makes them: row i is the context followed by ending
# i, zero-padded; mask is 1 on ending i's tokens. Return the index (an int) of the ending with the lowest
# average loss per ending token (acc_norm's choice). `model(tokens, tokens)` returns the logits of every
# position; position t predicts token t + 1.


# %%
def most_likely_row(model, tokens, mask):
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 6: the learning-rate schedule
#
# Linear warmup from max_lr / warmup_steps at step 0 to max_lr at step warmup_steps - 1, then a cosine from
# max_lr (at step warmup_steps) down to min_lr (at step max_steps), and min_lr after.


# %%
def get_lr(it, max_lr=6e-4, min_lr=6e-5, warmup_steps=715, max_steps=19073):
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Checks

# %%
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def say(message):
    print(f"  {message}")


def check_load():
    torch.manual_seed(1)
    reference = GPT(GPTConfig(**TINY))
    with torch.no_grad():  # distinctive values everywhere: LayerNorms and biases too
        for p in reference.parameters():
            p.normal_(0.0, 0.1)
    sd_hf = {k: v.t().contiguous() if k.endswith(CONV1D) else v.clone() for k, v in reference.state_dict().items()}
    for i in range(TINY["n_layer"]):
        sd_hf[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(64, 64)).view(1, 1, 64, 64)
    model = GPT(GPTConfig(**TINY))
    load_hf_weights(model, sd_hf)
    if model.lm_head.weight is not model.transformer.wte.weight:
        say("lm_head.weight is no longer transformer.wte.weight: load into the tensors, keep them tied")
        return float("inf")
    for name, tensor in reference.state_dict().items():
        got = model.state_dict()[name]
        if not torch.equal(got, tensor):
            say(f"first differing tensor: {name}, max diff {(got - tensor).abs().max().item():.3g}")
            return (got - tensor).abs().max().item()
    idx = torch.randint(0, 50257, (2, 16), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return (model(idx, idx)[0] - reference(idx, idx)[0]).abs().max().item()


def check_init():
    torch.manual_seed(2)
    config = GPTConfig(vocab_size=1000, block_size=128, n_layer=4, n_head=4, n_embd=128, bias=True)
    model = GPT(config)
    with torch.no_grad():  # undo the package's init: the exercise must do all of it
        for p in model.parameters():
            p.fill_(0.5)
    gpt2_init(model)
    if model.lm_head.weight is not model.transformer.wte.weight:
        say("lm_head.weight is no longer transformer.wte.weight: initialize in place")
        return float("inf")
    for name, p in model.named_parameters():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            expected, got = "ones", p.detach()
            error = (got - 1).abs().max().item()
        elif p.dim() == 1:  # biases, LayerNorm biases
            expected, error = "zeros", p.detach().abs().max().item()
        else:
            std = 0.02 / math.sqrt(2 * config.n_layer) if name.endswith("c_proj.weight") else 0.02
            error = abs(p.detach().std().item() / std - 1) + abs(p.detach().mean().item()) / std
            expected = f"std {std:.5f} (got {p.detach().std().item():.5f}, mean {p.detach().mean().item():.5f})"
        if error > 0.05:
            say(f"first wrong tensor: {name}: expected {expected}")
            return error
    return 0.0  # every tensor within 5% of its target


def check_groups():
    with torch.device("meta"):  # GPT-2 124M with the 50,304 vocabulary: shapes only, no memory
        model = GPT(GPTConfig(vocab_size=50304, block_size=1024, n_layer=12, n_head=12, n_embd=768, bias=True))
    groups = weight_decay_groups(model, 0.1)
    if len(groups) != 2 or [g.get("weight_decay") for g in groups] != [0.1, 0.0]:
        say(f"expected two groups with weight_decay 0.1 and 0.0, got {[g.get('weight_decay') for g in groups]}")
        return False
    expected = [(50, 124_354_560), (98, 121_344)]  # the lecture's printout
    for group, (n_tensors, n_params), what in zip(groups, expected, ("decayed", "non-decayed"), strict=True):
        got = (len(group["params"]), sum(p.numel() for p in group["params"]))
        if got != (n_tensors, n_params):
            say(f"{what}: {got[0]} tensors with {got[1]:,} parameters, expected {n_tensors} with {n_params:,}")
            return False
    return True


def check_accumulation():
    torch.manual_seed(3)
    config = GPTConfig(vocab_size=97, block_size=16, n_layer=2, n_head=2, n_embd=16, bias=True)
    data = torch.randint(0, 97, (8, 17), generator=torch.Generator().manual_seed(3))
    x, y = data[:, :-1], data[:, 1:]
    reference = GPT(config)
    model = GPT(config)
    model.load_state_dict(reference.state_dict())
    _, big_loss = reference(x, y)
    big_loss.backward()
    micro_batches = [(x[i : i + 2], y[i : i + 2]) for i in range(0, 8, 2)]  # 4 micro-batches of 2
    loss = accumulate_gradients(model, micro_batches)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        if p.grad is None:
            say(f"{name}.grad is None")
            return float("inf")
        diff = (p.grad - q.grad).abs().max().item()
        if diff > 1e-6:
            flat = (p.grad - q.grad).abs().view(-1).argmax().item()
            got, expected = p.grad.view(-1)[flat].item(), q.grad.view(-1)[flat].item()
            say(
                f"first differing gradient: {name}[{flat}] = {got:.6g}, expected {expected:.6g} ({got / expected:.3f}x)"
            )
            return diff
    if not math.isclose(float(loss), big_loss.item(), rel_tol=1e-5):
        say(f"returned loss {float(loss):.6f}, the big batch's is {big_loss.item():.6f}")
        return abs(float(loss) - big_loss.item())
    return 0.0


def check_scorer():
    torch.manual_seed(4)
    model = GPT(GPTConfig(**TINY)).eval()
    enc = Tokenizer("gpt2").encode
    for i, example in enumerate(hellaswag.load_examples("hellaswag", limit=12)):
        tokens, mask = hellaswag.render(example, enc, model.config.block_size)
        _, mean = hellaswag.ending_losses(model, tokens, mask)
        expected = int(mean.argmin())
        with torch.no_grad():
            got = most_likely_row(model, tokens, mask)
        if int(got) != expected:
            say(
                f"example {i} ({example.context[:40]!r}...): got row {int(got)}, expected {expected}; mean losses "
                f"{[round(v, 4) for v in mean.tolist()]}"
            )
            return False
    return True


def check_schedule():
    config = TrainConfig(learning_rate=6e-4, min_lr=6e-5, warmup_iters=715, lr_decay_iters=19073)
    for it in [0, 1, 100, 714, 715, 716, 5000, 9894, 15000, 19072, 19073, 19074, 25000]:
        got, expected = get_lr(it), lr_at(it, config)
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-15):
            say(f"step {it}: got {got:.6e}, expected {expected:.6e}")
            return abs(got - expected)
    return 0.0


exercises = Exercises()
exercises.check("1 load HF weights", check_load, tol=0.0)
exercises.check("2 GPT-2 init", check_init, tol=0.05)
exercises.check("3 weight decay groups", check_groups)
exercises.check("4 gradient accumulation", check_accumulation, tol=1e-6)
exercises.check("5 HellaSwag scorer", check_scorer)
exercises.check("6 lr schedule", check_schedule, tol=1e-15)
exercises.summary()
