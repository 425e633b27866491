# %% [markdown]
# # Lecture 5 exercises — becoming a backprop ninja
#
# The four exercises of the lecture, with the gradients left for you. Fill in each function whose body is
# `raise NotImplementedError  # YOUR CODE`, then run `python lectures/exercises_05.py` (or run the notebook's
# cells): the last cell checks each gradient against autograd and says *not done*, *wrong* (with the largest
# difference) or *right*. The answers, with explanations, are in `lectures/05_backprop_ninja.py`.
#
# Each gradient function receives `t`, every tensor of the forward pass (and the parameters, `t.Xb`, `t.Yb`,
# `t.n`), and `d`, the correct gradients of everything the backward pass has reached before it (autograd's).
# So each exercise stands on its own: a mistake in one does not spoil the ones after it.

# %%
from types import SimpleNamespace

import torch
import torch.nn.functional as F  # noqa: F401 (for your solutions)

from makemore.data import Vocab, build_windows, load_words, split_words
from zero_to_hero.lectures import Exercises

BESSEL = True  # the lecture's BatchNorm variance divides by n - 1; False: by n, as torch.nn.BatchNorm1d does
SEED = 2147483647
torch.set_num_threads(1)

words = load_words("names")
vocab = Vocab.from_words(words)
Xtr, Ytr = build_windows(split_words(words, seed=42)[0], vocab, block_size=3)
vocab_size, block_size, n_embd, n_hidden, n = len(vocab), 3, 10, 64, 32


def init_params(g):
    """The lecture's parameters: small random biases and BatchNorm gain/bias, so no gradient hides behind 0 or 1."""
    return dict(
        C=torch.randn((vocab_size, n_embd), generator=g),
        W1=torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / (n_embd * block_size) ** 0.5,
        b1=torch.randn(n_hidden, generator=g) * 0.1,
        W2=torch.randn((n_hidden, vocab_size), generator=g) * 0.1,
        b2=torch.randn(vocab_size, generator=g) * 0.1,
        bngain=torch.randn((1, n_hidden), generator=g) * 0.1 + 1.0,
        bnbias=torch.randn((1, n_hidden), generator=g) * 0.1,
    )


def forward(P, Xb, Yb):
    """The lecture's forward pass, one operation per line; returns every tensor in a namespace."""
    n = len(Xb)
    emb = P["C"][Xb]  # (n, 3, 10)
    embcat = emb.view(n, -1)  # (n, 30)
    hprebn = embcat @ P["W1"] + P["b1"]  # (n, 64)
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)  # (1, 64)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1 if BESSEL else n) * bndiff2.sum(0, keepdim=True)  # (1, 64)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = P["bngain"] * bnraw + P["bnbias"]
    h = torch.tanh(hpreact)  # (n, 64)
    logits = h @ P["W2"] + P["b2"]  # (n, 27)
    logit_maxes = logits.max(1, keepdim=True).values  # (n, 1)
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdim=True)  # (n, 1)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    return SimpleNamespace(
        **P, Xb=Xb, Yb=Yb, n=n, **{k: v for k, v in locals().items() if k not in ("P", "Xb", "Yb", "n")}
    )


# %% [markdown]
# ## Exercise 1: backprop through the whole thing, one variable at a time
#
# Each function returns ∂loss/∂(that variable), with the variable's shape. Remember: a broadcast in the
# forward pass is a sum in the backward pass, a sum is a broadcast, and a variable used twice adds up both
# gradients (so e.g. `d_counts` needs `d.probs` and `d.counts_sum`).


# %%
def d_logprobs(t, d):
    """loss = -logprobs[range(n), Yb].mean()"""
    raise NotImplementedError  # YOUR CODE


def d_probs(t, d):
    """logprobs = probs.log()"""
    raise NotImplementedError  # YOUR CODE


def d_counts_sum_inv(t, d):
    """probs = counts * counts_sum_inv   (counts_sum_inv is (n, 1), broadcast over 27 columns)"""
    raise NotImplementedError  # YOUR CODE


def d_counts_sum(t, d):
    """counts_sum_inv = counts_sum**-1"""
    raise NotImplementedError  # YOUR CODE


def d_counts(t, d):
    """counts is used twice: probs = counts * counts_sum_inv and counts_sum = counts.sum(1, keepdim=True)"""
    raise NotImplementedError  # YOUR CODE


def d_norm_logits(t, d):
    """counts = norm_logits.exp()"""
    raise NotImplementedError  # YOUR CODE


def d_logit_maxes(t, d):
    """norm_logits = logits - logit_maxes   (logit_maxes (n, 1) broadcast over columns)"""
    raise NotImplementedError  # YOUR CODE


def d_logits(t, d):
    """logits are used twice: norm_logits = logits - logit_maxes and logit_maxes = logits.max(1).values"""
    raise NotImplementedError  # YOUR CODE


def d_h(t, d):
    """logits = h @ W2 + b2"""
    raise NotImplementedError  # YOUR CODE


def d_W2(t, d):
    """logits = h @ W2 + b2"""
    raise NotImplementedError  # YOUR CODE


def d_b2(t, d):
    """logits = h @ W2 + b2   (b2 (27,) broadcast over the batch)"""
    raise NotImplementedError  # YOUR CODE


def d_hpreact(t, d):
    """h = tanh(hpreact)"""
    raise NotImplementedError  # YOUR CODE


def d_bngain(t, d):
    """hpreact = bngain * bnraw + bnbias   (bngain is (1, 64))"""
    raise NotImplementedError  # YOUR CODE


def d_bnbias(t, d):
    """hpreact = bngain * bnraw + bnbias   (bnbias is (1, 64))"""
    raise NotImplementedError  # YOUR CODE


def d_bnraw(t, d):
    """hpreact = bngain * bnraw + bnbias"""
    raise NotImplementedError  # YOUR CODE


def d_bnvar_inv(t, d):
    """bnraw = bndiff * bnvar_inv   (bnvar_inv is (1, 64))"""
    raise NotImplementedError  # YOUR CODE


def d_bnvar(t, d):
    """bnvar_inv = (bnvar + 1e-5)**-0.5"""
    raise NotImplementedError  # YOUR CODE


def d_bndiff2(t, d):
    """bnvar = 1/(n-1) * bndiff2.sum(0, keepdim=True)   (1/n if BESSEL is False)"""
    raise NotImplementedError  # YOUR CODE


def d_bndiff(t, d):
    """bndiff is used twice: bnraw = bndiff * bnvar_inv and bndiff2 = bndiff**2"""
    raise NotImplementedError  # YOUR CODE


def d_bnmeani(t, d):
    """bndiff = hprebn - bnmeani   (bnmeani (1, 64) broadcast over the batch)"""
    raise NotImplementedError  # YOUR CODE


def d_hprebn(t, d):
    """hprebn is used twice: bndiff = hprebn - bnmeani and bnmeani = 1/n * hprebn.sum(0, keepdim=True)"""
    raise NotImplementedError  # YOUR CODE


def d_embcat(t, d):
    """hprebn = embcat @ W1 + b1"""
    raise NotImplementedError  # YOUR CODE


def d_W1(t, d):
    """hprebn = embcat @ W1 + b1"""
    raise NotImplementedError  # YOUR CODE


def d_b1(t, d):
    """hprebn = embcat @ W1 + b1"""
    raise NotImplementedError  # YOUR CODE


def d_emb(t, d):
    """embcat = emb.view(n, -1)"""
    raise NotImplementedError  # YOUR CODE


def d_C(t, d):
    """emb = C[Xb]   (rows of C copied; a row used several times collects several gradients)"""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 2: cross-entropy backward in one expression
#
# From `t.logits`, `t.Yb` and `t.n` alone: ∂loss/∂logits for loss = F.cross_entropy(logits, Yb).


# %%
def d_logits_fused(t):
    """loss = F.cross_entropy(logits, Yb), differentiated on paper and simplified"""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 3: BatchNorm backward in one expression
#
# ∂loss/∂hprebn from `dhpreact` for hpreact = bngain · (hprebn − mean) / √(var + 1e-5) + bnbias, using
# `t.bngain`, `t.bnraw`, `t.bnvar_inv` and `t.n` (mind `BESSEL`: the variance divides by n − 1).


# %%
def d_hprebn_fused(t, dhpreact):
    """BatchNorm's input gradient in one formula"""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 4: training without `.backward()`
#
# `parameter_grads(P, Xb, Yb)` returns the loss and a dict of the gradient of every parameter ("C", "W1",
# "b1", "W2", "b2", "bngain", "bnbias") — the whole backward pass, using your exercise 2 and 3 functions.
# The check trains 50 steps with it and 50 with autograd from the same start and compares the parameters.


# %%
def parameter_grads(P, Xb, Yb):
    """(loss, {name: gradient}) for one batch, without autograd"""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Check

# %%
ORDER = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes", "logits", "h",
         "W2", "b2", "hpreact", "bngain", "bnbias", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani",
         "hprebn", "embcat", "W1", "b1", "emb", "C"]  # fmt: skip  # the order the backward pass meets them


def difference(ours, reference):
    """Largest absolute difference; infinite if the shapes differ (broadcasting would hide that mistake)."""
    if not isinstance(ours, torch.Tensor) or ours.shape != reference.shape:
        shape = tuple(ours.shape) if isinstance(ours, torch.Tensor) else type(ours).__name__
        print(f"  expected shape {tuple(reference.shape)}, got {shape}")
        return float("inf")
    return (ours - reference).abs().max().item()


g = torch.Generator().manual_seed(SEED)
P = {k: v.requires_grad_() for k, v in init_params(g).items()}
ix = torch.randint(0, len(Xtr), (n,), generator=g)
t = forward(P, Xtr[ix], Ytr[ix])
tensors = {name: P[name] if name in P else getattr(t, name) for name in ORDER}
for name in ORDER:
    if name not in P:
        tensors[name].retain_grad()
t.loss.backward()
true = {name: tensors[name].grad for name in ORDER}
t = SimpleNamespace(**{k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in vars(t).items()})


def check_exercise_1(k):
    name = ORDER[k]
    upstream = SimpleNamespace(**{other: true[other] for other in ORDER[:k]})
    with torch.no_grad():
        return difference(globals()[f"d_{name}"](t, upstream), true[name])


def check_exercise_4(steps=50):
    g = torch.Generator().manual_seed(1)
    start = init_params(torch.Generator().manual_seed(SEED))
    manual = {k: v.clone() for k, v in start.items()}
    auto = {k: v.clone().requires_grad_() for k, v in start.items()}
    for _ in range(steps):
        ix = torch.randint(0, len(Xtr), (n,), generator=g)
        forward(auto, Xtr[ix], Ytr[ix]).loss.backward()
        with torch.no_grad():
            _, grads = parameter_grads(manual, Xtr[ix], Ytr[ix])
            for k in start:
                manual[k] -= 0.1 * grads[k]
                auto[k] -= 0.1 * auto[k].grad
                auto[k].grad = None
    return max(difference(manual[k], auto[k].detach()) for k in start)


exercises = Exercises()
for k, name in enumerate(ORDER):
    exercises.check(f"1 d{name}", lambda k=k: check_exercise_1(k), tol=1e-6)
exercises.check("2 dlogits fused", lambda: difference(d_logits_fused(t), true["logits"]), tol=1e-6)
exercises.check("3 dhprebn fused", lambda: difference(d_hprebn_fused(t, true["hpreact"]), true["hprebn"]), tol=1e-6)
exercises.check("4 training without backward", check_exercise_4, tol=1e-5)
exercises.summary()
