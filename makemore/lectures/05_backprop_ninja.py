# %% [markdown]
# # Lecture 5 — makemore part 4: becoming a backprop ninja
#
# Run it whole with `python lectures/05_backprop_ninja.py` (about 2 minutes on a 2-core CPU, most of it the
# 200,000 training steps of exercise 4), in seconds with `--fast`, or open this file as a notebook
# (`pip install jupytext`, then open it in Jupyter or VS Code; set `LECTURES_FAST=1` for the quick version).
# Try the exercises yourself first in `lectures/exercises_05.py`: the same four, with the gradients left blank.
#
# `loss.backward()` is a leaky abstraction: to debug a network that doesn't train you need to know what it
# does. In this lecture we write the backward pass of lecture 4's MLP ourselves, first one tiny operation
# at a time, then with the two derivations that collapse many operations into one formula, and finally
# train the net without autograd. Our `makemore.manual_backprop` is that code, kept as a module.

# %%
import time
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from makemore.data import Vocab, build_windows, load_words, split_words
from makemore.manual_backprop import ManualMLP, batchnorm_backward, cross_entropy_backward, manual_step
from makemore.training import train
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("05")
torch.set_num_threads(1)  # a tiny model: one thread is faster than two
SEED = 2147483647  # the lecture's generator seed
started = time.perf_counter()

words = load_words("names")
vocab = Vocab.from_words(words)
train_words, val_words, _ = split_words(words, seed=42)  # the lecture's shuffle and 80/10/10 cut
block_size, vocab_size = 3, len(vocab)
Xtr, Ytr = build_windows(train_words, vocab, block_size)
Xdev, Ydev = build_windows(val_words, vocab, block_size)
print(f"{len(words)} words, vocab {vocab_size}, train windows {tuple(Xtr.shape)}")


def cmp(name, dt, t):
    """Our gradient dt against autograd's t.grad: bit-exact? close? and the largest difference."""
    exact = torch.all(dt == t.grad).item()
    approximate = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    print(f"{name:15s} | exact: {str(exact):5s} | approximate: {str(approximate):5s} | maxdiff: {maxdiff:.3g}")
    return exact, maxdiff


# %% [markdown]
# ## The network and one batch
#
# Lecture 4's MLP with one BatchNorm layer, smaller (64 hidden units) so the tensors are easy to print. Some
# parameters get unusual values on purpose: `b1`, the biases and the BatchNorm gain and bias are small random
# numbers rather than exactly 0 or 1, because a zero or a one can hide a wrong gradient (multiply by one,
# add zero, and a missing term goes unnoticed). `b1` is useless before BatchNorm, which subtracts the mean;
# it is kept so its gradient — zero, up to rounding — is checked too.
#
# The lecture draws `bngain` and `bnbias` from torch's global generator, which its notebook never seeds; we
# draw them from a seeded one. Everything else comes from the lecture's seed in the lecture's order, so the
# batch is the lecture's, and the loss differs from its 3.3377 only through those two vectors.

# %%
n_embd, n_hidden = 10, 64


def init_params(n_hidden, g):
    """The lecture's initialisation; bngain/bnbias from a second, seeded generator (see above)."""
    fan_in = n_embd * block_size
    g_bn = torch.Generator().manual_seed(SEED + 1)
    P = dict(
        C=torch.randn((vocab_size, n_embd), generator=g),
        W1=torch.randn((fan_in, n_hidden), generator=g) * (5 / 3) / fan_in**0.5,
        b1=torch.randn(n_hidden, generator=g) * 0.1,
        W2=torch.randn((n_hidden, vocab_size), generator=g) * 0.1,
        b2=torch.randn(vocab_size, generator=g) * 0.1,
        bngain=torch.randn((1, n_hidden), generator=g_bn) * 0.1 + 1.0,
        bnbias=torch.randn((1, n_hidden), generator=g_bn) * 0.1,
    )
    return P


g = torch.Generator().manual_seed(SEED)
P = init_params(n_hidden, g)
lecture.result("params", sum(p.numel() for p in P.values()), lecture=4137)
batch_size = n = 32
ix = torch.randint(0, len(Xtr), (batch_size,), generator=g)
Xb, Yb = Xtr[ix], Ytr[ix]

# %% [markdown]
# ## The forward pass, one operation at a time
#
# Every line below is a single simple operation with a name, so that the backward pass can go through them
# one by one. The BatchNorm variance divides by n − 1 (Bessel's correction), as in the lecture; `bessel=False`
# divides by n, as `torch.nn.BatchNorm1d` and our `makemore.manual_backprop` do. We keep autograd's
# gradient of every intermediate (`retain_grad`) to check ours against.


# %%
def forward(P, Xb, Yb, bessel=True):
    n = len(Xb)
    emb = P["C"][Xb]  # (n, 3, 10) the embeddings of the context characters
    embcat = emb.view(n, -1)  # (n, 30) side by side
    hprebn = embcat @ P["W1"] + P["b1"]  # (n, 64) first layer
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)  # (1, 64) BatchNorm: batch mean
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1 if bessel else n) * bndiff2.sum(0, keepdim=True)  # (1, 64) batch variance
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv  # (n, 64) unit-Gaussian per unit
    hpreact = P["bngain"] * bnraw + P["bnbias"]
    h = torch.tanh(hpreact)  # (n, 64) hidden layer
    logits = h @ P["W2"] + P["b2"]  # (n, 27) second layer
    logit_maxes = logits.max(1, keepdim=True).values  # cross-entropy, spelled out: subtract the row max
    norm_logits = logits - logit_maxes  # so that exp cannot overflow
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdim=True)
    counts_sum_inv = counts_sum**-1  # (1.0 / counts_sum would not give bit-exact gradients)
    probs = counts * counts_sum_inv  # softmax
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    return SimpleNamespace(**{k: v for k, v in locals().items() if k not in ("P", "Xb", "Yb", "bessel", "n")})


def with_autograd(P, Xb, Yb, bessel=True):
    """The forward pass on leaf copies of the parameters, then loss.backward(), keeping every gradient."""
    P = {k: v.clone().requires_grad_() for k, v in P.items()}
    f = forward(P, Xb, Yb, bessel)
    for name, t in vars(f).items():
        if name != "loss":
            t.retain_grad()
    f.loss.backward()
    return P, f


P_grad, f = with_autograd(P, Xb, Yb)
lecture.result("loss", f.loss.item(), lecture=3.3377)

# %% [markdown]
# ## Exercise 1: backprop through the whole thing, step by step
#
# Walk the forward pass backwards. For each line `y = op(x)` we already know `dy` = ∂loss/∂y, and `dx` is the
# local derivative of `op` times `dy`. Three rules cover everything here:
#
# - **broadcasting in the forward pass is a sum in the backward pass**: `counts_sum_inv` (n, 1) was used by
#   all 27 columns of `probs`, so its gradient sums their contributions along dim 1;
# - **a sum in the forward pass is a broadcast (copy) in the backward pass**: every element of a row got
#   the row sum's gradient;
# - **a variable used twice gets the sum of both gradients**: `counts` feeds `probs` directly and through
#   `counts_sum`; `bndiff` feeds `bnraw` and `bndiff2`; `hprebn` feeds `bndiff` and `bnmeani`.
#
# A matrix multiply's gradients follow from the shapes: `dh = dlogits @ W2.T` is the only product of the
# available tensors with `h`'s shape. The embedding lookup copied rows of `C`, so `dC` adds each row of
# `demb` back to the row of `C` it came from. Then `cmp` checks every one against autograd.
#
# In the lecture every gradient came out bit-exact. With torch 2.13 the ones above the tanh still do, but
# from `hpreact` down they differ from autograd's in the last bits (≤ 1e-8): torch's tanh backward kernel now
# rounds `(1 − h²)·dh` differently from the same expression written in Python, and every gradient below
# inherits that. The formulas are the same; `approximate` is the check that matters.


# %%
def backward_atomic(P, f, Xb, Yb, bessel=True):
    n = len(Xb)
    d = SimpleNamespace()
    d.logprobs = torch.zeros_like(f.logprobs)
    d.logprobs[range(n), Yb] = -1.0 / n  # loss is minus the mean of n picked entries
    d.probs = (1.0 / f.probs) * d.logprobs  # log
    d.counts_sum_inv = (f.counts * d.probs).sum(1, keepdim=True)  # broadcast over columns -> sum
    d.counts = f.counts_sum_inv * d.probs  # first use of counts ...
    d.counts_sum = (-(f.counts_sum**-2)) * d.counts_sum_inv
    d.counts += torch.ones_like(f.counts) * d.counts_sum  # ... second use, through the row sum
    d.norm_logits = f.counts * d.counts  # exp' = exp
    d.logit_maxes = (-d.norm_logits).sum(1, keepdim=True)
    d.logits = d.norm_logits.clone()  # logits feed norm_logits directly ...
    d.logits += F.one_hot(f.logits.max(1).indices, num_classes=f.logits.shape[1]) * d.logit_maxes  # ... and the max
    d.h = d.logits @ P["W2"].T
    d.W2 = f.h.T @ d.logits
    d.b2 = d.logits.sum(0)
    d.hpreact = (1.0 - f.h**2) * d.h  # tanh' = 1 - tanh^2
    d.bngain = (f.bnraw * d.hpreact).sum(0, keepdim=True)
    d.bnraw = P["bngain"] * d.hpreact
    d.bnbias = d.hpreact.sum(0, keepdim=True)
    d.bndiff = f.bnvar_inv * d.bnraw
    d.bnvar_inv = (f.bndiff * d.bnraw).sum(0, keepdim=True)
    d.bnvar = (-0.5 * (f.bnvar + 1e-5) ** -1.5) * d.bnvar_inv
    d.bndiff2 = (1.0 / (n - 1 if bessel else n)) * torch.ones_like(f.bndiff2) * d.bnvar
    d.bndiff += (2 * f.bndiff) * d.bndiff2
    d.hprebn = d.bndiff.clone()
    d.bnmeani = (-d.bndiff).sum(0, keepdim=True)
    d.hprebn += 1.0 / n * (torch.ones_like(f.hprebn) * d.bnmeani)
    d.embcat = d.hprebn @ P["W1"].T
    d.W1 = f.embcat.T @ d.hprebn
    d.b1 = d.hprebn.sum(0)
    d.emb = d.embcat.view(f.emb.shape)
    d.C = torch.zeros_like(P["C"])
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            d.C[Xb[k, j]] += d.emb[k, j]
    return d


with torch.no_grad():
    d = backward_atomic(P, f, Xb, Yb)
order = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes", "logits", "h",
         "W2", "b2", "hpreact", "bngain", "bnbias", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani",
         "hprebn", "embcat", "W1", "b1", "emb", "C"]  # fmt: skip
checks = [cmp(name, getattr(d, name), P_grad[name] if name in P_grad else getattr(f, name)) for name in order]
lecture.result("ex1_exact", sum(exact for exact, _ in checks), lecture=26)
lecture.result("ex1_maxdiff", max(diff for _, diff in checks), lecture=0.0, fmt=".3g")

# %% [markdown]
# Our `makemore.manual_backprop.ManualMLP.backward` is this function with the variance divided by n (like
# torch's BatchNorm). Given the same parameters and batch, it produces the same gradient for every tensor.

# %%
model = ManualMLP(vocab_size, block_size, n_embd, n_hidden, torch.Generator().manual_seed(0))
model.params = {k: v.clone() for k, v in P.items()}
package_f = model.forward(Xb, Yb)
package_d = model.backward(Xb, Yb, package_f)
with torch.no_grad():
    biased_f = forward(P, Xb, Yb, bessel=False)
    biased_d = backward_atomic(P, biased_f, Xb, Yb, bessel=False)
worst = max((getattr(biased_d, name) - package_d[name]).abs().max().item() for name in order)
assert worst < 1e-6, worst
print(f"ManualMLP.backward == backward_atomic(bessel=False) for all {len(order)} tensors (max diff {worst:.2g})")

# %% [markdown]
# ## Exercise 2: cross-entropy backward in one line
#
# Eight operations compute the loss from the logits, but on paper their derivative is short. For one row with
# probabilities p = softmax(logits) and the right answer y, loss = −log p_y, and ∂loss/∂logit_i = p_i − 1[i = y].
# Averaged over the batch: `dlogits = (softmax(logits) − one_hot(Y)) / n`. It matches autograd to rounding
# (a different order of floating-point operations, so not bit for bit).
#
# What it means: each row of `dlogits` pushes down on every wrong character in proportion to its
# probability and pulls up on the right one by 1 − p_y — and the pushes and pulls exactly balance: every row
# sums to zero. In the heatmap the dark cell of each row is the correct character.

# %%
loss_fast = F.cross_entropy(f.logits, Yb)
print(f"F.cross_entropy {loss_fast.item():.6f}, ours {f.loss.item():.6f}, diff {(loss_fast - f.loss).item():.2g}")
with torch.no_grad():
    dlogits = F.softmax(f.logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
_, ex2_diff = cmp("logits", dlogits, f.logits)
lecture.result("ex2_maxdiff", ex2_diff, lecture=5.12e-09, fmt=".3g")
row_sums = dlogits.sum(1).abs().max().item()
print(f"largest |row sum| of dlogits: {row_sums:.2g}")
lecture.result("ex2_row_sum", row_sums, lecture=1.4e-09, fmt=".2g")
assert torch.allclose(cross_entropy_backward(f.logits.detach(), Yb), dlogits)  # makemore.manual_backprop's one

# %% [markdown]
# The lecture looks at one row: the first example's probabilities, and `dlogits[0]` times n (undoing the batch
# mean). They are the same 27 numbers except at the correct character, where 1 has been subtracted: p − 1 < 0,
# a pull up, while every other entry, a push down, is just that character's probability. Summed, p's give 1 and
# the −1 takes it away: the row sums to zero, up to float rounding.

# %%
with torch.no_grad():
    probs0 = F.softmax(f.logits, 1)[0]
    row0 = dlogits[0] * n
target0 = Yb[0].item()
print(f"example 0: the correct next character is {vocab.itos[target0]!r} (id {target0})")
print("softmax(logits)[0]:", " ".join(f"{v:.4f}" for v in probs0.tolist()))
print("dlogits[0] * n:    ", " ".join(f"{v:.4f}" for v in row0.tolist()))
assert torch.allclose(row0, probs0 - F.one_hot(Yb[0], vocab_size))  # softmax minus one-hot, exactly that
print(f"dlogits[0, {target0}] * n = {row0[target0]:.4f} = p - 1 = {probs0[target0]:.4f} - 1; sum of dlogits[0]: "
      f"{dlogits[0].sum().item():.3g}")  # fmt: skip
lecture.result("dlogits0_at_target", row0[target0].item(), lecture=-0.9835)
lecture.result("dlogits0_p_target", probs0[target0].item(), lecture=0.0165)
lecture.result("dlogits0_sum", abs(dlogits[0].sum().item()), lecture=1.3970e-09, fmt=".2g")

fig, ax = plt.subplots(figsize=(8, 3))
ids = range(vocab_size)
ax.bar(ids, probs0.numpy(), color="0.7", label="softmax(logits)[0]")
ax.bar(ids, row0.numpy(), width=0.4, color="k", label="dlogits[0] · n")
ax.axhline(0, color="k", linewidth=0.5)
ax.set_xticks(list(ids), list(vocab.itos))
ax.set_title(f"example 0: correct character {vocab.itos[target0]!r}, where dlogits = p − 1", fontsize=10)
ax.legend(fontsize=8)
lecture.savefig(fig, "dlogits_row0.png")

fig, ax = plt.subplots(figsize=(5, 5))
ax.imshow(dlogits.numpy(), cmap="gray")
ax.set_title("dlogits: 32 examples × 27 characters", fontsize=10)
ax.set_xlabel("character id")
ax.set_ylabel("example")
lecture.savefig(fig, "dlogits.png", docs=True, dpi=70)
plt.close(fig)

# %% [markdown]
# ## Exercise 3: BatchNorm backward in one line
#
# The same for BatchNorm: with x̂ = (x − mean) / √(var + ε) and out = γ·x̂ + β, every input moves the mean and
# the variance, so each input's gradient depends on the whole batch. The lecture works it out on paper, for one
# unit (one column) and a batch x₁ … xₙ, going backwards through the four lines of the forward pass:
#
#     μ = 1/n · Σᵢ xᵢ                      σ² = 1/(n−1) · Σᵢ (xᵢ − μ)²
#     x̂ᵢ = (xᵢ − μ) / √(σ² + ε)            yᵢ = γ·x̂ᵢ + β
#
# 1. ∂L/∂x̂ᵢ = γ · ∂L/∂yᵢ
# 2. σ² reaches L through every x̂ᵢ:  ∂L/∂σ² = Σᵢ ∂L/∂x̂ᵢ · (xᵢ − μ) · (−½)(σ² + ε)^(−3/2)
# 3. μ reaches L through every x̂ᵢ and through σ²:
#    ∂L/∂μ = Σᵢ ∂L/∂x̂ᵢ · (−1/√(σ² + ε)) + ∂L/∂σ² · (−2/(n−1)) · Σᵢ (xᵢ − μ);  the last sum is zero, so that term drops
# 4. xᵢ reaches L three ways — through x̂ᵢ, σ² and μ:
#    ∂L/∂xᵢ = ∂L/∂x̂ᵢ / √(σ² + ε) + ∂L/∂σ² · 2(xᵢ − μ)/(n−1) + ∂L/∂μ / n
#
# Each intermediate is checked against autograd's gradient of the matching tensor of the step-by-step forward
# pass (`bnraw` is x̂, `bnvar` σ², `bnmeani` μ, `hprebn` x).


# %%
def batchnorm_backward_steps(dy, x, gamma, eps=1e-5):
    """The four steps above, for every unit at once (columns are units); returns each intermediate gradient."""
    n = len(x)
    mu = x.mean(0, keepdim=True)
    var = ((x - mu) ** 2).sum(0, keepdim=True) / (n - 1)
    dxhat = gamma * dy  # 1.
    dvar = (dxhat * (x - mu)).sum(0, keepdim=True) * -0.5 * (var + eps) ** -1.5  # 2.
    dmu = (dxhat * -((var + eps) ** -0.5)).sum(0, keepdim=True) + dvar * (-2 / (n - 1)) * (x - mu).sum(0, keepdim=True)
    dx = dxhat * (var + eps) ** -0.5 + dvar * 2 * (x - mu) / (n - 1) + dmu / n  # 4.
    return SimpleNamespace(xhat=dxhat, var=dvar, mu=dmu, x=dx)


with torch.no_grad():
    steps = batchnorm_backward_steps(f.hpreact.grad, f.hprebn, P["bngain"])
step_diffs = [cmp(label, getattr(steps, attr), t)[1] for label, attr, t in (
    ("1 dxhat", "xhat", f.bnraw), ("2 dvar", "var", f.bnvar), ("3 dmu", "mu", f.bnmeani), ("4 dx", "x", f.hprebn)
)]  # fmt: skip
lecture.result("bn_steps_maxdiff", max(step_diffs), lecture="-", fmt=".3g")

# %% [markdown]
# Now put the pieces together. Write s = 1/√(σ² + ε), so x̂ᵢ = (xᵢ − μ)·s, and let dyᵢ = ∂L/∂yᵢ. Step 2 is
# ∂L/∂σ² = −½ s³ · γ Σⱼ dyⱼ (xⱼ − μ) = −½ s² · γ Σⱼ dyⱼ x̂ⱼ, and step 3 (its last term zero) is ∂L/∂μ = −s·γ Σⱼ dyⱼ.
# Into step 4:
#
#     ∂L/∂xᵢ = s·γ·dyᵢ − s²·γ·(xᵢ − μ)/(n−1) · Σⱼ dyⱼ x̂ⱼ − s·γ/n · Σⱼ dyⱼ
#            = γ·s/n · (n·dyᵢ − Σⱼ dyⱼ − n/(n−1) · x̂ᵢ · Σⱼ dyⱼ x̂ⱼ)
#
# — one line, with c = n/(n−1) for Bessel's variance (c = 1 when the variance divides by n):
#
#     dx = γ / (n·√(var + ε)) · (n·dout − Σ dout − c·x̂·Σ(dout·x̂))
#
# First the forward pass in one line matches the step-by-step one; then the gradient, against autograd and
# against the four steps just taken.


# %%
def batchnorm_backward_fused(dhpreact, bnraw, bngain, bnvar_inv, bessel=True):
    n = len(dhpreact)
    c = n / (n - 1) if bessel else 1.0
    return bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - c * bnraw * (dhpreact * bnraw).sum(0))


with torch.no_grad():
    var = f.hprebn.var(0, keepdim=True, unbiased=True)
    hpreact_fast = P["bngain"] * (f.hprebn - f.hprebn.mean(0, keepdim=True)) / torch.sqrt(var + 1e-5) + P["bnbias"]
    print(f"one-line BatchNorm forward: max diff {(hpreact_fast - f.hpreact).abs().max():.2g}")
    dhprebn = batchnorm_backward_fused(f.hpreact.grad, f.bnraw, P["bngain"], f.bnvar_inv)
_, ex3_diff = cmp("hprebn", dhprebn, f.hprebn)
lecture.result("ex3_maxdiff", ex3_diff, lecture=9.3e-10, fmt=".3g")
closed_vs_steps = (dhprebn - steps.x).abs().max().item()
print(f"closed form vs the four steps: max diff {closed_vs_steps:.3g}")
lecture.result("ex3_closed_vs_steps", closed_vs_steps, lecture="-", fmt=".3g")

# the same formula with c = 1 is our package's batchnorm_backward, for the variance divided by n
_, biased_autograd = with_autograd(P, Xb, Yb, bessel=False)
with torch.no_grad():
    ours = batchnorm_backward_fused(
        biased_autograd.hpreact.grad, biased_autograd.bnraw, P["bngain"], biased_autograd.bnvar_inv, bessel=False
    )
    package = batchnorm_backward(
        biased_autograd.hpreact.grad, biased_autograd.bnraw, P["bngain"], biased_autograd.bnvar_inv
    )
assert torch.allclose(ours, package, atol=1e-9) and torch.allclose(ours, biased_autograd.hprebn.grad, atol=1e-8)
print(
    f"bessel=False: == makemore.manual_backprop.batchnorm_backward, max diff to autograd "
    f"{(package - biased_autograd.hprebn.grad).abs().max():.2g}"
)

# %% [markdown]
# ## Exercise 4: putting it all together
#
# Now train lecture 4's network (200 hidden units, 12,297 parameters) with our own backward pass: the
# fused cross-entropy, the tanh and matrix-multiply steps, the fused BatchNorm, and the embedding. No
# `loss.backward()` anywhere: the loop runs under `torch.no_grad()`. First, five steps side by side with an
# autograd-trained copy: the two stay together to rounding. Then the whole run, the lecture's 200,000 steps
# (lr 0.1, then 0.01 for the second half), a calibration pass for BatchNorm's statistics, and the losses.
# (`b1`'s true gradient is zero — BatchNorm subtracts the mean — so both sides are rounding noise of about
# 1e-8, and `approximate` may say False for it.)


# %%
def manual_grads(P, Xb, Yb, bessel=True):
    """Gradients of every parameter, by hand: the fused formulas of exercises 2 and 3 plus exercise 1's steps."""
    n = len(Xb)
    emb = P["C"][Xb]
    embcat = emb.view(n, -1)
    hprebn = embcat @ P["W1"] + P["b1"]
    bnvar = hprebn.var(0, keepdim=True, unbiased=bessel)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = (hprebn - hprebn.mean(0, keepdim=True)) * bnvar_inv
    h = torch.tanh(P["bngain"] * bnraw + P["bnbias"])
    logits = h @ P["W2"] + P["b2"]
    loss = F.cross_entropy(logits, Yb)
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    dh = dlogits @ P["W2"].T
    dhpreact = (1.0 - h**2) * dh
    dhprebn = batchnorm_backward_fused(dhpreact, bnraw, P["bngain"], bnvar_inv, bessel)
    demb = (dhprebn @ P["W1"].T).view(emb.shape)
    grads = dict(
        C=torch.zeros_like(P["C"]).index_add_(0, Xb.view(-1), demb.view(-1, n_embd)),  # the double loop, vectorised
        W1=embcat.T @ dhprebn,
        b1=dhprebn.sum(0),
        W2=h.T @ dlogits,
        b2=dlogits.sum(0),
        bngain=(bnraw * dhpreact).sum(0, keepdim=True),
        bnbias=dhpreact.sum(0, keepdim=True),
    )
    return loss, grads


g = torch.Generator().manual_seed(SEED)
P = init_params(200, g)
lecture.result("ex4_params", sum(p.numel() for p in P.values()), lecture=12297)
P_autograd = {k: v.clone().requires_grad_() for k, v in P.items()}
for i in range(5):
    ix = torch.randint(0, len(Xtr), (batch_size,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]
    f_auto = forward(P_autograd, Xb, Yb)
    f_auto.loss.backward()
    with torch.no_grad():
        loss, grads = manual_grads(P, Xb, Yb)
        if i == 0:
            for name in P:
                cmp(name, grads[name], P_autograd[name])
        for name in P:
            P[name] -= 0.1 * grads[name]
            P_autograd[name] -= 0.1 * P_autograd[name].grad
            P_autograd[name].grad = None
drift = max((P[k] - P_autograd[k]).abs().max().item() for k in P)
print(f"after 5 steps, manual vs autograd parameters: max diff {drift:.2g}")
lecture.result("ex4_drift", drift, lecture="-", fmt=".2g")

# %%
STEPS = lecture.steps(full=200_000, fast=2_000)
t0 = time.perf_counter()
losses = []
with torch.no_grad():
    for i in range(5, STEPS):  # the five steps above were the first five
        ix = torch.randint(0, len(Xtr), (batch_size,), generator=g)
        loss, grads = manual_grads(P, Xtr[ix], Ytr[ix])
        lr = 0.1 if i < STEPS // 2 else 0.01
        for name in P:
            P[name] -= lr * grads[name]
        losses.append(loss.item())
        if i % (STEPS // 10) == 0:
            print(f"{i:7d}/{STEPS:7d}: {loss.item():.4f}")
seconds = time.perf_counter() - t0
print(f"{STEPS:,} steps in {seconds:.0f} s ({1000 * seconds / STEPS:.2f} ms/step)")


@torch.no_grad()
def split_loss(X, Y, mean, var):
    hpreact = P["C"][X].view(len(X), -1) @ P["W1"] + P["b1"]
    h = torch.tanh(P["bngain"] * (hpreact - mean) * (var + 1e-5) ** -0.5 + P["bnbias"])
    return F.cross_entropy(h @ P["W2"] + P["b2"], Y).item()


with torch.no_grad():  # calibrate BatchNorm on the whole training set
    hpreact = P["C"][Xtr].view(len(Xtr), -1) @ P["W1"] + P["b1"]
    bnmean, bnvar = hpreact.mean(0, keepdim=True), hpreact.var(0, keepdim=True, unbiased=True)
train_loss, val_loss = split_loss(Xtr, Ytr, bnmean, bnvar), split_loss(Xdev, Ydev, bnmean, bnvar)
print(f"train {train_loss:.4f}  val {val_loss:.4f}   (lecture after 200,000 steps: train 2.0705  val 2.1099)")
lecture.result("ex4_train", train_loss, lecture=2.0705)
lecture.result("ex4_val", val_loss, lecture=2.1099)
print("the package's version of this run: python train.py --model manual-mlp (divides the variance by n)")

fig, ax = plt.subplots(figsize=(7, 3))
window = max(1, len(losses) // 200)
ax.plot([sum(losses[i : i + window]) / window for i in range(0, len(losses) - window + 1, window)])
ax.set_title(f"exercise 4: training loss without .backward(), mean of {window} steps", fontsize=10)
lecture.savefig(fig, "manual_training_loss.png", dpi=70)
plt.close(fig)

g_sample = torch.Generator().manual_seed(SEED + 10)
names = []
for _ in range(20):
    context, out = [0] * block_size, []
    while True:
        hpreact = P["C"][torch.tensor([context])].view(1, -1) @ P["W1"] + P["b1"]
        h = torch.tanh(P["bngain"] * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + P["bnbias"])
        ix = torch.multinomial(F.softmax(h @ P["W2"] + P["b2"], dim=1), num_samples=1, generator=g_sample).item()
        context = context[1:] + [ix]
        if ix == 0:
            break
        out.append(vocab.itos[ix])
    names.append("".join(out))
print("samples:", " ".join(names))

# %% [markdown]
# Our package trains the same way: `makemore.manual_backprop.manual_step` is this loop's body (with the
# variance divided by n and running BatchNorm statistics instead of a calibration pass), and `python train.py
# --model manual-mlp` is the whole run (200,000 steps, figures in the README). From the same start and the
# same batches, a few of its steps give the same parameters as our loop with `bessel=False`.

# %%
K = 20
start = init_params(200, torch.Generator().manual_seed(SEED))
model = ManualMLP(vocab_size, block_size, n_embd, 200, torch.Generator().manual_seed(0))
model.params = {k: v.clone() for k, v in start.items()}
train(
    manual_step(model),
    Xtr,
    Ytr,
    steps=K,
    batch_size=32,
    lr_at=lambda i: 0.1,
    generator=torch.Generator().manual_seed(1),
)
g_inline = torch.Generator().manual_seed(1)
with torch.no_grad():
    for _ in range(K):
        ix = torch.randint(0, len(Xtr), (batch_size,), generator=g_inline)
        _, grads = manual_grads(start, Xtr[ix], Ytr[ix], bessel=False)
        for name in start:
            start[name] -= 0.1 * grads[name]
worst = max((start[k] - model.params[k]).abs().max().item() for k in start)
assert worst < 1e-5, worst
print(f"{K} steps of makemore.manual_backprop.manual_step == our loop (bessel=False): max diff {worst:.2g}")

# %% [markdown]
# ## Summary
#
# Backpropagation is the chain rule applied one small operation at a time, plus three bookkeeping rules
# (broadcast ↔ sum, and add the gradients of a variable used twice). Done once by hand, it stops being
# magic — and the fused formulas show how much simpler the gradient can be than the forward pass it comes
# from.

# %%
print(f"lecture 05 done in {time.perf_counter() - started:.0f} s")
