# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lecture 3 — Building makemore Part 2: MLP
#
# Run it whole with `python lectures/03_mlp.py` (a few minutes: it trains the lecture's model for its full 200,000
# steps), or `python lectures/03_mlp.py --fast` (short runs, a few seconds). To read it as a notebook:
# `pip install jupytext`, then open this file in Jupyter or VS Code ("Open as notebook"), or run
# `python -m zero_to_hero.notebooks makemore/lectures/03_mlp.py` from the repository root. Lines starting with
# `RESULT` put our number next to the one the lecture shows.
#
# The bigram model saw one character. Counting with more context explodes (27³ = 19,683 rows for three characters,
# most never seen), so this lecture follows Bengio et al. (2003): give every character a learned vector (an
# embedding), concatenate the vectors of the last three characters, and feed them to a small neural net.

# %%
import random

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from makemore.data import Vocab, build_windows, load_words, split_words
from makemore.mlp import MLP
from makemore.sampling import sample_words
from makemore.training import evaluate, find_lr, sgd_step, train
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("03")
torch.set_num_threads(1)  # tiny tensors: a second thread only waits, and on a busy machine it waits long
SEED = 2147483647  # the lecture's generator seed
main_steps = lecture.steps(full=200_000, fast=4_000)  # the lecture's model: 200k steps, lr 0.1 then 0.01 halfway
side_steps = lecture.steps(full=30_000, fast=1_500)  # each of the smaller experiments
overfit_steps = lecture.steps(full=1_000, fast=1_000)

# %% [markdown]
# ## (Re-)building the training data set
#
# Every position in every word is one example: the previous `block_size = 3` characters (padded with '.' at the
# start) and the character that follows. The first five names give 32 examples.

# %%
words = load_words("names")
vocab = Vocab.from_words(words)
stoi, itos = vocab.stoi, vocab.itos  # '.' = 0, 'a' = 1, ..., 'z' = 26: lecture 2's numbering
block_size = 3


def build_dataset(words: list[str], show: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            if show:
                print("".join(itos[i] for i in context), "--->", itos[ix])
            context = context[1:] + [ix]  # slide the window by one
    return torch.tensor(X), torch.tensor(Y)


X5, Y5 = build_dataset(words[:5], show=True)
print(X5.shape, Y5.shape)
lecture.result("examples5", len(X5), lecture=32)
Xp, Yp = build_windows(words[:5], vocab, block_size)  # the package's windows
assert torch.equal(Xp, X5) and torch.equal(Yp, Y5)

# %% [markdown]
# ## Implementing the embedding lookup table
#
# `C` holds one row per character: 27 rows of 2 numbers to begin with. Looking up row 5 is the same as one-hot
# encoding 5 and multiplying by `C` (lecture 2's trick), so the table is really a first linear layer without a
# nonlinearity. PyTorch indexing takes a whole tensor of indices at once: `C[X]` has shape (examples, 3, 2).

# %%
g = torch.Generator().manual_seed(SEED)
C = torch.randn((27, 2), generator=g)
assert torch.allclose(C[5], F.one_hot(torch.tensor(5), num_classes=27).float() @ C)
emb = C[X5]
print("C[X5].shape:", emb.shape)

# %% [markdown]
# ## The hidden layer, and torch.Tensor internals: storage and views
#
# The hidden layer wants one row of 3 × 2 = 6 numbers per example. Three ways to get it: concatenate the three
# embeddings along dimension 1 by hand, `torch.cat(torch.unbind(emb, 1), 1)` for any block size, or `emb.view(-1, 6)`.
# All three give the same numbers, but `cat` copies them into new memory while `view` only changes how the same
# memory is read (a tensor is a flat storage plus a shape and strides).

# %%
by_hand = torch.cat([emb[:, 0, :], emb[:, 1, :], emb[:, 2, :]], 1)
by_unbind = torch.cat(torch.unbind(emb, 1), 1)
by_view = emb.view(-1, 6)
assert torch.equal(by_hand, by_unbind) and torch.equal(by_hand, by_view)
same_memory = by_view.untyped_storage().data_ptr() == emb.untyped_storage().data_ptr()
copied = by_unbind.untyped_storage().data_ptr() != emb.untyped_storage().data_ptr()
print(f"view shares emb's storage: {same_memory}; cat made a copy: {copied}")
print("torch.arange(6).view(3, 2):", torch.arange(6).view(3, 2).tolist(), "— storage still", list(torch.arange(6)))
lecture.result("view_no_copy", str(same_memory and copied), lecture="True")

W1 = torch.randn((6, 100), generator=g)
b1 = torch.randn(100, generator=g)
h = torch.tanh(emb.view(-1, 6) @ W1 + b1)  # (32, 100); b1 (100,) broadcasts over the rows, as intended
print("h:", h.shape)

# %% [markdown]
# ## The output layer and the negative log likelihood
#
# 27 outputs per example, then lecture 2's recipe: exponentiate, normalize, pick each example's probability of its
# true next character, average the negative logs.

# %%
W2 = torch.randn((100, 27), generator=g)
b2 = torch.randn(27, generator=g)
logits = h @ W2 + b2  # (32, 27)
counts = logits.exp()
prob = counts / counts.sum(1, keepdim=True)
loss_manual = -prob[torch.arange(32), Y5].log().mean()
print("loss of the random network on the 32 examples:", loss_manual.item())
lecture.result("random_loss", loss_manual.item(), lecture=17.7697)

# %% [markdown]
# ## Introducing F.cross_entropy and why
#
# `F.cross_entropy(logits, Y)` computes the same number. Use it: it doesn't build the intermediate tensors (a fused
# kernel, and a simpler backward pass), and it is numerically safe. Softmax doesn't change if a constant is added to
# every logit, so it subtracts the largest logit before exponentiating. The manual version overflows instead: add
# 100 to the logits and `exp` gives inf, and inf / inf is nan.

# %%
loss_ce = F.cross_entropy(logits, Y5)
assert torch.allclose(loss_manual, loss_ce)
shifted = logits + 100
counts_big = shifted.exp()
manual_big = -(counts_big / counts_big.sum(1, keepdim=True))[torch.arange(32), Y5].log().mean()
print(f"logits + 100: manual {manual_big.item()}, F.cross_entropy {F.cross_entropy(shifted, Y5).item():.4f}")
lecture.result("manual_shift100", manual_big.item(), lecture="nan")
lecture.result("ce_shift100", F.cross_entropy(shifted, Y5).item(), lecture="-")
assert torch.isnan(manual_big) and torch.allclose(F.cross_entropy(shifted, Y5), loss_ce, atol=1e-5)

# %% [markdown]
# ## Implementing the training loop, overfitting one batch
#
# The full network, made respectable: parameters from one seeded generator, 3,481 of them. First make sure it can
# learn at all: train on just those 32 examples. It drives the loss far down, but not to 0: the context '...' is
# followed by 'e', 'o', 'a', 'i' and 's' in these five names, and no network can predict all of them at once.


# %%
def init_params(n_embd: int, n_hidden: int, generator: torch.Generator) -> list[torch.Tensor]:
    """The lecture's initialization: every parameter a plain standard normal draw."""
    C = torch.randn((27, n_embd), generator=generator)
    W1 = torch.randn((block_size * n_embd, n_hidden), generator=generator)
    b1 = torch.randn(n_hidden, generator=generator)
    W2 = torch.randn((n_hidden, 27), generator=generator)
    b2 = torch.randn(27, generator=generator)
    params = [C, W1, b1, W2, b2]
    for p in params:
        p.requires_grad = True
    return params


def forward(params: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    C, W1, b1, W2, b2 = params
    emb = C[X]  # (B, 3, n_embd)
    h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)  # (B, n_hidden)
    return h @ W2 + b2  # (B, 27)


def sgd(params: list[torch.Tensor], Xb: torch.Tensor, Yb: torch.Tensor, lr: float) -> float:
    """One step: forward, backward, update."""
    loss = F.cross_entropy(forward(params, Xb), Yb)
    for p in params:
        p.grad = None
    loss.backward()
    for p in params:
        p.data += -lr * p.grad
    return loss.item()


params = init_params(2, 100, torch.Generator().manual_seed(SEED))
lecture.result("params_small", sum(p.nelement() for p in params), lecture=3481)
for _ in range(overfit_steps):
    overfit_loss = sgd(params, X5, Y5, 0.1)
predicted = forward(params, X5).argmax(1)
print(f"loss on the 32 examples after {overfit_steps} steps: {overfit_loss:.4f}; correct: {(predicted == Y5).sum()}/32")
lecture.result("overfit_loss", overfit_loss, lecture="0.25")

# %% [markdown]
# ## Training on the full data set, minibatches
#
# 228,146 examples. A forward and backward pass over all of them for every step is slow; a random minibatch of 32
# gives a noisy but useful gradient for a tiny fraction of the cost. Many rough steps beat few exact ones.

# %%
X, Y = build_dataset(words)
print("all examples:", X.shape)
params = init_params(2, 100, torch.Generator().manual_seed(SEED))
g = torch.Generator().manual_seed(SEED)
for _ in range(1000):
    ix = torch.randint(0, X.shape[0], (32,), generator=g)
    sgd(params, X[ix], Y[ix], 0.1)
with torch.no_grad():
    full_loss = F.cross_entropy(forward(params, X), Y).item()
print(f"after 1000 minibatch steps at lr 0.1: loss on all examples {full_loss:.4f}")

# %% [markdown]
# ## Finding a good initial learning rate
#
# Too small a learning rate crawls, too large one bounces or blows up. Train a fresh network once while the rate
# rises exponentially from 10⁻³ to 10⁰ over 1,000 steps and plot the loss against the exponent: the loss falls
# fastest around 10⁻¹ and turns unstable beyond it. The lecture picks 0.1.

# %%
lre = torch.linspace(-3, 0, 1000)
lrs = 10**lre
params = init_params(2, 100, torch.Generator().manual_seed(SEED))
initial = [p.detach().clone() for p in params]
finder_g = torch.Generator().manual_seed(SEED + 1)
finder_losses = []
for i in range(1000):
    ix = torch.randint(0, X.shape[0], (32,), generator=finder_g)
    finder_losses.append(sgd(params, X[ix], Y[ix], lrs[i].item()))

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(lre, finder_losses, lw=0.8)
ax.set_xlabel("log10(learning rate)")
ax.set_ylabel("minibatch loss")
ax.set_title("learning-rate finder")
fig.tight_layout()
lecture.savefig(fig, "lr_finder.png", docs=True, dpi=80)
plt.close(fig)


def smoothed_min(losses: list[float], window: int = 50) -> int:
    """The step where a running mean of the loss is lowest: the valley of the finder's curve."""
    t = torch.tensor(losses)
    means = t.unfold(0, window, 1).mean(1)
    return int(means.argmin()) + window // 2


best = smoothed_min(finder_losses)
print(f"lowest (smoothed) loss at lr 10^{lre[best]:.2f} = {lrs[best]:.3f}")
lecture.result("lr_valley", lrs[best].item(), lecture="0.1", fmt=".3f")

# %% [markdown]
# The package's `find_lr` is this loop. Given a model with the same starting weights and the same batch generator,
# it traces the same curve:


# %%
def package_model(init: list[torch.Tensor], n_embd: int, n_hidden: int) -> MLP:
    """makemore.mlp.MLP with its weights replaced by the lecture's."""
    model = MLP(27, block_size, n_embd, n_hidden, torch.Generator())
    with torch.no_grad():
        for p, q in zip((model.C, model.W1, model.b1, model.W2, model.b2), init, strict=True):
            p.copy_(q)
    return model


finder_g = torch.Generator().manual_seed(SEED + 1)
package_lrs, package_losses = find_lr(
    lambda: sgd_step(package_model(initial, 2, 100)), X, Y, batch_size=32, generator=finder_g
)
assert torch.allclose(torch.tensor(package_lrs), lrs, rtol=1e-5)
diff = (torch.tensor(package_losses[:600]) - torch.tensor(finder_losses[:600])).abs().max().item()
print(f"max |package - inline| over the first 600 finder losses: {diff:.2e}")
assert diff < 1e-3

# %% [markdown]
# ## Splitting the data set into train/dev/test
#
# A big enough network can memorize its training data, so the loss on the data it trained on says little about
# new names. Shuffle the words and cut them 80/10/10: train the parameters on the first part, tune the settings
# (sizes, learning rate) on the dev part, and look at the test part rarely, at the very end.

# %%
shuffled = list(words)
random.seed(42)
random.shuffle(shuffled)
n1, n2 = int(0.8 * len(shuffled)), int(0.9 * len(shuffled))
Xtr, Ytr = build_dataset(shuffled[:n1])
Xdev, Ydev = build_dataset(shuffled[n1:n2])
Xte, Yte = build_dataset(shuffled[n2:])
print("train", Xtr.shape, "dev", Xdev.shape, "test", Xte.shape)
assert (shuffled[:n1], shuffled[n1:n2], shuffled[n2:]) == split_words(words, seed=42)  # the package's split
lecture.result("train_examples", len(Xtr), lecture="182441 (lecture 4: 182625)")

# %% [markdown]
# (The lecture 3 notebook's cut has 182,441 training examples; the same recipe in the lecture 4 notebook gives
# 182,625, as here.)
#
# ## The lecture's model: 10-dimensional embeddings, 200 hidden units
#
# After the experiments below, the lecture settles on `C` 27×10 and `W1` 30×200: 11,897 parameters, trained 200,000
# steps with batches of 32, lr 0.1 and then 0.01 for the second half. Every parameter starts as a plain `randn`. The
# very first loss is about 27, where a network that knows nothing should say ln 27 = 3.30: the random output layer
# is confidently wrong. (Lecture 4 explains and fixes this.) We draw the batches from the same seeded generator as
# the parameters, as lecture 4 does, so every run gives the same numbers.


# %%
def train_inline(params, steps, g, Xtr=Xtr, Ytr=Ytr, log_every=0):
    losses = []
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        lr = 0.1 if i < steps // 2 else 0.01
        losses.append(sgd(params, Xtr[ix], Ytr[ix], lr))
        if log_every and i % log_every == 0:
            print(f"{i:7d}/{steps:7d}: {losses[-1]:.4f}")
    return losses


@torch.no_grad()
def split_loss(params, X, Y) -> float:
    return F.cross_entropy(forward(params, X), Y).item()


g = torch.Generator().manual_seed(SEED)
params = init_params(10, 200, g)
lecture_init = [p.detach().clone() for p in params]
lecture.result("params", sum(p.nelement() for p in params), lecture=11897)
main_losses = train_inline(params, main_steps, g, log_every=main_steps // 10)
lecture.result("first_loss", main_losses[0], lecture="27.8817 (lecture 4's first step)")
train_loss, dev_loss = split_loss(params, Xtr, Ytr), split_loss(params, Xdev, Ydev)
lecture.result("train", train_loss, lecture=2.1260)
lecture.result("dev", dev_loss, lecture=2.1701)

# %% [markdown]
# The loss of every step, as the lecture plots it: log10 of the minibatch loss against the step. It drops from
# log10(27) ≈ 1.4 within a few thousand steps, then creeps; each point is one batch of 32, hence the thick band of
# noise. The step down halfway is the learning rate going from 0.1 to 0.01.

# %%
log_losses = torch.tensor(main_losses).log10()
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(range(main_steps), log_losses, lw=0.3)
ax.set_xlabel("step")
ax.set_ylabel("log10(minibatch loss)")
ax.set_title("training loss, embedding 10, hidden 200")
lecture.savefig(fig, "loss.png", docs=True, dpi=80)
half = main_steps // 2
late_before, late_after = log_losses[half - half // 5 : half].mean(), log_losses[-(half // 5) :].mean()
print(
    f"mean log10 loss: first 100 steps {log_losses[:100].mean():.3f}, before the lr drop {late_before:.3f}, "
    f"at the end {late_after:.3f}"
)
assert log_losses[:100].mean() > late_before > late_after  # falls fast, then creeps, then steps down

# %% [markdown]
# That's the lecture's figure (its notebook: train 2.1260, dev 2.1701; lecture 4 reruns it on this split: 2.1245 /
# 2.1682). Train and dev are close, so the network is not overfitting: it is small enough that a bigger one should
# help. The package's `makemore.mlp.MLP` is this network; with the trained weights copied in, it gives the same
# logits and losses:

# %%
mlp = package_model([p.detach() for p in params], 10, 200)
with torch.no_grad():
    assert torch.allclose(mlp(Xdev), forward(params, Xdev), atol=1e-5)
assert abs(evaluate(mlp, Xdev, Ydev) - dev_loss) < 1e-5

# %% [markdown]
# And the package's training loop takes the same steps as the one above: 100 steps from the lecture's starting
# weights with the same batch generator end on the same weights.

# %%
inline_params = [p.clone().requires_grad_(True) for p in lecture_init]
train_inline(inline_params, 100, torch.Generator().manual_seed(SEED + 2))
mlp_check = package_model(lecture_init, 10, 200)
train(
    sgd_step(mlp_check),
    Xtr,
    Ytr,
    steps=100,
    batch_size=32,
    lr_at=lambda i: 0.1 if i < 50 else 0.01,
    generator=torch.Generator().manual_seed(SEED + 2),
)
step_diff = max((p - q).abs().max().item() for p, q in zip(mlp_check.parameters(), inline_params, strict=True))
print(f"max |package - inline| after 100 steps: {step_diff:.2e}")
assert step_diff < 1e-4

# %% [markdown]
# ### Our tuned run
#
# The package's `MLP` starts differently: lecture 4's fix (an output layer near zero, `W1` scaled by the tanh gain
# 5/3 over sqrt(30)). Same model, same steps, same schedule — only the first values of the weights change, and the
# loss starts at ln 27 instead of 27 and ends lower.

# %%
tuned = MLP(27, block_size, 10, 200, torch.Generator().manual_seed(SEED))
tuned_losses = train(
    sgd_step(tuned),
    Xtr,
    Ytr,
    steps=main_steps,
    batch_size=32,
    lr_at=lambda i: 0.1 if i < main_steps // 2 else 0.01,
    generator=torch.Generator().manual_seed(SEED),
    log_every=main_steps // 10,
)
lecture.result("tuned_first_loss", tuned_losses[0], lecture="3.3239 (lecture 4)")
tuned_train, tuned_dev = evaluate(tuned, Xtr, Ytr), evaluate(tuned, Xdev, Ydev)
lecture.result("tuned_train", tuned_train, lecture=2.0356)
lecture.result("tuned_dev", tuned_dev, lecture=2.1027)
print("the package's full run (val 2.10 in the README): cd makemore && python train.py --model mlp")

# %% [markdown]
# ## Experiment: a larger hidden layer
#
# Back to 2-dimensional embeddings, as in the lecture's first experiments: 100 hidden units, then 300, each trained
# for the same number of steps (30,000 in full mode). Three times the hidden units buy only a little (full mode: dev
# 2.366 → 2.337). The suspicion: squeezing each character into just 2 numbers is the bottleneck.


# %%
def experiment(n_embd: int, n_hidden: int) -> tuple[list[torch.Tensor], float, float]:
    g = torch.Generator().manual_seed(SEED)
    params = init_params(n_embd, n_hidden, g)
    train_inline(params, side_steps, g)
    return params, split_loss(params, Xtr, Ytr), split_loss(params, Xdev, Ydev)


results = {}
for n_embd, n_hidden in ((2, 100), (2, 300)):
    p, tr, dv = experiment(n_embd, n_hidden)
    results[(n_embd, n_hidden)] = (p, tr, dv)
    n_params = sum(q.nelement() for q in p)
    print(
        f"embedding {n_embd}, hidden {n_hidden}: {n_params} parameters, {side_steps} steps: train {tr:.4f} dev {dv:.4f}"
    )
lecture.result("dev_e2_h100", results[(2, 100)][2], lecture="-")
lecture.result("dev_e2_h300", results[(2, 300)][2], lecture="-")

# %% [markdown]
# ## Visualizing the character embeddings
#
# With 2 dimensions we can look at what the network learned. In the full run (the figure in the README) a, e, i, o
# and y sit together at the bottom, apart from the crowd of consonants in the middle, while q, u, g and '.' are
# loners: nobody told the network what a vowel is, but vowels can replace each other in many contexts, so their
# vectors ended up close. (The fast mode's short training gives a rougher picture.)

# %%
C2 = results[(2, 300)][0][0].detach()
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(C2[:, 0], C2[:, 1], s=200)
for i in range(27):
    ax.text(C2[i, 0].item(), C2[i, 1].item(), itos[i], ha="center", va="center", color="white")
ax.grid(True)
ax.set_title("2-D character embeddings (hidden 300)")
lecture.savefig(fig, "embedding.png", docs=True, dpi=80)
plt.close(fig)

# %% [markdown]
# ## Experiment: a larger embedding
#
# 10 dimensions per character (and 200 hidden units) is the lecture's model trained above. At the same 30,000
# steps it beats both 2-dimensional models clearly (full mode: dev 2.281), with about as many parameters as the
# 300-unit one: the embedding was the bottleneck.
# Fast mode cannot show this: the 10-dimensional model starts slower, and its 1,500 steps are far too few.

# %%
_, tr10, dv10 = experiment(10, 200)
print(f"embedding 10, hidden 200: 11897 parameters, {side_steps} steps: train {tr10:.4f} dev {dv10:.4f}")
lecture.result("dev_e10_h200_short", dv10, lecture="-")
if lecture.fast:  # measured: even at 8,000 steps each it is behind the 300-unit model (dev 2.4366 vs 2.4193)
    print(
        f"fast mode cannot show it: {side_steps} steps are too few for the 10-d model (it needs over 8,000);"
        " full mode, 30,000 steps each: dev 2.2807 vs 2.3372 and 2.3656"
    )

# %% [markdown]
# ## Sampling from the model
#
# Start from '...', run the network, sample the next character from the softmax, slide the window, repeat until
# '.'. The lecture's model, with the lecture's generator seed (+ 10). As in lecture 2, torch 2.x draws single samples
# differently from the lecture's torch, so the names differ; they are as name-like.

# %%
g = torch.Generator().manual_seed(SEED + 10)
samples = []
for _ in range(20):
    out = []
    context = [0] * block_size
    while True:
        with torch.no_grad():
            probs = F.softmax(forward(params, torch.tensor([context])), dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0:
            break
    samples.append("".join(itos[i] for i in out))
print("\n".join(samples))
lecture.result("samples", " ".join(samples[:5]), lecture="carmahela. jhovi. kimrin. thil. halanna.")

# %% [markdown]
# The package's sampler draws the same names from the package's model holding these weights:

# %%
package_samples = sample_words(mlp, vocab, block_size, 20, torch.Generator().manual_seed(SEED + 10))
assert [s + "." for s in package_samples] == samples

# %% [markdown]
# ## Summary
#
# From one character of context (dev 2.45 in lecture 2) to three, through learned embeddings: dev 2.17 with the
# lecture's initialization and 2.10–2.11 with lecture 4's. The package trains this model with
# `python train.py --model mlp`; lecture 4 looks at why the initialization matters so much.
