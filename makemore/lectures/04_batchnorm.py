# %% [markdown]
# # Lecture 4 — makemore part 3: activations, gradients, BatchNorm
#
# Run it whole with `python lectures/04_batchnorm.py` (about 4 minutes on a 2-core CPU), in seconds with
# `--fast` (tiny step counts, same code), or open this file as a notebook (`pip install jupytext`, then open
# it in Jupyter or VS Code; set `LECTURES_FAST=1` for the quick version). Figures land in `out/lectures/04/`.
#
# The lecture takes lecture 3's MLP and asks why it trains the way it does: what the loss should be at the
# start, what the tanh units are doing, how big the weights should be, and how BatchNorm makes all of that
# less fragile. Then it turns the code into layers (our `makemore.layers`) and builds the plots that tell a
# healthy deep network from a sick one (our `makemore.diagnostics`).

# %%
import math
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from makemore.data import Vocab, build_windows, load_words, split_words
from makemore.diagnostics import SATURATED, UpdateRatios, snapshot
from makemore.layers import TANH_GAIN, BatchNorm1d, Embedding, Flatten, Linear, Tanh, bn_mlp
from makemore.sampling import sample_words
from makemore.training import evaluate, sgd_step, step_decay, train
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("04")
torch.set_num_threads(1)  # these models are tiny: one thread is faster than two fighting over them
SEED = 2147483647  # the lecture's generator seed: with it our first numbers are the lecture's, digit for digit
started = time.perf_counter()

words = load_words("names")
vocab = Vocab.from_words(words)
train_words, val_words, test_words = split_words(words, seed=42)  # the lecture's shuffle(seed 42) and 80/10/10 cut
block_size = 3
Xtr, Ytr = build_windows(train_words, vocab, block_size)
Xdev, Ydev = build_windows(val_words, vocab, block_size)
vocab_size = len(vocab)
print(f"{len(words)} words, vocab {vocab_size}, train windows {tuple(Xtr.shape)}, val windows {tuple(Xdev.shape)}")
lecture.result("train_windows", len(Xtr), lecture=182625)

# %% [markdown]
# ## MLP revisited
#
# Lecture 3's network, written out again: an embedding table `C` (27 × 10), a hidden layer of 200 tanh units
# over the 3 concatenated embeddings, and a linear output layer. `init_mlp` draws the parameters in the
# lecture's order from the lecture's seed, with a scale per tensor so that each fix below is one argument.
# The first minibatch loss is the lecture's 27.88: the net starts out very sure of the wrong answers.

# %%
n_embd, n_hidden = 10, 200


def init_mlp(w1_scale=1.0, b1_scale=1.0, w2_scale=1.0, b2_scale=1.0):
    """C, W1, b1, W2, b2 drawn from the lecture's generator; the generator is returned to draw batches with."""
    g = torch.Generator().manual_seed(SEED)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * w1_scale
    b1 = torch.randn(n_hidden, generator=g) * b1_scale
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * w2_scale
    b2 = torch.randn(vocab_size, generator=g) * b2_scale
    return [C, W1, b1, W2, b2], g


def first_batch(params, g):
    """The hidden activations and loss of the first minibatch the lecture's loop would draw."""
    C, W1, b1, W2, b2 = params
    ix = torch.randint(0, len(Xtr), (32,), generator=g)
    h = torch.tanh(C[Xtr[ix]].view(32, -1) @ W1 + b1)  # (32, 200)
    return h, F.cross_entropy(h @ W2 + b2, Ytr[ix])


params, g = init_mlp()
print(f"{sum(p.numel() for p in params)} parameters")
h_original, loss_original = first_batch(params, g)
lecture.result("init_loss", loss_original.item(), lecture=27.8817)

# %% [markdown]
# ## Fixing the initial loss
#
# What loss should an untrained net have? The lecture first asks it of a toy: four classes, four logits, the
# right answer is class 2. With all logits equal (whatever their value) softmax gives each class 1/4 and the
# loss is −ln(1/4) = ln 4 = 1.3863. A large logit on the right class drives the loss towards 0; the same large
# logit on a wrong class drives it up without bound. Large *random* logits are a lottery: when the largest
# happens to sit on the right class the loss is tiny, otherwise it is huge — and with 27 classes instead of 4
# it mostly sits elsewhere: the net is confidently wrong. So at init the logits should be near zero and alike.


# %%
def four_logit_loss(logits, target=2):
    """-log of the softmax probability of `target` among four logits."""
    probs = torch.softmax(torch.tensor(logits, dtype=torch.float32), dim=0)
    return -probs[target].log().item()


gt = torch.Generator().manual_seed(SEED)
toy = {
    "all equal (0)": [0.0, 0.0, 0.0, 0.0],
    "all equal (5)": [5.0, 5.0, 5.0, 5.0],
    "confident and right": [0.0, 0.0, 5.0, 0.0],
    "confident and wrong": [0.0, 5.0, 0.0, 0.0],
    **{f"random x 10 (#{k})": (torch.randn(4, generator=gt) * 10).tolist() for k in range(1, 4)},
}
for name, logits in toy.items():
    print(f"{name:<20} logits {' '.join(f'{v:6.2f}' for v in logits)}   loss {four_logit_loss(logits):.4f}")
lecture.result("toy_equal_loss", four_logit_loss(toy["all equal (0)"]), lecture="1.3863 (ln 4)")
lecture.result("toy_equal5_loss", four_logit_loss(toy["all equal (5)"]), lecture="1.3863 (ln 4)")
lecture.result("toy_right_loss", four_logit_loss(toy["confident and right"]), lecture=0.0200)
lecture.result("toy_wrong_loss", four_logit_loss(toy["confident and wrong"]), lecture="-")
random_losses = [four_logit_loss(v) for k, v in toy.items() if k.startswith("random")]
lecture.result("toy_random_loss_max", max(random_losses), lecture="-", fmt=".2f")

# %% [markdown]
# Back to 27 characters. Before training has seen any data, no character should be more likely than another,
# so the first loss should be that of the uniform guess: −ln(1/27) = 3.2958. Ours is 27.9 because the logits
# come out large, and softmax turns large random logits into confident, mostly wrong, predictions. Shrinking
# the output layer (`W2 × 0.01`, `b2 = 0`) makes the logits nearly equal at the start. The lecture warns
# against setting `W2` exactly to zero: small random values keep the symmetry between hidden units broken.

# %%
expected = -torch.tensor(1 / 27.0).log().item()
lecture.result("expected_loss", expected, lecture=3.2958)
h_softmax_fixed, loss_softmax_fixed = first_batch(*init_mlp(w2_scale=0.01, b2_scale=0.0))
lecture.result("init_loss_fixed", loss_softmax_fixed.item(), lecture=3.3221)
assert torch.equal(h_softmax_fixed, h_original)  # the hidden layer is untouched: only the output layer changed

# %% [markdown]
# The lecture's loss plot shows what the bad start costs: a *hockey stick*. The first few hundred steps only
# squash the logits down from their confidently-wrong start, a job that has nothing to do with names, and
# only then does the real learning begin. With the fixed output layer, training starts at the 3.3 the
# bottom of the stick would have reached. Below, the lecture's loop (batch 32, lr 0.1) from both starts, on
# the same batches. (Lecture 3's init also saturates the tanh layer, the next section's problem, so here the
# stick's bottom comes slowly: about 1,500 steps to get back to 3.3; fast mode's 600 steps show only the
# blade, still above 5.)


# %%
HOCKEY_STEPS = lecture.steps(full=4000, fast=600)


def training_curve(params, g, steps, lr=0.1):
    """The lecture's training loop for the one-hidden-layer MLP; returns every step's minibatch loss."""
    for p in params:
        p.requires_grad = True
    C, W1, b1, W2, b2 = params
    losses = []
    for _ in range(steps):
        ix = torch.randint(0, len(Xtr), (32,), generator=g)
        h = torch.tanh(C[Xtr[ix]].view(32, -1) @ W1 + b1)
        loss = F.cross_entropy(h @ W2 + b2, Ytr[ix])
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


curves = {
    "lecture 3's init": training_curve(*init_mlp(), HOCKEY_STEPS),
    "W2 × 0.01, b2 = 0": training_curve(*init_mlp(w2_scale=0.01, b2_scale=0.0), HOCKEY_STEPS),
}
window = 20
fig, ax = plt.subplots(figsize=(8, 3.5))
for name, losses in curves.items():
    smoothed = [sum(losses[i : i + window]) / window for i in range(0, len(losses) - window + 1, window)]
    ax.plot(range(0, len(losses) - window + 1, window), smoothed, label=name)
ax.axhline(expected, color="k", linestyle="--", linewidth=0.8, label="uniform guess, −ln(1/27)")
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel(f"minibatch loss (mean of {window})")
ax.set_title("the hockey stick: steps spent undoing a confidently-wrong start", fontsize=10)
ax.legend(fontsize=8)
lecture.savefig(fig, "hockey_stick.png")
original_curve, fixed_curve = curves.values()
means = [sum(original_curve[i : i + window]) / window for i in range(len(original_curve) - window + 1)]
wasted = next((i for i, m in enumerate(means) if m < expected), None)  # where the fixed run starts: the uniform guess
wasted_text = f"{wasted}" if wasted is not None else f">{HOCKEY_STEPS}"
print(f"lecture 3's init needs {wasted_text} steps for its 20-step mean loss to reach {expected:.4f}, the fixed start")
print(f"mean loss of the last 200 steps: {sum(original_curve[-200:]) / 200:.4f} vs {sum(fixed_curve[-200:]) / 200:.4f}")
lecture.result("hockey_first_loss", original_curve[0], lecture=27.8817)
lecture.result("hockey_wasted_steps", wasted_text, lecture="-")
lecture.result("hockey_last200_original", sum(original_curve[-200:]) / 200, lecture="-")
lecture.result("hockey_last200_fixed", sum(fixed_curve[-200:]) / 200, lecture="-")

# %% [markdown]
# ## Fixing the saturated tanh
#
# The hidden pre-activations `embcat @ W1 + b1` are sums of 30 products of unit-scale numbers, so many land far
# out in tanh's flat tails. There tanh's local gradient `1 − t²` is nearly zero: whatever gradient arrives
# from above is multiplied by ≈ 0 and the unit barely learns. The histogram below piles up at ±1, and in the
# map (white = `|h| > 0.99`, one row per example, one column per unit) a column that is white all the way down
# would be a *dead neuron*: saturated for every example, never learning. Scaling `W1` by 0.2 and `b1` by 0.01
# brings the activations back to tanh's responsive middle.

# %%
h_tanh_fixed, loss_tanh_fixed = first_batch(*init_mlp(w1_scale=0.2, b1_scale=0.01, w2_scale=0.01, b2_scale=0.0))
lecture.result("init_loss_tanh_fixed", loss_tanh_fixed.item(), lecture=3.3135)
for name, h in (("original", h_original), ("fixed", h_tanh_fixed)):
    saturated = (h.abs() > 0.99).float()
    dead = int(saturated.all(0).sum())
    print(f"{name:>8}: {100 * saturated.mean():.1f}% of activations have |h| > 0.99; {dead} units dead on this batch")
lecture.result("saturated_before", 100 * (h_original.abs() > 0.99).float().mean().item(), lecture="-", fmt=".1f")
lecture.result("saturated_after", 100 * (h_tanh_fixed.abs() > 0.99).float().mean().item(), lecture="-", fmt=".1f")

fig, axes = plt.subplots(2, 2, figsize=(9, 6), gridspec_kw={"height_ratios": [1, 1]})
for column, (title, h) in enumerate((("at the lecture-3 init", h_original), ("W1 × 0.2, b1 × 0.01", h_tanh_fixed))):
    axes[0, column].hist(h.view(-1).tolist(), bins=50)
    axes[0, column].set_title(f"tanh outputs h, {title}", fontsize=10)
    axes[1, column].imshow((h.abs() > 0.99).numpy(), cmap="gray", interpolation="nearest", aspect="auto")
    axes[1, column].set_title("|h| > 0.99 (white), 32 examples × 200 units", fontsize=10)
fig.tight_layout()
lecture.savefig(fig, "tanh_saturation.png", docs=True, dpi=70)
plt.close(fig)

# %% [markdown]
# ## Calculating the init scale: "Kaiming init"
#
# Instead of trying factors like 0.2 by hand, ask what keeps the scale of activations steady. A product
# `x @ w` of unit-Gaussian `x` (1000 × 10) and `w` (10 × 200) sums 10 unit-variance terms, so its standard
# deviation is √10 ≈ 3.16. Dividing `w` by √fan_in brings it back to 1. tanh squashes, so He et al. (2015)
# — "Kaiming init" — add a gain that makes up for it; for tanh it is 5/3, giving W1 a std of
# (5/3)/√30 = 0.3043. Our `makemore.layers.Linear` draws its weight exactly this way.

# %%
gx = torch.Generator().manual_seed(SEED)
x = torch.randn(1000, 10, generator=gx)
w = torch.randn(10, 200, generator=gx)
print(f"x std {x.std():.3f}, (x @ w) std {(x @ w).std():.3f}, (x @ w / sqrt(10)) std {(x @ w / 10**0.5).std():.3f}")
lecture.result("xw_std", (x @ w).std().item(), lecture="3.16 (sqrt 10)", fmt=".2f")
kaiming_std = TANH_GAIN / (n_embd * block_size) ** 0.5
lecture.result("kaiming_std", kaiming_std, lecture=0.3043)

inline_w1 = torch.randn((30, 200), generator=torch.Generator().manual_seed(1)) * (5 / 3) / 30**0.5
package_w1 = Linear(30, 200, torch.Generator().manual_seed(1), gain=TANH_GAIN).weight
assert torch.allclose(inline_w1, package_w1)  # our Linear is the lecture's init, nothing more
print(f"makemore.layers.Linear(30, 200, gain=5/3).weight std {package_w1.std():.4f}: the same draw as the line above")

# %% [markdown]
# ## The loss log
#
# The lecture keeps a log of what each fix buys after training in full. Here are the same five trainings,
# each the lecture's loop (batch 32, lr 0.1 then 0.01 for the second half), from the lecture's seed:
#
# 1. *original* — lecture 3's init;
# 2. *fix softmax confidently wrong* — `W2 × 0.01`, `b2 = 0`;
# 3. *fix tanh layer too saturated at init* — also `W1 × 0.2`, `b1 × 0.01`;
# 4. *use semi-principled Kaiming init* — `W1 × (5/3)/√30` instead of the hand-picked 0.2;
# 5. *add a batch norm layer* — see the next section.
#
# The lecture runs each for 200,000 steps; to keep this walkthrough within minutes we run 50,000 (lr drops at
# 25,000), so our losses are higher, by 0.03–0.1. For the lecture's budget, run with `LECTURE04_LOG_STEPS=200000`
# in the environment (5–6 minutes more on a quiet 2-core CPU; the README has its table). The deep version of
# the last row is `python train.py --model bn-mlp` (200,000 steps; its figures are in the README too). Each
# fix helps less after training than at step 0 — the optimiser recovers from a bad start, given time; the
# shorter the run, the more a bad start costs. BatchNorm does not beat a well-initialised net this shallow
# (the lecture did not expect it to): its value shows in deep networks, below.

# %%
LOG_STEPS = int(os.environ.get("LECTURE04_LOG_STEPS", lecture.steps(full=50_000, fast=200)))


def train_loss_log_run(params, g, steps, batchnorm=False):
    """The lecture's training loop for the one-hidden-layer MLP; returns (train loss, val loss, BN state)."""
    C, W1, b1, W2, b2 = params
    bngain, bnbias = torch.ones((1, n_hidden)), torch.zeros((1, n_hidden))
    bnmean_running, bnstd_running = torch.zeros((1, n_hidden)), torch.ones((1, n_hidden))
    trained = [C, W1, W2, b2, bngain, bnbias] if batchnorm else [C, W1, b1, W2, b2]  # BN makes b1 useless
    for p in trained:
        p.requires_grad = True
    for i in range(steps):
        ix = torch.randint(0, len(Xtr), (32,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        embcat = C[Xb].view(len(Xb), -1)
        if batchnorm:
            hpreact = embcat @ W1
            bnmeani, bnstdi = hpreact.mean(0, keepdim=True), hpreact.std(0, keepdim=True)
            hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
            with torch.no_grad():  # the running estimates, for evaluating one example at a time later
                bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
                bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        else:
            hpreact = embcat @ W1 + b1
        loss = F.cross_entropy(torch.tanh(hpreact) @ W2 + b2, Yb)
        for p in trained:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < steps // 2 else 0.01
        with torch.no_grad():
            for p in trained:
                p -= lr * p.grad

    @torch.no_grad()
    def split_loss(X, Y, mean=bnmean_running, std=bnstd_running):
        hpreact = C[X].view(len(X), -1) @ W1
        hpreact = bngain * (hpreact - mean) / std + bnbias if batchnorm else hpreact + b1
        return F.cross_entropy(torch.tanh(hpreact) @ W2 + b2, Y).item()

    state = dict(split_loss=split_loss, C=C, W1=W1, mean=bnmean_running, std=bnstd_running)
    return split_loss(Xtr, Ytr), split_loss(Xdev, Ydev), state


loss_log = {  # the lecture's loss log (train, val) after 200,000 steps
    "original": (2.1245, 2.1682),
    "fix_softmax": (2.07, 2.13),
    "fix_tanh": (2.0356, 2.1027),
    "kaiming": (2.0377, 2.1070),
    "batchnorm": (2.0668, 2.1048),
}
kaiming = (5 / 3) / (n_embd * block_size) ** 0.5
runs = {
    "original": init_mlp(),
    "fix_softmax": init_mlp(w2_scale=0.01, b2_scale=0.0),
    "fix_tanh": init_mlp(w1_scale=0.2, b1_scale=0.01, w2_scale=0.01, b2_scale=0.0),
    "kaiming": init_mlp(w1_scale=kaiming, b1_scale=0.01, w2_scale=0.01, b2_scale=0.0),
    "batchnorm": init_mlp(w1_scale=kaiming, b1_scale=0.01, w2_scale=0.01, b2_scale=0.0),
}
ours = {}
for name, (params, g) in runs.items():
    t0 = time.perf_counter()
    *ours[name], bn_state = train_loss_log_run(params, g, LOG_STEPS, batchnorm=name == "batchnorm")
    print(f"{name:<12} train {ours[name][0]:.4f}  val {ours[name][1]:.4f}  ({time.perf_counter() - t0:.0f} s)")
print(f"\nloss log after {LOG_STEPS:,} steps (lecture: 200,000 steps)")
print(f"{'':<12}{'train':>8}{'val':>8}   lecture train / val")
for name, (tr, va) in ours.items():
    print(f"{name:<12}{tr:>8.4f}{va:>8.4f}   {loss_log[name][0]} / {loss_log[name][1]}")
    lecture.result(f"log_{name}_train", tr, lecture=loss_log[name][0])
    lecture.result(f"log_{name}_val", va, lecture=loss_log[name][1])

# %% [markdown]
# ## Batch normalization
#
# Why hunt for the right weight scale at all, if what we want is unit-Gaussian pre-activations? Ioffe & Szegedy
# (2015) simply *make* them so: subtract the batch mean and divide by the batch standard deviation, unit by
# unit — a differentiable operation, so it trains with everything else. A learned gain `bngain` and bias
# `bnbias` (starting at 1 and 0) let the network move away from unit Gaussian where that helps. `b1` becomes
# useless (the mean subtraction removes it), so the BN run above drops it.
#
# The price: each example's output now depends on the others in its batch (a jitter that even acts as a
# regulariser). To use the net on a single example, we need fixed statistics. The lecture's first answer is a
# *calibration pass*: the mean and std of the pre-activations over the whole training set after training. The
# second is to keep running averages during training (momentum 0.001: each batch of 32 moves them a little);
# they end up close to the calibrated ones, so no second pass is needed.

# %%
calib_pre = (bn_state["C"][Xtr].view(len(Xtr), -1) @ bn_state["W1"]).detach()  # the whole training set
calib_mean, calib_std = calib_pre.mean(0, keepdim=True), calib_pre.std(0, keepdim=True)
print(
    f"running mean vs calibrated: max |diff| {(bn_state['mean'] - calib_mean).abs().max():.3f} "
    f"(means up to {calib_mean.abs().max():.2f}); running std vs calibrated: max |diff| "
    f"{(bn_state['std'] - calib_std).abs().max():.3f}"
)
val_calibrated = bn_state["split_loss"](Xdev, Ydev, calib_mean, calib_std)
print(f"val loss with the calibration pass {val_calibrated:.4f}, with the running estimates {ours['batchnorm'][1]:.4f}")
lecture.result("bn_val_calibrated", val_calibrated, lecture="-")

# %% [markdown]
# Our `BatchNorm1d` is that layer with its bookkeeping. One detail differs from the lines above: like
# `torch.nn.BatchNorm1d` it normalises with the *biased* batch variance (divide by n) plus a small `eps`
# inside the square root, and keeps the *unbiased* one (n − 1) in its running variance. On a batch of 32 the
# two normalisations differ by the factor √(32/31) ≈ 1.016. Below, the formula written out by hand, our layer
# and torch's agree in training mode (output and running statistics) and in eval mode.

# %%
gb = torch.Generator().manual_seed(0)
x = torch.randn(32, 200, generator=gb) * 3 + 1
bngain, bnbias = 1 + 0.1 * torch.randn(200, generator=gb), 0.1 * torch.randn(200, generator=gb)
ours_bn, torch_bn = BatchNorm1d(200, momentum=0.001), nn.BatchNorm1d(200, momentum=0.001)
with torch.no_grad():
    ours_bn.gamma.copy_(bngain), ours_bn.beta.copy_(bnbias)
    torch_bn.weight.copy_(bngain), torch_bn.bias.copy_(bnbias)
by_hand = bngain * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5) + bnbias
lecture_style = bngain * (x - x.mean(0)) / x.std(0) + bnbias  # the lines of the training loop above
out_ours, out_torch = ours_bn(x), torch_bn(x)  # one training-mode call each: it updates the running statistics
assert torch.allclose(out_ours, by_hand, atol=1e-5) and torch.allclose(out_ours, out_torch, atol=1e-5)
assert torch.allclose(ours_bn.running_mean, 0.999 * torch.zeros(200) + 0.001 * x.mean(0))
assert torch.allclose(ours_bn.running_var, torch_bn.running_var)
ours_bn.eval(), torch_bn.eval()
assert torch.allclose(ours_bn(x), torch_bn(x), atol=1e-5)
print(
    f"BatchNorm1d == by hand == torch.nn.BatchNorm1d; lecture's std (n-1, no eps) differs by at most "
    f"{(lecture_style - by_hand).abs().max():.3f} on this batch"
)

# %% [markdown]
# ## PyTorch-ifying the code
#
# The lecture then rewrites the network as layer objects with torch.nn's interface and stacks a deeper one:
# embedding 10 → five times (Linear 100 without bias → BatchNorm → tanh) → Linear 27 → BatchNorm, 47,024
# parameters. The last BatchNorm's gain starts at 0.1 so the first logits are small (the softmax fix again).
#
# First the three layers as the lecture writes them: plain classes, each a `__call__` that computes the
# layer's output (and keeps it in `.out`, for the plots later) and a `parameters()` list. The one deliberate
# difference from the lecture's `BatchNorm1d`: it normalises with the batch variance divided by n and keeps
# the n − 1 one in its running estimate, as `torch.nn.BatchNorm1d` does (see the section above; the lecture's
# class divides by n − 1 in both places).


# %%
class LinearByHand:
    def __init__(self, fan_in, fan_out, g, bias=True, gain=1.0):
        self.weight = torch.randn((fan_in, fan_out), generator=g) * gain / fan_in**0.5  # Kaiming: gain / sqrt(fan_in)
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out = self.out + self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1dByHand:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum, self.training = eps, momentum, True
        self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)  # trained by backprop
        self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)  # trained by a running average

    def __call__(self, x):
        if self.training:
            xmean = x.mean(0, keepdim=True)  # statistics of this batch
            xvar = x.var(0, keepdim=True, unbiased=False)
        else:
            xmean, xvar = self.running_mean, self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)  # unit Gaussian, unit by unit
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                m = self.momentum
                self.running_mean = (1 - m) * self.running_mean + m * xmean.squeeze(0)
                self.running_var = (1 - m) * self.running_var + m * x.var(0, unbiased=True)
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class TanhByHand:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


# %% [markdown]
# The lecture's deep net from these classes — the embedding table `C` first, then the layers, all drawn from the
# lecture's seed in the lecture's order — against our `bn_mlp` (built from `makemore.layers`) from the same seed:
# layer by layer on the same batch in training mode, the running statistics that batch leaves behind, and the
# whole net in eval mode on the dev set.

# %%
g_by_hand = torch.Generator().manual_seed(SEED)
C_by_hand = torch.randn((vocab_size, n_embd), generator=g_by_hand)
layers_by_hand = []
fan_in = n_embd * block_size
for _ in range(5):
    layers_by_hand += [
        LinearByHand(fan_in, 100, g_by_hand, bias=False, gain=5 / 3),
        BatchNorm1dByHand(100),
        TanhByHand(),
    ]
    fan_in = 100
layers_by_hand += [LinearByHand(100, vocab_size, g_by_hand, bias=False), BatchNorm1dByHand(vocab_size)]
layers_by_hand[-1].gamma *= 0.1  # the last layer: less confident at the start
print(
    f"by hand: {C_by_hand.numel() + sum(p.numel() for layer in layers_by_hand for p in layer.parameters())} parameters"
)

package_net = bn_mlp(vocab_size, block_size, torch.Generator().manual_seed(SEED), momentum=0.1)
Xb_layers = Xtr[:32]
x_hand = C_by_hand[Xb_layers].view(32, -1)
x_pkg = package_net[1](package_net[0](Xb_layers))
layer_diff = {"Embedding": (x_hand - x_pkg).abs().max().item()}
with torch.no_grad():
    for hand, ours_layer in zip(layers_by_hand, list(package_net)[2:], strict=True):
        x_hand, x_pkg = hand(x_hand), ours_layer(x_pkg)
        name = type(ours_layer).__name__
        layer_diff[name] = max(layer_diff.get(name, 0.0), (x_hand - x_pkg).abs().max().item())
    for hand, ours_layer in zip(layers_by_hand, list(package_net)[2:], strict=True):
        if isinstance(ours_layer, BatchNorm1d):
            layer_diff["running_mean"] = max(
                layer_diff.get("running_mean", 0.0), (hand.running_mean - ours_layer.running_mean).abs().max().item()
            )
            layer_diff["running_var"] = max(
                layer_diff.get("running_var", 0.0), (hand.running_var - ours_layer.running_var).abs().max().item()
            )
            hand.training = False
    package_net.eval()
    x_hand = C_by_hand[Xdev].view(len(Xdev), -1)
    for hand in layers_by_hand:
        x_hand = hand(x_hand)
    layer_diff["eval logits (dev set)"] = (x_hand - package_net(Xdev)).abs().max().item()
for name, diff in layer_diff.items():
    print(f"  by hand vs makemore.layers, {name:<22} max |diff| {diff:.2g}")
assert max(layer_diff.values()) <= 1e-6, layer_diff
lecture.result("layers_by_hand_maxdiff", max(layer_diff.values()), lecture="-", fmt=".2g")

# %% [markdown]
# Our experiments below flip switches on that net (the gain, BatchNorm on or off, tanh on or off), so they build
# it from `makemore.layers` with a small function; with the defaults it is `bn_mlp`, logit for logit.


# %%
def deep_mlp(g, gain=TANH_GAIN, batchnorm=True, tanh=True, momentum=0.001, n_hidden=100, n_layers=5):
    """The lecture's deep MLP from our layers, with the switches the experiments below flip."""
    layers = [Embedding(vocab_size, n_embd, g), Flatten()]
    fan_in = n_embd * block_size
    for _ in range(n_layers):
        layers.append(Linear(fan_in, n_hidden, g, bias=not batchnorm, gain=gain))
        layers += [BatchNorm1d(n_hidden, momentum=momentum)] if batchnorm else []
        layers += [Tanh()] if tanh else []
        fan_in = n_hidden
    layers.append(Linear(fan_in, vocab_size, g, bias=not batchnorm))
    layers += [BatchNorm1d(vocab_size, momentum=momentum)] if batchnorm else []
    with torch.no_grad():  # the last layer: less confident at the start
        if batchnorm:
            layers[-1].gamma *= 0.1
        else:
            layers[-1].weight *= 0.1
    return nn.Sequential(*layers)


inline = deep_mlp(torch.Generator().manual_seed(SEED))
package = bn_mlp(vocab_size, block_size, torch.Generator().manual_seed(SEED), momentum=0.001)
assert torch.allclose(inline(Xtr[:64]), package(Xtr[:64]))
n_params = sum(p.numel() for p in package.parameters())
lecture.result("deep_params", n_params, lecture=47024)
print(" -> ".join(type(layer).__name__ for layer in package))

# %% [markdown]
# ## Visualizations: activations, gradients, update:data ratios
#
# Four pictures tell whether a deep network is healthy:
#
# 1. **forward activations** — the distribution of each tanh layer's output: similar across layers, not piled
#    up at ±1 (the legend shows the % with `|t| > 0.97`);
# 2. **backward gradients** at those outputs — similar spreads in every layer: nothing vanishes or explodes on
#    the way down;
# 3. **weight gradients** and their **grad:data** ratio, how big a gradient is next to the weight it updates;
# 4. the **update:data** ratio over training, log10(std(lr · grad) / std(weight)) per weight matrix — the
#    lecture's rule of thumb: around −3 (the dashed line). Far below, the layer barely learns; far above, it
#    thrashes.
#
# First the lecture's own run: its notebook ends on this deep net with gain 1 and BatchNorm momentum 0.1,
# trained for 1,000 steps at lr 0.1, and prints the statistics of the next batch. Our inline copy of that
# loop (forward layer by layer, `loss.backward()`, `p -= lr * grad`, the update ratios collected by hand)
# gives the same parameters as our package's loop (`makemore.training.train` with `sgd_step` and the
# `UpdateRatios` hook), and `makemore.diagnostics.snapshot` gives statistics within a few % of the lecture's —
# close, not digit for digit, because the lecture's layer normalises with the n − 1 variance and ours with n.
# (Our layer numbers count the embedding and flatten layers too: our layer 4 is the lecture's layer 2.)

# %%
REPLAY_STEPS = lecture.steps(full=1000, fast=100)
g_inline = torch.Generator().manual_seed(SEED)
replay_inline = deep_mlp(g_inline, gain=1.0, momentum=0.1)
params_inline = list(replay_inline.parameters())
ud_inline = []
for _ in range(REPLAY_STEPS):
    ix = torch.randint(0, len(Xtr), (32,), generator=g_inline)
    x, Yb = Xtr[ix], Ytr[ix]
    for layer in replay_inline:
        x = layer(x)
    loss = F.cross_entropy(x, Yb)
    for p in params_inline:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        ud_inline.append([((0.1 * p.grad).std() / p.std()).log10().item() for p in params_inline if p.dim() == 2])
        for p in params_inline:
            p -= 0.1 * p.grad

g_package = torch.Generator().manual_seed(SEED)
replay = deep_mlp(g_package, gain=1.0, momentum=0.1)
replay_ratios = UpdateRatios(every=1)
train(
    sgd_step(replay, on_update=replay_ratios),
    Xtr,
    Ytr,
    steps=REPLAY_STEPS,
    batch_size=32,
    lr_at=lambda i: 0.1,
    generator=g_package,
)
assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(params_inline, replay.parameters(), strict=True))
ud_package = torch.tensor(replay_ratios.ratios)  # the Linear weights only: drop C, the first 2-D parameter
assert torch.allclose(torch.tensor(ud_inline)[:, 1:], ud_package, atol=1e-4)

ix = torch.randint(0, len(Xtr), (32,), generator=g_package)  # the batch the lecture's loop draws next
replay_snap = snapshot(replay, Xtr[ix], Ytr[ix])
lecture_tanh = [(0.63, 2.78, 2.640702e-03), (0.64, 2.56, 2.245584e-03), (0.65, 2.25, 2.045742e-03),
                (0.65, 1.69, 1.983134e-03), (0.65, 1.88, 1.952382e-03)]  # fmt: skip
for (name, t), (_, grad), theirs in zip(
    replay_snap["activations"], replay_snap["activation_grads"], lecture_tanh, strict=True
):
    saturated = 100 * (t.abs() > SATURATED).float().mean()
    print(
        f"{name}: std {t.std():.2f}, saturated {saturated:.2f}%, grad std {grad.std():.3e}   "
        f"(lecture: {theirs[0]:.2f}, {theirs[1]:.2f}%, {theirs[2]:.3e})"
    )
first_name, first_t = replay_snap["activations"][0]
lecture.result(
    "replay_layer2_saturated", 100 * (first_t.abs() > SATURATED).float().mean().item(), lecture=2.78, fmt=".2f"
)
lecture.result("replay_layer2_std", first_t.std().item(), lecture=0.63, fmt=".2f")
lecture.result(
    "replay_layer2_grad_std", replay_snap["activation_grads"][0][1].std().item(), lecture="2.641e-03", fmt=".3e"
)
for _, w, grad in replay_snap["weights"]:
    print(f"weight {str(tuple(w.shape)):>10} | grad std {grad.std():.3e} | grad:data {grad.std() / w.std():.3e}")
lecture.result(
    "replay_w30x100_grad_data",
    (lambda w, gr: (gr.std() / w.std()).item())(*replay_snap["weights"][0][1:]),
    lecture="4.881e-02",
    fmt=".3e",
)

# %% [markdown]
# Now the model `python train.py --model bn-mlp` trains (our `bn_mlp`: gain 5/3, BatchNorm momentum 0.001),
# with the four plots at initialisation and after training. At init, every tanh layer has the same spread and
# a few % saturated, and the gradients are alike in every layer: BatchNorm keeps each layer at unit scale no
# matter what. The update ratios sit around −2.5 at lr 0.1 — above the −3 guide, so lr 0.1 is on the brisk
# side — and drop by one (log10 of a 10× smaller lr) when the learning rate decays. The output layer stands
# apart, as the last layer does in the lecture's plot: its weights start smaller (gain 1, not 5/3) and take
# the largest steps relative to their size.

# %%
DEEP_STEPS = lecture.steps(full=30_000, fast=200)


def plot_update_ratios(ax, ratios, title, up_to_step=None):
    """log10(update std / weight std) of each Linear weight against the step, with the lecture's −3 guide."""
    steps = torch.tensor(ratios.steps)
    keep = steps <= (up_to_step if up_to_step is not None else steps.max())
    series = torch.tensor(ratios.ratios)[keep]
    for j, name in enumerate(ratios.names):
        ax.plot(steps[keep].numpy(), series[:, j].numpy(), label=name.replace(" (Linear)", ""))
    ax.axhline(-3, color="k", linestyle="--")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step")


def diagnostics_figure(snap, ratios, title, up_to_step=None):
    """The lecture's four plots in one figure: activations, their gradients, weight gradients, update:data."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5))
    for ax, key, label in ((axes[0, 0], "activations", "tanh output"), (axes[0, 1], "activation_grads", "gradient")):
        for name, t in snap[key]:
            counts, edges = torch.histogram(t.flatten(), bins=40, density=True)
            if key == "activations":
                legend = f"{name}: std {t.std():.2f}, sat {100 * (t.abs() > SATURATED).float().mean():.1f}%"
            else:
                legend = f"{name}: std {t.std():.1e}"
            ax.plot(((edges[:-1] + edges[1:]) / 2).numpy(), counts.numpy(), label=legend)
        ax.set_title(f"{label} distribution per tanh layer", fontsize=10)
        ax.legend(fontsize=6)
    for _, w, grad in snap["weights"]:
        counts, edges = torch.histogram(grad.flatten(), bins=40, density=True)
        label = f"{tuple(w.shape)} grad:data {grad.std() / w.std():.1e}"
        axes[1, 0].plot(((edges[:-1] + edges[1:]) / 2).numpy(), counts.numpy(), label=label)
    axes[1, 0].set_title("weight gradient distribution", fontsize=10)
    axes[1, 0].legend(fontsize=6)
    plot_update_ratios(axes[1, 1], ratios, "update:data ratio, log10", up_to_step)
    axes[1, 1].legend(fontsize=6)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


g = torch.Generator().manual_seed(SEED)
model = bn_mlp(vocab_size, block_size, g, momentum=0.001)
ix = torch.randint(0, len(Xtr), (32,), generator=torch.Generator().manual_seed(1))
Xb, Yb = Xtr[ix], Ytr[ix]  # one fixed batch to look at, before and after
init_snap = snapshot(model, Xb, Yb)
ratios = UpdateRatios(every=max(1, DEEP_STEPS // 300))
t0 = time.perf_counter()
deep_losses = train(
    sgd_step(model, on_update=ratios),
    Xtr,
    Ytr,
    steps=DEEP_STEPS,
    batch_size=32,
    lr_at=step_decay(0.1, DEEP_STEPS),
    generator=g,
    log_every=DEEP_STEPS // 5,
)
print(f"trained {DEEP_STEPS:,} steps in {time.perf_counter() - t0:.0f} s")
trained_snap = snapshot(model, Xb, Yb)
fig = diagnostics_figure(init_snap, ratios, "bn_mlp at initialisation (update ratios: first 1,000 steps)", 1000)
lecture.savefig(fig, "diagnostics_init.png", dpi=60)
plt.close(fig)
fig = diagnostics_figure(trained_snap, ratios, f"bn_mlp after {DEEP_STEPS:,} steps (lr 0.1, then 0.01 from 75%)")
lecture.savefig(fig, "diagnostics_trained.png", docs=True, dpi=60)
plt.close(fig)
model.eval()  # BatchNorm uses its running statistics from here on
deep_val = evaluate(model, Xdev, Ydev)
print(f"deep BN MLP after {DEEP_STEPS:,} steps: train {evaluate(model, Xtr, Ytr):.4f}  val {deep_val:.4f}")
print("the lecture's 200,000 steps: `python train.py --model bn-mlp` (its val loss is in the README)")
lecture.result("deep_val", deep_val, lecture="-")
init_sat = [100 * (t.abs() > SATURATED).float().mean().item() for _, t in init_snap["activations"]]
lecture.result("deep_init_saturated_max", max(init_sat), lecture="-", fmt=".2f")
lecture.result(
    "deep_final_update_ratio", sum(ratios.ratios[-1]) / len(ratios.ratios[-1]), lecture="about -3", fmt=".2f"
)
deep_model = model  # kept for sampling at the end; `model` is reused by the experiments below

# %% [markdown]
# ### A learning rate that is too low
#
# The update:data plot is also how the lecture tells a learning rate that is too low: set lr = 0.001 and every
# line sinks far below the −3 guide — each step changes the weights by about a hundred-thousandth of their
# size, and training crawls. Same net, same batches as the run above; at the very first step the two runs see
# the same gradient, so their ratios differ by exactly log10(0.1 / 0.001) = 2.

# %%
LOW_LR_STEPS = lecture.steps(full=1000, fast=100)
g_low = torch.Generator().manual_seed(SEED)
low_model = bn_mlp(vocab_size, block_size, g_low, momentum=0.001)
low_ratios = UpdateRatios(every=1)
low_losses = train(
    sgd_step(low_model, on_update=low_ratios),
    Xtr,
    Ytr,
    steps=LOW_LR_STEPS,
    batch_size=32,
    lr_at=lambda i: 0.001,
    generator=g_low,
)
assert all(abs(low - high + 2) < 1e-3 for low, high in zip(low_ratios.ratios[0], ratios.ratios[0], strict=True))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
plot_update_ratios(axes[0], ratios, "update:data ratio, log10 — lr 0.1 (the run above)", LOW_LR_STEPS - 1)
plot_update_ratios(axes[1], low_ratios, "update:data ratio, log10 — lr 0.001: too low")
axes[0].legend(fontsize=6)
lecture.savefig(fig, "update_ratio_low_lr.png")
low_mean = torch.tensor(low_ratios.ratios).mean().item()
high_mean = torch.tensor(ratios.ratios)[torch.tensor(ratios.steps) < LOW_LR_STEPS].mean().item()
print(f"mean log10 update:data over the first {LOW_LR_STEPS:,} steps: lr 0.1 {high_mean:.2f}, lr 0.001 {low_mean:.2f}")
print(
    f"minibatch loss after {LOW_LR_STEPS:,} steps at lr 0.001: {sum(low_losses[-20:]) / 20:.4f} (mean of the last 20)"
)
lecture.result("low_lr_update_ratio", low_mean, lecture="well below -3", fmt=".2f")
lecture.result("high_lr_update_ratio", high_mean, lecture="about -3", fmt=".2f")

# %% [markdown]
# ## Experiments: gain, no BatchNorm, no tanh
#
# The lecture takes the diagnostics for a spin by breaking things. Without BatchNorm the weight scale is all
# that keeps the activations in shape again: with gain 1 the tanh layers shrink the signal layer after layer,
# with gain 3 they saturate, and 5/3 is about right. Without the tanh, the stack of Linear layers is one linear
# map — the lecture shows the activations then stay put only with gain exactly 1, and the net can never be
# better than a linear model. With BatchNorm, the gain hardly matters for the forward pass; it shows up in the
# update ratios instead (a smaller weight moves more for the same gradient). Each row: a fresh deep net (no BN
# → Linear layers with a bias, the last weight × 0.1), the tanh layers' spread and saturation and the first vs
# last layer's gradient spread at init, then a short training run (same steps, same batches) and its val loss.

# %%
SWEEP_STEPS = lecture.steps(full=4000, fast=60)
sweep = {
    "BN, gain 5/3 (bn_mlp)": dict(gain=TANH_GAIN),
    "BN, gain 1": dict(gain=1.0),
    "no BN, gain 5/3": dict(gain=TANH_GAIN, batchnorm=False),
    "no BN, gain 1": dict(gain=1.0, batchnorm=False),
    "no BN, gain 3": dict(gain=3.0, batchnorm=False),
    "no BN, no tanh, gain 1": dict(gain=1.0, batchnorm=False, tanh=False),
}


def short_run(model, train_step=None, steps=SWEEP_STEPS):
    """Train a deep net for `steps` SGD steps (lr 0.1, then 0.01) from a fixed batch sequence; returns val loss."""
    g = torch.Generator().manual_seed(1)
    train(
        train_step or sgd_step(model), Xtr, Ytr, steps=steps, batch_size=32, lr_at=step_decay(0.1, steps), generator=g
    )
    model.eval()
    return evaluate(model, Xdev, Ydev)


def layer_stats(model):
    """At init, on the fixed batch: mean std and % saturated of the tanh outputs, grad std of first/last layer."""
    tanhs = [m for m in model if isinstance(m, Tanh)]
    if not tanhs:  # no tanh: look at the Linear outputs instead
        x, outs = Xb, []
        for layer in model:
            x = layer(x)
            if isinstance(layer, Linear):
                x.retain_grad()
                outs.append(x)
        F.cross_entropy(x, Yb).backward()
        outs = outs[:-1]
        return sum(o.std().item() for o in outs) / len(outs), float("nan"), outs[0].grad.std(), outs[-1].grad.std()
    snap = snapshot(model, Xb, Yb)
    acts, grads = [t for _, t in snap["activations"]], [t for _, t in snap["activation_grads"]]
    saturation = sum(100 * (t.abs() > SATURATED).float().mean().item() for t in acts) / len(acts)
    return sum(t.std().item() for t in acts) / len(acts), saturation, grads[0].std(), grads[-1].std()


print(f"{SWEEP_STEPS:,} steps each; at init: mean over hidden layers of the output std and % saturated,")
print("gradient std at the first and last hidden layer; after training: mean log10 update:data, val loss")
print(f"{'':<24}{'std':>6}{'sat %':>7}{'grad first':>12}{'grad last':>11}{'update':>8}{'val':>8}")
sweep_val = {}
for name, options in sweep.items():
    model = deep_mlp(torch.Generator().manual_seed(SEED), **options)
    std, saturation, grad_first, grad_last = layer_stats(model)
    ratios_run = UpdateRatios(every=max(1, SWEEP_STEPS // 50))
    sweep_val[name] = short_run(model, sgd_step(model, on_update=ratios_run))
    late = torch.tensor(ratios_run.ratios[len(ratios_run.ratios) // 2 :]).mean().item()  # the lr 0.1 phase, late
    print(
        f"{name:<24}{std:>6.2f}{saturation:>7.1f}{grad_first:>12.2e}{grad_last:>11.2e}{late:>8.2f}"
        f"{sweep_val[name]:>8.4f}"
    )
lecture.result("sweep_bn_val", sweep_val["BN, gain 5/3 (bn_mlp)"], lecture="-")
lecture.result("sweep_linear_val", sweep_val["no BN, no tanh, gain 1"], lecture="-")

# %% [markdown]
# ## To do from the lecture: residual connections
#
# The lecture ends with two pointers to what makes deep nets train well beyond init and BatchNorm. The first
# is the residual connection (He et al. 2015): each hidden block adds its output to its input,
# `x = x + tanh(BN(x @ W))`, so the gradient has a direct path down through the additions and every block
# only learns a correction. The same diagnostics at init, then the same short run as the sweep's first row.
# The residual stream's spread now grows with depth (each block adds to it); and with five layers and a short
# run there is little for the shortcut to fix — it earns its keep in much deeper networks, such as lecture 7's
# transformer.


# %%
class Residual(nn.Module):
    """x + block(x): the block learns a change to its input, and gradients flow past it unchanged."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x):
        return x + self.block(x)


def residual_mlp(g):
    plain = deep_mlp(g)  # Embedding, Flatten, 5 × (Linear, BN, Tanh), Linear, BN
    layers = list(plain)
    blocks = [layers[i : i + 3] for i in range(2, 17, 3)]
    return nn.Sequential(*layers[:2], *blocks[0], *[Residual(nn.Sequential(*b)) for b in blocks[1:]], *layers[17:])


model = residual_mlp(torch.Generator().manual_seed(SEED))
x, outs = Xb, []
for layer in model:
    x = layer(x)
    if isinstance(layer, (Tanh, Residual)):
        x.retain_grad()
        outs.append(x)
F.cross_entropy(x, Yb).backward()
print("residual MLP at init, per hidden layer: output std, gradient std")
for k, o in enumerate(outs):
    print(f"  hidden layer {k + 1}: std {o.std():.2f}, grad std {o.grad.std():.2e}")
residual_val = short_run(model)
print(f"val after {SWEEP_STEPS:,} steps: residual {residual_val:.4f} vs plain {sweep_val['BN, gain 5/3 (bn_mlp)']:.4f}")
lecture.result("residual_val", residual_val, lecture="-")

# %% [markdown]
# ## To do from the lecture: Adam
#
# The second pointer is a better optimiser. Adam (Kingma & Ba 2014) divides each parameter's step by a running
# estimate of its gradient's size, so every parameter moves at a similar relative pace whatever the scale of
# its gradient — exactly what the update:data plot checks by hand. Same model, same batches, lr 1e-3 with
# the same drop at 75%; the update ratio is measured from the actual change of each weight.

# %%
model = deep_mlp(torch.Generator().manual_seed(SEED))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
adam_ratios = []


def adam_step(Xb, Yb, lr):
    model.train()
    for group in optimizer.param_groups:
        group["lr"] = lr / 100  # step_decay gives 0.1 then 0.01: Adam's 1e-3 then 1e-4
    loss = F.cross_entropy(model(Xb), Yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    weights = [m.weight for m in model if isinstance(m, Linear)]
    before = [w.detach().clone() for w in weights]
    optimizer.step()
    adam_ratios.append([math.log10((w.detach() - b).std() / b.std()) for w, b in zip(weights, before, strict=True)])
    return loss.item()


adam_val = short_run(model, adam_step)
late = torch.tensor(adam_ratios[len(adam_ratios) // 2 : int(0.75 * len(adam_ratios))]).mean(0)
print(
    "Adam's update:data ratio per Linear layer (log10), late in the first phase: "
    + " ".join(f"{r:.2f}" for r in late.tolist())
)
print(f"val after {SWEEP_STEPS:,} steps: Adam {adam_val:.4f} vs SGD {sweep_val['BN, gain 5/3 (bn_mlp)']:.4f}")
lecture.result("adam_val", adam_val, lecture="-")

# %% [markdown]
# ## Sampling from the model
#
# The lecture ends as every makemore lecture does: names from the trained deep net (the BatchNorm one trained
# above, in eval mode so that a single context can go through it). Written out as the lecture's loop — start
# from "...", run the layers, draw the next character from the softmax, shift the context, stop at "." — and
# checked against our `makemore.sampling.sample_words` with the same generator: the same names.

# %%
g_sample = torch.Generator().manual_seed(SEED + 10)
sampled_by_hand = []
with torch.no_grad():
    for _ in range(20):
        context, out = [0] * block_size, []
        while True:
            logits = deep_model(torch.tensor([context]))  # (1, 27)
            ix = torch.multinomial(F.softmax(logits, dim=1), num_samples=1, generator=g_sample).item()
            context = context[1:] + [ix]
            if ix == 0:
                break
            out.append(vocab.itos[ix])
        sampled_by_hand.append("".join(out))
sampled = sample_words(deep_model, vocab, block_size, 20, torch.Generator().manual_seed(SEED + 10))
assert sampled == sampled_by_hand
print(" ".join(f"{name}." for name in sampled))
lecture.result(
    "samples",
    " ".join(f"{name}." for name in sampled[:5]),
    lecture="carpah. qarlileif. jmrix. thty. sacansa. (its net after 1,000 steps)",
)

# %% [markdown]
# ## Summary
#
# A good start is worth understanding before a good architecture: the right initial loss (small logits), tanh
# units in their responsive range (Kaiming's gain / √fan_in), and BatchNorm, which makes the network keep its
# activations at unit scale by itself — at the cost of coupling the examples of a batch. The diagnostics are
# how to see all of that in a network too deep to reason about by hand.

# %%
print(f"lecture 04 done in {time.perf_counter() - started:.0f} s")
