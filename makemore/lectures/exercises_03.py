# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lecture 3 exercises — tuning the MLP
#
# The video's exercises, with the code left for you. Fill in each function whose body is
# `raise NotImplementedError  # YOUR CODE`, then run `python lectures/exercises_03.py` (or the notebook's cells):
# the last cell checks each one and says *not done*, *wrong* (with what is off, and a hint) or *right*. The
# walkthrough `lectures/03_mlp.py` has the network, its training loop and its numbers.
#
# The check trains the network for E01, all your steps: about half a minute for 20,000 steps of 64 examples. With
# `--fast` (or LECTURES_FAST=1) it trains only a twentieth of them against an easier target: a quick test of your
# settings, not the exercise.

# %%
import math

import torch
import torch.nn.functional as F

from makemore.data import Vocab, build_windows, load_words, split_words
from zero_to_hero.lectures import Exercises, fast_mode

torch.set_num_threads(1)
SEED = 2147483647
words = load_words("names")
vocab = Vocab.from_words(words)
train_words, dev_words, _ = split_words(words, seed=42)  # lecture 4's 80/10/10 split (182,625 training windows)
EXAMPLE_BUDGET = 1_280_000  # steps × batch size: 20,000 steps of 64, or 40,000 of 32, ...
TARGET = 2.2  # the lecture's best dev loss was 2.17 after 200,000 steps of 32 (6,400,000 examples)


def lecture_init(g: torch.Generator, block_size: int, n_embd: int, n_hidden: int) -> list[torch.Tensor]:
    """Lecture 3's parameters [C, W1, b1, W2, b2]: every one a plain standard normal draw."""
    return [
        torch.randn((27, n_embd), generator=g),
        torch.randn((block_size * n_embd, n_hidden), generator=g),
        torch.randn(n_hidden, generator=g),
        torch.randn((n_hidden, 27), generator=g),
        torch.randn(27, generator=g),
    ]


def forward(params: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """Lecture 3's network: embed, concatenate, tanh layer, output layer. Returns logits (n, 27)."""
    C, W1, b1, W2, b2 = params
    emb = C[X]  # (n, block_size, n_embd)
    h = torch.tanh(emb.view(len(X), -1) @ W1 + b1)
    return h @ W2 + b2


# %% [markdown]
# ## E01: beat a dev loss of 2.2
#
# Lecture 3's network, trained with its loop (minibatch SGD, batches drawn from the seeded generator), on the
# 80/10/10 split above. Choose its settings so that the loss on the dev words ends below 2.2, seeing at most
# 1,280,000 training examples (steps × batch size). Return a dict with:
#
# - `block_size`, `n_embd`, `n_hidden`: context length, embedding size, hidden units (the lecture: 3, 10, 200)
# - `batch_size`, `steps`
# - `lr`: a function of the step number (0 to steps − 1) giving its learning rate (the lecture: 0.1, then 0.01)
# - optionally `init`: a function like `lecture_init` above that makes the parameters (E02 may help)


# %%
def settings() -> dict:
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## E02: the loss at initialization
#
# Lecture 3's network starts with a loss of about 27. (1) If the network predicted every character with the same
# probability, what would its loss be? Compute it. (2) Write an initialization, in the form of `lecture_init`, whose
# loss on the training set before any step is within 0.05 of that number (keep the weights random: a net of zeros
# cannot learn different features in its hidden units).


# %%
def uniform_loss() -> float:
    """The average negative log likelihood when every one of the 27 characters gets the same probability."""
    raise NotImplementedError  # YOUR CODE


def init_params(g: torch.Generator, block_size: int, n_embd: int, n_hidden: int) -> list[torch.Tensor]:
    """[C, W1, b1, W2, b2], as `lecture_init`, scaled so that the first loss is close to uniform_loss()."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Check


# %%
def say(text: str) -> None:
    print(f"  {text}")


@torch.no_grad()
def split_loss(params: list[torch.Tensor], X: torch.Tensor, Y: torch.Tensor) -> float:
    return F.cross_entropy(forward(params, X), Y).item()


def check_e01() -> bool:
    s = settings()
    block_size, n_embd, n_hidden = int(s["block_size"]), int(s["n_embd"]), int(s["n_hidden"])
    batch_size, steps, lr = int(s["batch_size"]), int(s["steps"]), s["lr"]
    if steps * batch_size > EXAMPLE_BUDGET:
        say(f"{steps} steps × batch {batch_size} = {steps * batch_size:,} examples: over the budget of 1,280,000")
        return False
    stride = 20 if fast_mode() else 1  # fast mode: every 20th step of your schedule, an easier target
    target = 2.45 if fast_mode() else TARGET
    Xtr, Ytr = build_windows(train_words, vocab, block_size)
    Xdev, Ydev = build_windows(dev_words, vocab, block_size)
    g = torch.Generator().manual_seed(SEED)
    params = [p.float().requires_grad_() for p in s.get("init", lecture_init)(g, block_size, n_embd, n_hidden)]
    losses = []
    for i in range(0, steps, stride):
        ix = torch.randint(0, len(Xtr), (batch_size,), generator=g)
        loss = F.cross_entropy(forward(params, Xtr[ix]), Ytr[ix])
        losses.append(loss.item())
        if not math.isfinite(loss.item()):
            say(f"the loss is {loss.item()} at step {i}: hint: the learning rate ({lr(i):g}) is too high")
            return False
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr(i) * p.grad
    dev = split_loss(params, Xdev, Ydev)
    n_params = sum(p.nelement() for p in params)
    fast = f" (fast mode: every {stride}th of your {steps})" if stride > 1 else ""
    say(f"{n_params:,} parameters, {len(losses)} steps{fast}: first minibatch loss {losses[0]:.4f}")
    say(f"dev loss {dev:.4f}, target below {target}")
    if not dev < target:
        say("hint: the knobs are the learning rate and its decay, the sizes, the batch size, and the init (E02)")
    return dev < target


def check_e02_uniform() -> float:
    ours = float(uniform_loss())
    if abs(ours - math.log(27)) > 1e-4:
        say(f"yours {ours:.4f}: hint: each character's probability is 1/27, and the loss is -log of it")
    return abs(ours - math.log(27))


def check_e02_init() -> bool:
    block_size, n_embd, n_hidden = 3, 10, 200
    params = init_params(torch.Generator().manual_seed(SEED), block_size, n_embd, n_hidden)
    expected = [(27, n_embd), (block_size * n_embd, n_hidden), (n_hidden,), (n_hidden, 27), (27,)]
    for name, p, shape in zip(("C", "W1", "b1", "W2", "b2"), params, expected, strict=True):
        if tuple(p.shape) != shape:
            say(f"{name} has shape {tuple(p.shape)}, expected {shape}")
            return False
    if params[1].std() < 1e-3:
        say("W1 is (nearly) all zeros: every hidden unit would compute the same thing; scale it, don't zero it")
        return False
    Xtr, Ytr = build_windows(train_words, vocab, block_size)
    first = split_loss([p.float() for p in params], Xtr, Ytr)
    say(f"loss on the training set at init: {first:.4f} (uniform: {math.log(27):.4f}; lecture 3's init: 27)")
    if abs(first - math.log(27)) > 0.05:
        say("hint: the logits should be near 0 at init, so scale W2 down and b2 to (near) 0")
    return abs(first - math.log(27)) <= 0.05


exercises = Exercises()
exercises.check("E01 dev loss below 2.2", check_e01)
exercises.check("E02 uniform loss", check_e02_uniform, tol=1e-4)
exercises.check("E02 init near it", check_e02_init)
exercises.summary()
