# %% [markdown]
# # Lecture 4 exercises — activations, gradients, BatchNorm
#
# The two exercises of the lecture's video description, with the answers left for you. Fill in each function
# whose body is `raise NotImplementedError  # YOUR CODE`, then run `python lectures/exercises_04.py` (or run the
# notebook's cells): the last cell checks each answer and says *not done*, *wrong* (and where) or *right*.
# The walkthrough `lectures/04_batchnorm.py` has everything you need: the MLP, its training loop, BatchNorm.

# %%
import torch
import torch.nn.functional as F
from torch import nn

from makemore.data import Vocab, build_windows, load_words, split_words
from makemore.layers import BatchNorm1d, Linear, bn_mlp
from zero_to_hero.lectures import Exercises

SEED = 2147483647
torch.set_num_threads(1)

words = load_words("names")
vocab = Vocab.from_words(words)
Xtr, Ytr = build_windows(split_words(words, seed=42)[0], vocab, block_size=3)
vocab_size, block_size, n_embd, n_hidden = len(vocab), 3, 10, 200


def zero_init():
    """The lecture's one-hidden-layer MLP (embedding C, tanh layer W1/b1, output W2/b2) with every entry 0."""
    shapes = dict(
        C=(vocab_size, n_embd),
        W1=(n_embd * block_size, n_hidden),
        b1=(n_hidden,),
        W2=(n_hidden, vocab_size),
        b2=(vocab_size,),
    )
    return {name: torch.zeros(shape, requires_grad=True) for name, shape in shapes.items()}


def mlp_loss(P, Xb, Yb):
    """Forward pass of that MLP: cross-entropy of a batch."""
    h = torch.tanh(P["C"][Xb].view(len(Xb), -1) @ P["W1"] + P["b1"])  # (B, 200)
    return F.cross_entropy(h @ P["W2"] + P["b2"], Yb)


def train_mlp(P, steps, lr=0.1, seed=1):
    """The lecture's SGD loop (batch 32) on the training split; changes P in place, returns the losses."""
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        ix = torch.randint(0, len(Xtr), (32,), generator=g)
        loss = mlp_loss(P, Xtr[ix], Ytr[ix])
        for p in P.values():
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in P.values():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


# %% [markdown]
# ## Exercise 1: initialise every weight and bias to zero
#
# The lecture never tried it. Train the MLP from `zero_init()` (use `train_mlp`, look at each `P[name].grad`
# after a step, and at what the tanh layer outputs). It does not fail outright, and it does not train properly
# either: it trains *partly* and ends at a poor loss. Find out which part learns, and why the rest cannot.
#
# **1a.** Return the set of parameter names (among "C", "W1", "b1", "W2", "b2") whose values ever change when
# the all-zero net is trained.
#
# **1b.** The loss (on the training split, in nats) that the all-zero net's training converges to, *computed
# from the data* (`Ytr`), not by training: once you know what the net can and cannot learn, you know which
# distribution it ends up predicting for every context.


# %%
def moving_parameters():
    """The names of the parameters that change during training from all-zero init, as a set."""
    raise NotImplementedError  # YOUR CODE


def zero_init_loss():
    """The training-split loss the all-zero net converges to, computed from Ytr (a float)."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Exercise 2: fold BatchNorm into the Linear layer before it
#
# After training, a BatchNorm layer in eval mode is a fixed affine map per unit: it subtracts `running_mean`,
# divides by √(`running_var` + eps), multiplies by `gamma` and adds `beta`. The Linear layer before it is
# affine too, so the two collapse into one Linear layer with new weights and bias, and the net no longer
# needs to run BatchNorm at inference.
#
# `fold` takes a Linear layer's weight (fan_in, fan_out) and bias (fan_out,) — or `None`, as in `bn_mlp`,
# whose Linear layers have no bias — and the BatchNorm's parameters and running statistics (each (fan_out,)),
# and returns `(W', b')`: a weight (fan_in, fan_out) and a bias (fan_out,) such that
# `x @ W' + b' == batchnorm(x @ W + b)` in eval mode.


# %%
def fold(linear_W, linear_b, bn_gamma, bn_beta, running_mean, running_var, eps):
    """(W', b') of the one Linear layer that equals Linear (W, b) followed by BatchNorm1d in eval mode."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Check

# %%
PARAMETER_NAMES = ("C", "W1", "b1", "W2", "b2")


def check_exercise_1a(steps=100):
    answer = moving_parameters()
    if not isinstance(answer, (set, frozenset, list, tuple)) or not all(isinstance(a, str) for a in answer):
        print(f"  expected a set of parameter names, got {answer!r}")
        return False
    P = zero_init()
    start = {name: p.detach().clone() for name, p in P.items()}
    train_mlp(P, steps)
    moved = {name for name in PARAMETER_NAMES if not torch.equal(P[name].detach(), start[name])}
    for name in sorted(set(answer) - set(PARAMETER_NAMES)):
        print(f"  {name!r} is not a parameter of the MLP (they are {', '.join(PARAMETER_NAMES)})")
        return False
    for name in PARAMETER_NAMES:  # the first name where the answer and the training run disagree
        if (name in answer) != (name in moved):
            said = "changes" if name in answer else "never changes"
            did = "changes" if name in moved else "never changes"
            print(f"  {name}: you say it {said}, but in {steps} steps of training it {did}")
            print("  hint: what does the tanh layer output at step 0, and what does that do to every gradient?")
            return False
    return True


def check_exercise_1b():
    answer = float(zero_init_loss())
    p = torch.bincount(Ytr, minlength=vocab_size).double() / len(Ytr)
    reference = -(p[p > 0] * p[p > 0].log()).sum().item()
    if abs(answer - reference) > 1e-3:
        print(f"  your loss {answer:.4f} is not where the all-zero net ends up")
        print("  hint: the net's output is the same for every context; which one distribution minimises the loss?")
    return abs(answer - reference)


def _check_fold(linear: Linear, bn: BatchNorm1d, x: torch.Tensor, where: str):
    """(max |diff|, W', b') between the learner's folded layer and Linear -> BatchNorm (eval) on x; names the
    first miss."""
    fan_in, fan_out = linear.weight.shape
    args = [linear.weight, linear.bias, bn.gamma, bn.beta, bn.running_mean, bn.running_var, bn.eps]
    with torch.no_grad():
        answer = fold(*[a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args])
        if not isinstance(answer, tuple) or len(answer) != 2:
            print(f"  {where}: fold should return a tuple (W', b'), got {type(answer).__name__}")
            return float("inf"), None, None
        W, b = (torch.as_tensor(t) for t in answer)
        for name, t, shape in (("W'", W, (fan_in, fan_out)), ("b'", b, (fan_out,))):
            if tuple(t.shape) != shape:
                print(f"  {where}: {name} should have shape {shape}, got {tuple(t.shape)}")
                return float("inf"), None, None
        bn.eval()
        expected = bn(linear(x))
        folded = x @ W + b
        diff = (folded - expected).abs()
        worst = diff.max().item()
        if not worst <= 1e-5:  # also catches nan
            row, col = (~(diff <= 1e-5)).nonzero()[0].tolist()  # the first in reading order (nan counts)
            print(
                f"  {where}: first differing value at output[{row}, {col}]: folded {folded[row, col].item():.6f}, "
                f"Linear -> BatchNorm {expected[row, col].item():.6f}"
            )
            print("  hint: write gamma * (x @ W + b - mean) / sqrt(var + eps) + beta as x @ (...) + (...)")
    return worst, W, b


def check_exercise_2():
    g = torch.Generator().manual_seed(SEED)
    # one Linear layer with a bias, BatchNorm with non-trivial parameters and statistics, random inputs
    linear, bn = Linear(30, 100, g, bias=True, gain=5 / 3), BatchNorm1d(100)
    with torch.no_grad():
        linear.bias.copy_(torch.randn(100, generator=g))
        bn.gamma.copy_(1 + 0.3 * torch.randn(100, generator=g))
        bn.beta.copy_(0.3 * torch.randn(100, generator=g))
        bn.running_mean.copy_(torch.randn(100, generator=g))
        bn.running_var.copy_(0.5 + torch.rand(100, generator=g))
    linear, bn = linear.double(), bn.double()  # in float64, rounding can't blur a right or a wrong answer
    x = torch.randn(256, 30, generator=g, dtype=torch.float64)
    worst, _, _ = _check_fold(linear, bn, x, "Linear(30, 100, bias) + BatchNorm1d")
    if not worst <= 1e-5:
        return worst
    # the lecture's deep net, trained a little (so its running statistics are real), every Linear folded
    net = bn_mlp(vocab_size, block_size, torch.Generator().manual_seed(SEED))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(30):
        ix = torch.randint(0, len(Xtr), (32,), generator=g)
        loss = F.cross_entropy(net(Xtr[ix]), Ytr[ix])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.double().eval()
    contexts = torch.randint(0, vocab_size, (256, block_size), generator=g)  # random contexts
    folded_layers, layers = [], list(net)
    x = contexts
    with torch.no_grad():
        for k, layer in enumerate(layers):
            if isinstance(layer, Linear):
                where = f"bn_mlp layer {k} (Linear {tuple(layer.weight.shape)}) + layer {k + 1} (BatchNorm1d)"
                diff, W, b = _check_fold(layer, layers[k + 1], x, where)
                if not diff <= 1e-5:  # also catches nan
                    return diff
                worst = max(worst, diff)
                folded = Linear(*W.shape, torch.Generator(), bias=True).double()
                folded.weight.copy_(W)
                folded.bias.copy_(b)
                folded_layers.append(folded)
            elif not isinstance(layer, BatchNorm1d):
                folded_layers.append(layer)
            x = layer(x)
        folded_net = nn.Sequential(*folded_layers)
        return max((folded_net(contexts) - net(contexts)).abs().max().item(), worst)  # nan first: max keeps it


exercises = Exercises()
exercises.check("1a all-zero init: the parameters that learn", check_exercise_1a)
exercises.check("1b all-zero init: the loss it converges to", check_exercise_1b, tol=1e-3)
exercises.check("2 BatchNorm folded into the Linear before it", check_exercise_2, tol=1e-5)
exercises.summary()
