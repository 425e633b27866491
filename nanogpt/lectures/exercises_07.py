# %% [markdown]
# # Lecture 7 exercises: batched attention, and a GPT that learns to add
#
# The video's description lists four exercises. The first two have blanks and a checker here:
#
# 1. Combine `Head` and `MultiHeadAttention` into one module that computes every head at once, the heads
#    being one more batch dimension (nanoGPT's answer is `nanogpt/model.py`; try it before you look).
# 2. Train the GPT on a dataset of your own. Here: addition of two 2-digit numbers. The video's hint: it may
#    help to write the digits of the sum in reverse order, as the addition algorithm makes them right to left.
# 3. (no checker) Pretrain on a large text, then fine-tune on tiny shakespeare with fewer steps and a smaller
#    learning rate: does it beat training from scratch? `python train.py --init_from=...` can do it.
# 4. (no checker) Read a paper that improves the transformer and try the idea; `nanogpt/model.py`'s switches
#    (RoPE, RMSNorm, QK-norm, ReLU², ...) are some.
#
# Fill in each body that is `raise NotImplementedError  # YOUR CODE`, then run `python lectures/exercises_07.py`
# from `nanogpt/` (or all cells as a notebook). The checker says, per blank: not done, wrong (with the input
# and the first value that differs, and a hint where the mistake is a common one), error, or right.
#
# Exercise 2 trains for real only in full mode: 1,000 steps of 64 sums, about 30-40 s on a 2-core laptop CPU
# for the reference solution (it reaches 100% on the held-out sums; the bar is 95%). With `--fast` (as the
# tests run it) the checker checks the structure only: your encoding on all 10,000 problems, and that your
# model builds, fits the budget, and lowers the loss in 30 steps. It says so when it does.

# %%
import math
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from nanogpt.model import GPT, GPTConfig
from zero_to_hero.lectures import Exercises, fast_mode

torch.set_num_threads(1)  # tiny models: one thread is faster than two that wait on each other

# %% [markdown]
# ## Exercise 1: all heads in one module
#
# The lecture's version, as built in `07_gpt.py`: each `Head` has its own key, query and value `Linear`, and
# `MultiHeadAttention` runs the heads one after another and concatenates their outputs.


# %%
class Head(nn.Module):
    """One head of causal self-attention (the lecture's)."""

    def __init__(self, n_embd, head_size, block_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        B, T, C = x.shape
        k, q = self.key(x), self.query(x)  # (B, T, hs)
        weights = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)
        weights = weights.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        return F.softmax(weights, dim=-1) @ self.value(x)  # (B, T, hs)


class MultiHeadAttention(nn.Module):
    """num_heads heads side by side, concatenated, then projected."""

    def __init__(self, n_embd, num_heads, block_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd, n_embd // num_heads, block_size) for _ in range(num_heads)])
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        return self.proj(torch.cat([h(x) for h in self.heads], dim=-1))


# %% [markdown]
# Your module has one `Linear` from C to 3C channels, `qkv`. Its output's channels are, in this order, the
# queries of all heads, the keys of all heads, the values of all heads; within each, head h has channels
# h·hs to (h+1)·hs, where hs = C / n_head. (The checker copies the separate heads' weights into `qkv` in
# that layout, so keep it.) Write `forward` with no loop over heads: split `qkv(x)` into q, k, v, give the
# heads their own dimension, (B, T, C) → (B, n_head, T, hs), attend, and put the heads' outputs back side by
# side, (B, T, C), before `proj`. Masking, scaling and softmax as in `Head`.


# %%
class BatchedMultiHeadAttention(nn.Module):
    """MultiHeadAttention with every head computed at once."""

    def __init__(self, n_embd, num_heads, block_size):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=False)  # queries, keys, values of all heads
        self.proj = nn.Linear(n_embd, n_embd)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        """x: (B, T, C) with T <= block_size -> (B, T, C)"""
        raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 2: a GPT that adds
#
# The data: every sum a + b of two numbers from 0 to 99, 10,000 problems; 1,000 of them, drawn at random, are
# held out, and the model is scored on those, which it never trained on. A problem becomes a sequence of
# characters from `VOCAB`: a prompt, then the answer. The model trains to predict the answer's characters
# only (the prompt's targets are masked out), and is scored by greedy decoding: given the prompt, it writes
# `len(answer)` characters, and the problem counts as solved if `read_answer` of them is a + b.
#
# Your part:
# - `format_problem(a, b)`: (prompt, answer) strings from `VOCAB`, the same lengths for every problem, the
#   prompt saying which a and b (e.g. "07+35="), the answer saying a + b in a way `read_answer` undoes;
# - `read_answer(answer)`: the number that an answer string says;
# - `model_config()`: the GPT's size and learning rate. The budget is fixed by the checker: 1,000 AdamW steps
#   of 64 problems (warmup, then cosine decay), at most 250,000 parameters, dropout 0.
#
# The bar: at least 95% of the held-out sums right, trained from `torch.manual_seed(0)`.

# %%
VOCAB = "0123456789+="
STEPS, BATCH_SIZE, MAX_PARAMS, TARGET_ACCURACY = 1000, 64, 250_000, 0.95


def addition_problems(held_out=1000, seed=0):
    """(train pairs, held-out pairs): all (a, b) with 0 <= a, b <= 99, shuffled with `seed`, the first
    `held_out` kept for scoring."""
    pairs = [(a, b) for a in range(100) for b in range(100)]
    random.Random(seed).shuffle(pairs)
    return pairs[held_out:], pairs[:held_out]


def format_problem(a: int, b: int) -> tuple[str, str]:
    """(prompt, answer) for a + b, both made of VOCAB's characters."""
    raise NotImplementedError  # YOUR CODE


def read_answer(answer: str) -> int:
    """The number that `answer` (as format_problem writes it) says."""
    raise NotImplementedError  # YOUR CODE


def model_config() -> dict:
    """{"n_layer": ..., "n_head": ..., "n_embd": ..., "learning_rate": ...} for the 1,000-step budget."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## The checker

# %%
exercises = Exercises()
fast = fast_mode()


def check(name, attempt, tol=1e-6):
    """exercises.check, then the lines that say why, for anything but right."""
    why = []
    status = exercises.check(name, lambda: attempt(why), tol=tol)
    if not status.startswith("right"):
        for line in why:
            print(f"    {line}")
    return status


def first_difference(ours, expected, what):
    """'<what> at [i, j, ...]: yours X, expected Y' for the first entry (in reading order) that differs most
    clearly (beyond 1e-6), or None."""
    bad = ((ours - expected).abs() > 1e-6).nonzero()
    if len(bad) == 0:
        return None
    index = tuple(bad[0].tolist())
    return f"{what} at {list(index)}: yours {ours[index].item():.6f}, expected {expected[index].item():.6f}"


def attention_variant(module, x, scale, masked):
    """The batched computation with a chosen scale and with or without the mask (for the hints)."""
    B, T, C = x.shape
    n_head = module.num_heads
    q, k, v = module.qkv(x).split(C, dim=-1)
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
    weights = q @ k.transpose(-2, -1) * scale
    if masked:
        weights = weights.masked_fill(torch.ones(T, T).tril() == 0, float("-inf"))
    return module.proj((F.softmax(weights, dim=-1) @ v).transpose(1, 2).reshape(B, T, C))


def check_batched_attention(why):
    torch.manual_seed(7)
    n_embd, n_head, block_size = 32, 4, 8
    separate = MultiHeadAttention(n_embd, n_head, block_size)
    batched = BatchedMultiHeadAttention(n_embd, n_head, block_size)
    with torch.no_grad():
        for part, name in zip(batched.qkv.weight.chunk(3), ("query", "key", "value"), strict=True):
            part.copy_(torch.cat([getattr(head, name).weight for head in separate.heads]))
        batched.proj.load_state_dict(separate.proj.state_dict())
    worst = 0.0
    for shape in [(4, 8, n_embd), (2, 5, n_embd), (1, 1, n_embd)]:  # full blocks, a shorter T, a single token
        x = torch.randn(shape)
        with torch.no_grad():
            expected, ours = separate(x), batched(x)
        if not isinstance(ours, torch.Tensor) or ours.shape != expected.shape:
            got = tuple(ours.shape) if isinstance(ours, torch.Tensor) else type(ours).__name__
            why.append(f"input x of shape {shape}: expected an output of shape {tuple(expected.shape)}, got {got}")
            return float("inf")
        difference = (ours - expected).abs().max().item()
        if difference > 1e-6:
            why.append(
                f"input x of shape {shape} (torch.manual_seed(7)): " + first_difference(ours, expected, "output")
            )
            hs = n_embd // n_head
            mask_hint = "mask the future: scores above the diagonal are -inf before the softmax"
            with torch.no_grad():
                hints = [
                    (
                        attention_variant(batched, x, n_embd**-0.5, True),
                        f"divide the scores by sqrt(head_size) = sqrt({hs}), not sqrt(n_embd)",
                    ),
                    (attention_variant(batched, x, 1.0, True), f"divide the scores by sqrt(head_size) = sqrt({hs})"),
                    (attention_variant(batched, x, hs**-0.5, False), mask_hint),
                ]
            for variant, hint in hints:
                if torch.allclose(ours, variant, atol=1e-5):
                    why.append(f"hint: {hint}")
                    break
            else:
                why.append(
                    "hint: (B, T, C) -> .view(B, T, n_head, hs).transpose(1, 2) gives each head its own dimension; "
                    "a reshape straight to (B, n_head, T, hs) mixes time steps with heads (the same on the way back)"
                )
            return difference  # the first input that fails is the one to look at
        worst = max(worst, difference)
    return worst


def check_encoding(why):
    train_pairs, held_out = addition_problems()
    lengths = set()
    prompts = {}
    for a, b in train_pairs + held_out:
        prompt, answer = format_problem(a, b)
        if not isinstance(prompt, str) or not isinstance(answer, str) or not prompt or not answer:
            why.append(f"format_problem({a}, {b}) = {(prompt, answer)!r}: expected two non-empty strings")
            return False
        if set(prompt + answer) - set(VOCAB):
            outside = sorted(set(prompt + answer) - set(VOCAB))
            why.append(f"format_problem({a}, {b}) = {(prompt, answer)!r} uses {outside}, not in VOCAB")
            return False
        lengths.add((len(prompt), len(answer)))
        if len(lengths) > 1:
            why.append(f"format_problem({a}, {b}) = {(prompt, answer)!r}: the lengths differ: {sorted(lengths)}")
            return False
        if prompt in prompts and prompts[prompt] != (a, b):
            why.append(f"the prompt {prompt!r} stands for both {prompts[prompt]} and {(a, b)}")
            return False
        prompts[prompt] = (a, b)
        read = read_answer(answer)
        if read != a + b:
            why.append(
                f"format_problem({a}, {b}) gives the answer {answer!r}; read_answer reads it as {read!r}, not {a + b}"
            )
            return False
    return True


def encode_problems(pairs):
    """(inputs, targets) tensors: the prompt's targets are -1 (ignored by the loss)."""
    stoi = {ch: i for i, ch in enumerate(VOCAB)}
    inputs, targets = [], []
    for a, b in pairs:
        prompt, answer = format_problem(a, b)
        ids = [stoi[ch] for ch in prompt + answer]
        inputs.append(ids[:-1])
        targets.append([-1] * (len(prompt) - 1) + ids[len(prompt) :])
    return torch.tensor(inputs), torch.tensor(targets)


@torch.no_grad()
def solved(model, pairs):
    """(fraction of `pairs` solved by greedy decoding, the first one that is not: (a, b, answer) or None)."""
    model.eval()
    prompt_length, answer_length = map(len, format_problem(*pairs[0]))
    idx = encode_problems(pairs)[0][:, :prompt_length]
    for _ in range(answer_length):
        logits, _ = model(idx)
        idx = torch.cat([idx, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    model.train()
    first_wrong, right = None, 0
    for (a, b), ids in zip(pairs, idx[:, prompt_length:].tolist(), strict=True):
        answer = "".join(VOCAB[i] for i in ids)
        try:
            ok = read_answer(answer) == a + b
        except Exception:  # the model may write something read_answer cannot read
            ok = False
        right += ok
        if not ok and first_wrong is None:
            first_wrong = (a, b, answer)
    return right / len(pairs), first_wrong


def build_model(why):
    config = model_config()
    missing = {"n_layer", "n_head", "n_embd", "learning_rate"} - set(config)
    if missing:
        why.append(f"model_config() = {config!r} lacks {sorted(missing)}")
        return None, None
    prompt, answer = format_problem(0, 0)
    torch.manual_seed(0)
    model = GPT(
        GPTConfig(
            vocab_size=len(VOCAB),
            block_size=len(prompt) + len(answer) - 1,
            n_layer=config["n_layer"],
            n_head=config["n_head"],
            n_embd=config["n_embd"],
            dropout=0.0,
            bias=False,
        )
    )
    params = model.num_params(non_embedding=False)
    if params > MAX_PARAMS:
        why.append(f"model_config() = {config!r} has {params:,} parameters, over the budget of {MAX_PARAMS:,}")
        return None, None
    return model, config


def train_addition(model, learning_rate, steps):
    """The checker's fixed loop: AdamW, batches of 64 training problems, 50 warmup steps, cosine decay to 10%."""
    inputs, targets = encode_problems(addition_problems()[0])
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for step in range(steps):
        lr = learning_rate * min(1.0, (step + 1) / 50) * (0.1 + 0.45 * (1 + math.cos(math.pi * step / STEPS)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = torch.randint(len(inputs), (BATCH_SIZE,), generator=generator)
        _, loss = model(inputs[batch], targets[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def check_addition_model(why):
    if not check_encoding([]):
        why.append("exercise 2a (the encoding) is not right yet: fix it first")
        return False
    model, config = build_model(why)
    if model is None:
        return False
    if fast:
        losses = train_addition(model, config["learning_rate"], 30)
        change = f"loss {losses[0]:.3f} -> {losses[-1]:.3f}"
        print(f"    fast mode: structure only (30 steps, {change}); run without --fast to train and score")
        if not (math.isfinite(losses[-1]) and sum(losses[-5:]) < sum(losses[:5])):
            why.append(f"30 steps at learning_rate {config['learning_rate']} did not lower the loss: {change}")
            return False
        return True
    start = time.time()
    losses = train_addition(model, config["learning_rate"], STEPS)
    accuracy, first_wrong = solved(model, addition_problems()[1])
    seconds = time.time() - start
    print(
        f"    {STEPS} steps in {seconds:.0f}s, final loss {losses[-1]:.4f}: {accuracy:.1%} of 1,000 held-out sums right"
    )
    if accuracy < TARGET_ACCURACY:
        a, b, answer = first_wrong
        prompt, expected = format_problem(a, b)
        why.append(f"{accuracy:.1%} of the held-out sums right, below {TARGET_ACCURACY:.0%}")
        why.append(f"the first wrong one: {prompt!r} -> {answer!r}, expected {expected!r} ({a} + {b} = {a + b})")
        why.append(
            "hint: write the sum's digits in reverse order, as the video suggests (addition makes them right to left); "
            "already reversed? try a wider model or another learning rate"
        )
        return False
    return True


check("1 batched multi-head attention", check_batched_attention, tol=1e-6)
check("2a addition encoding", check_encoding)
check("2b addition model (>= 95% held out, in full mode)", check_addition_model)
exercises.summary()
