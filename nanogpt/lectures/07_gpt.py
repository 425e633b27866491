# %% [markdown]
# # Lecture 7 — Let's build GPT: from scratch, in code, spelled out
#
# We replay the lecture in its order: a character tokenizer for tiny shakespeare, batches of chunks, the
# bigram baseline, the four versions of the "mathematical trick" behind self-attention, then a GPT grown
# one piece at a time (one head, many heads, feed-forward, residual paths, LayerNorm, dropout), training
# each stage for the same few steps so the table at the end shows what every piece buys. Along the way
# each piece is checked against our package, `nanogpt`, so the last cell lands on `nanogpt/model.py`.
#
# Run it: `python lectures/07_gpt.py` (full, a few minutes on a laptop CPU), `python lectures/07_gpt.py --fast`
# (tiny step counts, seconds), or as a notebook: `pip install jupytext`, then open this file in Jupyter or
# VS Code (or `python -m zero_to_hero.notebooks nanogpt/lectures/07_gpt.py` from the repository root).

# %%
import itertools
import math
import time

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

from nanogpt.bigram import BigramLanguageModel
from nanogpt.data import Batches, Tokenizer, prepare
from nanogpt.model import GPT, CausalSelfAttention, GPTConfig
from nanogpt.model import Block as PackageBlock
from zero_to_hero.datasets import read_text
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("07")
# These models are tiny: each op is too small to split across threads, and on a busy 2-core machine
# two threads waiting on each other made training 4-5x slower than one.
torch.set_num_threads(1)
started = time.time()

# %% [markdown]
# ## Reading and exploring the data
#
# Tiny shakespeare is one 1.1 MB text file: all the plays run together. A language model learns to
# continue text like it, one character at a time.

# %%
text = read_text("tinyshakespeare")
print(f"length of the text in characters: {len(text):,}")
print(text[:250])

# %% [markdown]
# ## Tokenization, train/val split
#
# The vocabulary is simply every character that occurs, sorted. Encoding maps each character to its
# index; decoding maps back. Real models use sub-word tokens (GPT-2: 50,257 of them, see lecture 8) and so
# get shorter sequences, but characters keep everything visible.

# %%
chars = sorted(set(text))
vocab_size = len(chars)
print(repr("".join(chars)))
lecture.result("vocab", vocab_size, lecture=65)

stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}


def encode(s):
    return [stoi[c] for c in s]


def decode(ids):
    return "".join(itos[i] for i in ids)


print(encode("hii there"))
print(decode(encode("hii there")))
assert encode("hii there") == [46, 47, 47, 1, 58, 46, 43, 56, 43]  # the lecture's printout

# the package's Tokenizer is the same table
tokenizer = Tokenizer("char", "".join(chars))
assert tokenizer.encode("hii there") == encode("hii there") and tokenizer.decode(encode(text[:1000])) == text[:1000]

# %% [markdown]
# ### The trade-off: characters vs sub-word tokens (tiktoken)
#
# The lecture's aside: GPT-2 encodes "hii there" as three tokens from a vocabulary of 50,257, where we use
# nine from a vocabulary of 65. A bigger vocabulary buys shorter sequences: the same text is about 3.3×
# fewer GPT-2 tokens than characters, so a context of the same length sees more text, at the price of a
# much larger embedding table and output layer. We keep characters; lecture 8 builds the GPT-2 tokenizer.

# %%
import tiktoken

gpt2_encoding = tiktoken.get_encoding("gpt2")  # offline: TIKTOKEN_CACHE_DIR must hold its files
hii_there = gpt2_encoding.encode("hii there")
print(f"GPT-2 vocabulary: {gpt2_encoding.n_vocab:,} tokens; 'hii there' -> {hii_there}")
print([gpt2_encoding.decode([i]) for i in hii_there])
gpt2_tokens = len(gpt2_encoding.encode_ordinary(text))
print(f"tiny shakespeare: {len(text):,} characters, {gpt2_tokens:,} GPT-2 tokens ({len(text) / gpt2_tokens:.2f} each)")
lecture.result("gpt2_vocab", gpt2_encoding.n_vocab, lecture=50257)
lecture.result("gpt2_hii_there", ",".join(map(str, hii_there)), lecture="71,4178,612")
lecture.result("chars_total", len(text), lecture=1115394)
lecture.result("gpt2_tokens_total", gpt2_tokens, lecture="- (nanoGPT's prepare.py: 301966 train + 36059 val)")

# %% [markdown]
# ### The whole text as one tensor, split 90/10
#
# The first 90% trains the model; the last 10% is held back, so we can see whether the model learned
# Shakespeare-like text or only memorised this text. `nanogpt.data.prepare` writes exactly these two
# halves to `train.bin` / `val.bin` (uint16 token files) once, and training reads them from there.

# %%
data = torch.tensor(encode(text), dtype=torch.long)
print(data.shape, data.dtype)
print(data[:100])

n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]
print(f"train {len(train_data):,} tokens, val {len(val_data):,} tokens")

meta = prepare("tinyshakespeare", "char", lecture.out_dir / "data")
package_train = torch.from_numpy(np.fromfile(lecture.out_dir / "data" / "train.bin", dtype=np.uint16).astype(np.int64))
assert meta["vocab_size"] == vocab_size and torch.equal(package_train, train_data)

# %% [markdown]
# ## Data loader: batches of chunks of data
#
# ### A chunk of block_size + 1 characters holds block_size examples
#
# We never feed the whole text to the transformer, only random chunks of `block_size` characters. A chunk
# of 9 characters holds 8 training examples: after 1 character predict the 2nd, after 2 the 3rd, and so on.
# Training on every context length from 1 to `block_size` is what lets the model start generating from a
# single character later.

# %%
block_size = 8
print(train_data[: block_size + 1])
x = train_data[:block_size]
y = train_data[1 : block_size + 1]
for t in range(block_size):
    context, target = x[: t + 1], y[t]
    print(f"when input is {context.tolist()} the target: {target}")

# %% [markdown]
# ### Many chunks in parallel: a batch
#
# A batch stacks `batch_size` random chunks into a (B, T) tensor of inputs and the same shifted by one
# for targets. The chunks never talk to each other; batching only keeps the hardware busy. With the
# lecture's seed we draw the lecture's very batch, and the package's `Batches` (the same random starts
# from its own seeded generator) draws it too.

# %%
torch.manual_seed(1337)
batch_size = 4


def get_batch(split, batch_size=4, block_size=8, generator=None):
    source = train_data if split == "train" else val_data
    starts = torch.randint(len(source) - block_size, (batch_size,), generator=generator)
    x = torch.stack([source[i : i + block_size] for i in starts])
    y = torch.stack([source[i + 1 : i + block_size + 1] for i in starts])
    return x, y


xb, yb = get_batch("train")
print("inputs:", xb.shape)
print(xb)
print("targets:", yb.shape)
print(yb)
assert xb.tolist() == [
    [24, 43, 58, 5, 57, 1, 46, 43],
    [44, 53, 56, 1, 58, 46, 39, 58],
    [52, 58, 1, 58, 46, 39, 58, 1],
    [25, 17, 27, 10, 0, 21, 1, 54],
]  # the lecture's batch

package_x, package_y = Batches(lecture.out_dir / "data" / "train.bin", block_size=8, batch_size=4, seed=1337).next()
assert torch.equal(package_x, xb) and torch.equal(package_y, yb)

for b in range(2):  # the first two rows, spelled out
    for t in range(block_size):
        print(f"when input is {xb[b, : t + 1].tolist()} the target: {yb[b, t]}")

# %% [markdown]
# ## Simplest baseline: bigram language model, loss, generation
#
# Each token looks up a row of a (vocab, vocab) table and reads it as the logits of the next token. No
# context at all beyond the current character. Before training, the logits are random, so the loss
# should be near that of a uniform guess, −ln(1/65) = 4.17; the lecture's random table gave 4.88 (a
# little worse than uniform: random logits are confidently wrong). `nanogpt.bigram.BigramLanguageModel`
# is this model; with the lecture's seed both give the lecture's number.


# %%
class Bigram(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.token_embedding_table(idx)  # (B, T, vocab)
        if targets is None:
            return logits, None
        B, T, C = logits.shape  # cross_entropy wants the classes in dim 1: flatten (B, T) into B*T rows
        return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))


torch.manual_seed(1337)
bigram = Bigram(vocab_size)
logits, loss = bigram(xb, yb)
print(logits.shape, loss)
torch.manual_seed(1337)
package_bigram = BigramLanguageModel(vocab_size)
assert torch.equal(package_bigram.token_logits.weight, bigram.token_embedding_table.weight)
assert torch.equal(package_bigram(xb, yb)[1], loss)
lecture.result("uniform", -math.log(1 / vocab_size), lecture=4.17, fmt=".2f")
lecture.result("bigram_init", loss.item(), lecture=4.8786)

# generating: start from token 0 (a newline), sample the next character, append, repeat; the random
# stream continues from the seed above, so this is the lecture's very gibberish
sample = package_bigram.generate(torch.zeros((1, 1), dtype=torch.long), max_new_tokens=100)
print(decode(sample[0].tolist()))

# %% [markdown]
# ## Training the bigram model
#
# AdamW, batches of 32, and a loss averaged over many batches of each split (`estimate_loss`): a single
# batch's loss is too noisy to compare models by. The lecture's `bigram.py` used a learning rate of 1e-2
# and 3,000 steps and ended near 2.49 on val (the notebook's 10,000 steps at 1e-3 end near 2.5 too).
# Samples now have word-sized lumps, spaces and line breaks, but a model that sees only the last
# character cannot do much better.

# %%
eval_iters = lecture.steps(full=200, fast=20)


@torch.no_grad()
def estimate_loss(model, block_size):
    """Mean loss over eval_iters batches of each split; the same batches for every model (fixed seed)."""
    model.eval()
    out = {}
    for split in ("train", "val"):
        generator = torch.Generator().manual_seed(2024)
        losses = [model(*get_batch(split, 32, block_size, generator))[1].item() for _ in range(eval_iters)]
        out[split] = sum(losses) / len(losses)
    model.train()
    return out


def train(model, steps, learning_rate, block_size, batch_size=32, seed=1337):
    """The lecture's loop: sample a batch, evaluate the loss, backpropagate, step. Returns estimate_loss."""
    generator = torch.Generator().manual_seed(seed)  # every stage sees the same batches
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    start = time.time()
    for _ in range(steps):
        xb, yb = get_batch("train", batch_size, block_size, generator)
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    losses = estimate_loss(model, block_size)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{steps} steps in {time.time() - start:.1f}s ({params:,} params): "
        f"train loss {losses['train']:.4f}, val loss {losses['val']:.4f}"
    )
    return losses


stage_steps = lecture.steps(full=3000, fast=150)  # one training budget for every stage of the build
torch.manual_seed(1337)
bigram_model = BigramLanguageModel(vocab_size)  # the package's bigram, as `train.py --model=bigram` trains it
stages = {"bigram": train(bigram_model, stage_steps, learning_rate=1e-2, block_size=8)}
lecture.result("bigram_val", stages["bigram"]["val"], lecture=2.49)
torch.manual_seed(1337)
print(decode(bigram_model.generate(torch.zeros((1, 1), dtype=torch.long), max_new_tokens=200)[0].tolist()))

# %% [markdown]
# ## The mathematical trick in self-attention
#
# We want the 8 tokens of a chunk to talk to each other, but only backwards: token t may use tokens
# 1..t, never the future it has to predict. The weakest form of talking is averaging: token t gets the
# mean of the vectors of tokens 1..t ("bag of words", `xbow`). Four ways to compute the same thing:
#
# ### Version 1: averaging past context with for loops

# %%
torch.manual_seed(1337)
B, T, C = 4, 8, 2  # batch, time, channels
x = torch.randn(B, T, C)

xbow = torch.zeros((B, T, C))
for b in range(B):
    for t in range(T):
        xprev = x[b, : t + 1]  # (t+1, C)
        xbow[b, t] = torch.mean(xprev, 0)

# %% [markdown]
# ### Version 2: using matrix multiply
#
# Multiplying by a lower-triangular matrix whose rows sum to one computes every prefix average at once.
# The toy version: `a` averages the rows of `b` above and including each row.

# %%
torch.manual_seed(42)
a = torch.tril(torch.ones(3, 3))
a = a / torch.sum(a, 1, keepdim=True)
b = torch.randint(0, 10, (3, 2)).float()
print("a=", a, "b=", b, "c=a@b", a @ b, sep="\n")

weights = torch.tril(torch.ones(T, T))
weights = weights / weights.sum(1, keepdim=True)
xbow2 = weights @ x  # (T, T) @ (B, T, C) -> (B, T, C): the (T, T) matrix is broadcast over the batch
assert torch.allclose(xbow, xbow2, atol=1e-6)  # equal up to float32 rounding: the sums run in another order

# %% [markdown]
# ### Version 3: adding softmax
#
# Start from zeros ("every token is equally interesting"), set the future to −∞ ("never look there"),
# and softmax each row: the same averaging matrix. This form is the one that matters: replace the zeros
# by scores that depend on the data, and the average becomes a weighted one.

# %%
tril = torch.tril(torch.ones(T, T))
weights = torch.zeros((T, T))
weights = weights.masked_fill(tril == 0, float("-inf"))
weights = F.softmax(weights, dim=-1)
xbow3 = weights @ x
assert torch.allclose(xbow, xbow3, atol=1e-6)
print(weights)

# %% [markdown]
# ### Version 4: self-attention
#
# Each token emits a query ("what am I looking for?") and a key ("what do I contain?"). The score of
# token t for token s is the dot product of t's query with s's key, so it depends on what the tokens
# are. Masked and softmaxed as in version 3, the scores weight an average of values ("what I will tell
# you if you find me interesting"). With the lecture's seed, one head of size 16 on random data gives
# the lecture's weights (still unscaled here; the next section adds the 1/√head_size).

# %%
torch.manual_seed(1337)
B, T, C = 4, 8, 32
x = torch.randn(B, T, C)

head_size = 16
key = nn.Linear(C, head_size, bias=False)
query = nn.Linear(C, head_size, bias=False)
value = nn.Linear(C, head_size, bias=False)
k = key(x)  # (B, T, 16)
q = query(x)  # (B, T, 16)
weights = q @ k.transpose(-2, -1)  # (B, T, 16) @ (B, 16, T) -> (B, T, T): a score for every pair
weights = weights.masked_fill(tril == 0, float("-inf"))
weights = F.softmax(weights, dim=-1)
v = value(x)
out = weights @ v  # (B, T, 16)
print(out.shape)
print(weights[0].detach())
lecture.result("wei77", weights[0, 7, 7].item(), lecture=0.2391)

# %% [markdown]
# Notes from the lecture, in short:
#
# - Attention is communication on a directed graph: each node gathers a data-dependent weighted sum from
#   the nodes pointing to it. Here node t is pointed to by nodes 1..t.
# - It has no notion of space: the vectors carry no position, so we will add position embeddings.
# - Batch rows never talk to each other.
# - **Encoder vs decoder blocks.** Deleting the masking line lets every token see every other one: an
#   *encoder* block (sentiment analysis, translation's source sentence). Keeping it makes a *decoder*
#   block, which is what generating text needs, since the future is not written yet.
# - *Self*-attention: queries, keys and values all come from the same x. In *cross*-attention the keys
#   and values come from elsewhere (an encoder's output), the queries from here.

# %% [markdown]
# ## "Scaled" self-attention: why divide by √head_size
#
# If q and k have unit variance, q·k sums head_size products and has variance head_size. Fed to softmax,
# such large scores saturate it: each token attends to one other and ignores the rest, and especially
# at initialisation that starves the learning signal. Dividing by √head_size brings the variance back
# to about 1. (Continuing the lecture's random stream, we draw the lecture's very q and k.)

# %%
k = torch.randn(B, T, head_size)
q = torch.randn(B, T, head_size)
unscaled = q @ k.transpose(-2, -1)
scaled = unscaled * head_size**-0.5
lecture.result("var_k", k.var().item(), lecture=1.0449)
lecture.result("var_q", q.var().item(), lecture="1.0700")
lecture.result("var_unscaled", unscaled.var().item(), lecture="~16 (head_size)")
lecture.result("var_scaled", scaled.var().item(), lecture=1.0918)

scores = torch.tensor([0.1, -0.2, 0.3, -0.2, 0.5])
print(torch.softmax(scores, dim=-1))
print(torch.softmax(scores * 8, dim=-1))  # the same scores, sharper: the softmax heads to a one-hot vector
lecture.result("softmax_max", torch.softmax(scores, dim=-1).max().item(), lecture=0.2872)
lecture.result("softmax8_max", torch.softmax(scores * 8, dim=-1).max().item(), lecture="0.8000")

# %% [markdown]
# ## Inserting a single self-attention block into the network
#
# The lecture's model from here on: token embeddings plus position embeddings (so tokens know where they
# are), then some body, then a linear layer to the vocabulary's logits. The first body is one head as
# wide as the embedding (32). Every stage below trains the same way: batches of 32 chunks of 8, AdamW at
# 1e-3, the same number of steps. (The lecture's `Head` divides by √n_embd where it means √head_size;
# with one head as wide as the embedding they coincide, and `nanogpt/model.py` uses head_size.)


# %%
class Head(nn.Module):
    """One head of causal self-attention."""

    def __init__(self, n_embd, head_size, block_size, dropout=0.0):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)
        self.weights = None  # the last forward's attention weights, for the heatmaps at the end

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)  # (B, T, hs)
        q = self.query(x)  # (B, T, hs)
        weights = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)
        weights = weights.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        weights = F.softmax(weights, dim=-1)
        self.weights = weights.detach()
        weights = self.dropout(weights)  # randomly stop some tokens from talking (only while training)
        return weights @ self.value(x)  # (B, T, hs)


class LanguageModel(nn.Module):
    """Token + position embeddings -> body -> final norm -> logits over the vocabulary."""

    def __init__(self, body, n_embd, block_size, final_norm=None, lm_head_bias=True):
        super().__init__()
        self.block_size = block_size
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.body = body
        self.ln_f = final_norm or nn.Identity()
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=lm_head_bias)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)  # (B, T, C)
        pos_emb = self.position_embedding_table(torch.arange(T))  # (T, C)
        x = tok_emb + pos_emb  # (B, T, C): what the token is, and where it is
        logits = self.lm_head(self.ln_f(self.body(x)))  # (B, T, vocab)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.block_size :])  # at most block_size tokens: that many positions exist
            probs = F.softmax(logits[:, -1, :], dim=-1)  # (B, vocab)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


n_embd, block_size = 32, 8
torch.manual_seed(1337)
model = LanguageModel(Head(n_embd, n_embd, block_size), n_embd, block_size)
stages["head"] = train(model, stage_steps, learning_rate=1e-3, block_size=block_size)

# %% [markdown]
# ## Multi-headed self-attention
#
# Several heads in parallel, each smaller (4 heads of 8 instead of 1 of 32), their outputs concatenated
# back to 32 channels: tokens have many different things to look for (vowels, the previous word, the
# start of the line), and each head can look for one. The output projection `proj` arrives with the
# residual connections below; our `nanogpt` module has it, so we check the two equal with it on.
#
# `nanogpt.model.CausalSelfAttention` is this module with the loops taken out: one Linear computes the
# queries, keys and values of every head at once (`c_attn`, 3·n_embd outputs), the heads become a
# tensor dimension, and `scaled_dot_product_attention` does the masked softmax in one fused kernel.
# Copy the heads' weights into it and the outputs agree.


# %%
class MultiHeadAttention(nn.Module):
    """num_heads heads side by side, concatenated, then (optionally) projected."""

    def __init__(self, n_embd, num_heads, block_size, dropout=0.0, project=True):
        super().__init__()
        head_size = n_embd // num_heads
        self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout) for _ in range(num_heads)])
        self.proj = nn.Linear(n_embd, n_embd) if project else nn.Identity()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)  # (B, T, num_heads * head_size)
        return self.dropout(self.proj(out))


def copy_attention(ours: MultiHeadAttention, theirs: CausalSelfAttention):
    """Our heads' weights into the package's fused attention (built with bias=True)."""
    with torch.no_grad():
        for name, part in zip(("query", "key", "value"), theirs.c_attn.weight.chunk(3), strict=True):
            part.copy_(torch.cat([getattr(h, name).weight for h in ours.heads]))  # head h: rows h*hs..(h+1)*hs
        theirs.c_attn.bias.zero_()  # the lecture's heads have no bias
        theirs.c_proj.weight.copy_(ours.proj.weight)
        theirs.c_proj.bias.copy_(ours.proj.bias)


torch.manual_seed(0)
mha = MultiHeadAttention(n_embd, 4, block_size).eval()
fused = CausalSelfAttention(GPTConfig(n_embd=n_embd, n_head=4, block_size=block_size, bias=True)).eval()
copy_attention(mha, fused)
x = torch.randn(4, block_size, n_embd)
for sdpa in (True, False):  # scaled_dot_product_attention, and the explicit masked softmax
    fused.use_sdpa = sdpa
    assert torch.allclose(mha(x), fused(x), atol=1e-6)
print("MultiHeadAttention == nanogpt.model.CausalSelfAttention:", (mha(x) - fused(x)).abs().max().item())

torch.manual_seed(1337)
model = LanguageModel(MultiHeadAttention(n_embd, 4, block_size, project=False), n_embd, block_size)
stages["multihead"] = train(model, stage_steps, learning_rate=1e-3, block_size=block_size)

# %% [markdown]
# ## Feed-forward layers of the transformer block
#
# The tokens gathered information but went straight to the logits without processing it. A small
# per-token MLP after the attention gives each token computation on what it heard. Attention is the
# communication, the feed-forward the computation.

# %%
torch.manual_seed(1337)
body = nn.Sequential(
    MultiHeadAttention(n_embd, 4, block_size, project=False),
    nn.Sequential(nn.Linear(n_embd, n_embd), nn.ReLU()),  # the same little MLP on every token
)
model = LanguageModel(body, n_embd, block_size)
stages["ffwd"] = train(model, stage_steps, learning_rate=1e-3, block_size=block_size)

# %% [markdown]
# ## Residual connections
#
# A transformer repeats communicate-then-compute in blocks. Stacked naively, `x = ffwd(sa(x))` three
# times, the network gets deep, and the lecture's loss stopped improving: a deep stack of plain layers is
# hard to optimise, because the gradient reaching the first layers has passed through every layer above.
# Residual connections fix that: each block *adds* its output to a stream `x = x + block(x)`, so
# gradients flow straight from the loss back to the input through the additions, and the blocks start
# out contributing little and grow in. Each branch ends in a projection back into the stream (`proj`
# above, and the MLP's second Linear), and the MLP becomes 4× wider inside, as in the paper.
#
# Below, the same three blocks (same parameters, same batches, same steps) are trained twice: once
# stacked plainly (`residual=False`), once with the residual stream.


# %%
class FeedForward(nn.Module):
    """Per-token MLP: widen 4x, nonlinearity, project back to the residual stream."""

    def __init__(self, n_embd, dropout=0.0, activation=nn.ReLU):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            activation(),
            nn.Linear(4 * n_embd, n_embd),  # the projection back into the residual stream
            nn.Dropout(dropout),
        )

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    """Communication (attention) then computation (MLP), each added to the residual stream."""

    def __init__(self, n_embd, n_head, block_size, dropout=0.0, norm=None, activation=nn.ReLU, residual=True):
        super().__init__()
        self.sa = MultiHeadAttention(n_embd, n_head, block_size, dropout)
        self.ffwd = FeedForward(n_embd, dropout, activation)
        self.ln1 = norm(n_embd) if norm else nn.Identity()
        self.ln2 = norm(n_embd) if norm else nn.Identity()
        self.residual = residual

    def forward(self, x):
        if not self.residual:  # the naive stack: each layer's output replaces its input
            return self.ffwd(self.ln2(self.sa(self.ln1(x))))
        x = x + self.sa(self.ln1(x))
        return x + self.ffwd(self.ln2(x))


torch.manual_seed(1337)
body = nn.Sequential(*[Block(n_embd, 4, block_size, residual=False) for _ in range(3)])
model = LanguageModel(body, n_embd, block_size)
no_residual = train(model, stage_steps, learning_rate=1e-3, block_size=block_size)

torch.manual_seed(1337)
body = nn.Sequential(*[Block(n_embd, 4, block_size) for _ in range(3)])
model = LanguageModel(body, n_embd, block_size)
stages["residual"] = train(model, stage_steps, learning_rate=1e-3, block_size=block_size)
print(
    f"three blocks, val loss: {no_residual['val']:.4f} stacked plainly, {stages['residual']['val']:.4f} with residuals"
)
lecture.result("stage_no_residual", no_residual["val"], lecture="- (stalls)")

# %% [markdown]
# ## LayerNorm and its relationship to batchnorm
#
# The second trick for deep networks: normalise each token's vector to zero mean and unit variance over
# its channels, then scale and shift by learned `weight` and `bias`. Unlike batch norm (lecture 4) it
# needs no batch statistics and no running buffers: every token is normalised on its own, the same in
# training and at inference. Written out, it equals `nn.LayerNorm` (which is what `nanogpt.model.Block`
# uses) — with the *biased* variance (divide by C, not C−1); the lecture's quick version used `x.var()`,
# the unbiased one, which is slightly off. Today's transformers apply it *before* each branch
# ("pre-norm", `x + sa(ln1(x))`), unlike the original paper, and once more before the logits (`ln_f`).
#
# The lecture gets there from lecture 4's batch norm by changing one number. Batch norm takes its mean and
# variance down each *column* (dim 0: one feature over the 32 examples of the batch); layer norm takes them
# along each *row* (dim 1: the 100 features of one example). With the lecture's seed and its quick version
# (unbiased `x.var()`, no running buffers), each normalises its own direction to mean 0, std 1 and leaves
# the other one alone:


# %%
def normalise(x, dim, eps=1e-5):
    """The lecture's BatchNorm1d (dim=0) / LayerNorm1d (dim=1) in training mode, with gamma=1, beta=0."""
    xmean = x.mean(dim, keepdim=True)
    xvar = x.var(dim, keepdim=True)  # unbiased, as the lecture wrote it
    return (x - xmean) / torch.sqrt(xvar + eps)


lecture_stats = {  # the lecture's printouts: x[:,0].mean(), x[:,0].std(), x[0,:].mean(), x[0,:].std()
    "batchnorm": ("7.4506e-09", "1.0000", "0.0411", "1.0431"),
    "layernorm": ("0.1469", "0.8803", "-9.5367e-09", "1.0000"),
}
for name, dim in (("batchnorm", 0), ("layernorm", 1)):
    torch.manual_seed(1337)
    x = normalise(torch.randn(32, 100), dim)  # a batch of 32 vectors of 100 features
    column, row = x[:, 0], x[0, :]
    print(f"{name}: x[:, 0] (one feature, all examples) mean {column.mean():.4f} std {column.std():.4f}")
    print(f"{name}: x[0, :] (one example, all features) mean {row.mean():.4f} std {row.std():.4f}")
    ours = (column.mean(), column.std(), row.mean(), row.std())
    keys = ("column_mean", "column_std", "row_mean", "row_std")
    for key, value, theirs in zip(keys, ours, lecture_stats[name], strict=True):
        # a mean over the normalised direction is float32 rounding (~1e-8): printed in full, as the lecture's
        lecture.result(f"{name}_{key}", value, lecture=theirs, fmt=".4e" if "e-" in theirs else ".4f")


# %% [markdown]
# (A mean printed as 0.0000 or -0.0000 is ~1e-8, float32 rounding; the RESULT lines show it in full.) In the model,
# layer norm is a module with learned `weight` and `bias` (the lecture's gamma and beta), normalising the
# last dimension of every (B, T, C) activation, i.e. each token's C channels:


# %%
class LayerNorm(nn.Module):
    """Normalise the last dimension of every vector to mean 0, variance 1; then scale and shift."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, keepdim=True, unbiased=False)
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


torch.manual_seed(1337)
x = torch.randn(32, 100) * 3 + 1
ours = LayerNorm(100)
with torch.no_grad():
    ours.weight.uniform_(0.5, 1.5)
    ours.bias.uniform_(-0.5, 0.5)
reference = nn.LayerNorm(100)
reference.load_state_dict(ours.state_dict())
package_norm = PackageBlock(GPTConfig(n_embd=100, n_head=4, bias=True)).ln_1
package_norm.load_state_dict(ours.state_dict())
out = ours(x)
assert torch.allclose(out, reference(x), atol=1e-6) and torch.allclose(out, package_norm(x), atol=1e-6)
print(f"each row: mean {out.mean(1)[0]:.4f}, std {out.std(1)[0]:.4f} (before weight and bias: 0 and ~1)")
unbiased = (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True) + 1e-5)
print(f"with the unbiased variance: off from nn.LayerNorm by {(unbiased - F.layer_norm(x, (100,))).abs().max():.4f}")

torch.manual_seed(1337)
body = nn.Sequential(*[Block(n_embd, 4, block_size, norm=LayerNorm) for _ in range(3)])
model = LanguageModel(body, n_embd, block_size, final_norm=LayerNorm(n_embd))
stages["layernorm"] = train(model, stage_steps, learning_rate=1e-3, block_size=block_size)

# %% [markdown]
# ## Scaling up the model, adding dropout
#
# Dropout zeroes a random fraction of activations at every training step (attention weights, and each
# branch's output before it joins the stream), so the network cannot lean on any single path: it trains
# an ensemble of thinned networks that act as one at inference. It matters once the model is big enough
# to overfit, which is where the lecture goes next: its `gpt.py` uses batch 64, block 256, n_embd 384,
# 6 heads, 6 layers, dropout 0.2, AdamW at 3e-4 for 5,000 steps: 10.79M parameters, val 1.4873 after
# about 15 minutes on an A100. Building that configuration here counts its parameters; our package's
# `GPT` of the same shape has slightly fewer (no biases, and the output layer shares the token
# embedding's matrix: "weight tying").

# %%
torch.manual_seed(1337)
big = LanguageModel(
    nn.Sequential(*[Block(384, 6, 256, dropout=0.2, norm=LayerNorm) for _ in range(6)]), 384, 256, LayerNorm(384)
)
lecture.result("params_lecture_config", sum(p.numel() for p in big.parameters()) / 1e6, lecture=10.788929, fmt=".6f")
package_big = GPT(GPTConfig(vocab_size=vocab_size, block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2))
lecture.result("params_package", package_big.num_params(non_embedding=False) / 1e6, lecture=10.788929, fmt=".6f")
del big, package_big

# %% [markdown]
# That model wants a GPU. On this CPU we train a scaled-down one of the same architecture: 4 layers of 4
# heads, n_embd 128, block 64, batches of 16, dropout 0.1, 1,500 steps, a few minutes (fast mode trains a
# toy for a few steps). The full configuration on a GPU is `cd nanogpt && python train.py
# configs/shakespeare_char.py` (nanoGPT's schedule: lr 1e-3 with warmup and cosine decay); the CPU-sized
# `python train.py` reaches val ≈ 1.80 in about a minute with the package's faster fused attention.

# %%
scaled = dict(n_embd=128, n_head=4, n_layer=4, block_size=64, batch_size=16, dropout=0.1)
if lecture.fast:
    scaled = dict(n_embd=32, n_head=4, n_layer=2, block_size=32, batch_size=16, dropout=0.1)
scaled_steps = lecture.steps(full=1500, fast=100)
torch.manual_seed(1337)
blocks = [
    Block(scaled["n_embd"], scaled["n_head"], scaled["block_size"], scaled["dropout"], norm=LayerNorm)
    for _ in range(scaled["n_layer"])
]
gpt = LanguageModel(nn.Sequential(*blocks), scaled["n_embd"], scaled["block_size"], LayerNorm(scaled["n_embd"]))
print({**scaled, "steps": scaled_steps})
stages["scaled"] = train(gpt, scaled_steps, 1e-3, scaled["block_size"], scaled["batch_size"])
lecture.result("scaled_val", stages["scaled"]["val"], lecture=1.4873)
gpt.eval()
torch.manual_seed(1337)
print(decode(gpt.generate(torch.zeros((1, 1), dtype=torch.long), max_new_tokens=lecture.steps(500, 200))[0].tolist()))

# %% [markdown]
# ## The loss at each stage of the build (ours vs the lecture's)
#
# Every stage up to LayerNorm trained for the same number of steps on the same batches, its val loss
# averaged over the same batches; the last row is the scaled-down model above. The lecture trained its
# stages for 5,000 steps (and the last one, 10.8M parameters, on a GPU), so ours sit a little above,
# but each piece helps in the same order. Fast mode's 150 steps are too few for the last two pieces:
# LayerNorm overtakes the plain residual stack only after some 400-500 steps (at 250 steps it is still
# 0.025 behind, at 400 0.002), and the toy scaled model trains 100 steps; a NOTE line says so below.

# %%
lecture_stage_val = {
    "bigram": 2.49,
    "head": 2.4,
    "multihead": 2.28,
    "ffwd": 2.24,
    "residual": 2.08,
    "layernorm": 2.06,
    "scaled": 1.4873,
}
print(f"{'stage':<10} {'train':>7} {'val':>7} {'lecture val':>12}")
for name, losses in stages.items():
    print(f"{name:<10} {losses['train']:7.4f} {losses['val']:7.4f} {lecture_stage_val[name]:12}")
    lecture.result(f"stage_{name}", losses["val"], lecture=lecture_stage_val[name])
names = list(stages)
for before, after in itertools.pairwise(names):  # each piece helped in the lecture: say where ours cannot show it yet
    if stages[after]["val"] >= stages[before]["val"]:
        print(
            f"NOTE {'fast mode' if lecture.fast else 'this run'} cannot show what {after} buys over {before} "
            f"({stages[after]['val']:.4f} vs {stages[before]['val']:.4f}): too few steps; the full run shows it "
            "(python lectures/07_gpt.py; the README's stage table)"
        )

fig, ax = plt.subplots(figsize=(7, 3.2))
positions = range(len(stages))
ax.bar([p - 0.2 for p in positions], [s["val"] for s in stages.values()], width=0.4, label="ours (val)")
ax.bar([p + 0.2 for p in positions], list(lecture_stage_val.values()), width=0.4, label="lecture (val)")
ax.set_xticks(list(positions), list(stages))
ax.set_ylim(1.0, max(3.0, *(s["val"] + 0.1 for s in stages.values())))
ax.set_ylabel("validation loss")
ax.set_title(f"Val loss as the transformer is built ({stage_steps} steps per stage)")
ax.legend()
lecture.savefig(fig, "stages.png", docs=True)

# %% [markdown]
# ## What the heads look at (attention heatmaps)
#
# The attention weights of the trained model on a line of Shakespeare: row t shows how token t spreads
# its attention over tokens 1..t (the upper triangle is the mask). The printout measures two simple
# patterns: the mean weight on the token itself and on the one just before it. In the full run three of
# the four first-layer heads put most of their weight (0.70-0.86) on the previous character, the line
# just below the diagonal: the first thing the model gathers is what came right before. Last-layer heads
# spread over the text, and a vertical stripe is a position that many later tokens keep looking back at.

# %%
line = "ROMEO:\nBut soft, what light through yonder window breaks?"[: scaled["block_size"]]
with torch.no_grad():
    gpt(torch.tensor([encode(line)]))
first, last = gpt.body[0].sa.heads, gpt.body[-1].sa.heads
fig, axes = plt.subplots(2, len(first), figsize=(3.2 * len(first), 6.8))
labels = [ch if ch != "\n" else "\\n" for ch in line]
for row, (layer_name, heads) in enumerate((("first", first), ("last", last))):
    for col, head in enumerate(heads):
        weights = head.weights[0]  # (T, T)
        print(
            f"{layer_name} layer, head {col}: {weights.diagonal().mean():.2f} on itself, "
            f"{weights.diagonal(-1).mean():.2f} on the previous character"
        )
        ax = axes[row, col]
        ax.imshow(weights.numpy(), cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"{layer_name} layer, head {col}", fontsize=9)
        ax.set_xticks(range(len(line)), labels, fontsize=4)
        ax.set_yticks(range(len(line)), labels, fontsize=4)
fig.suptitle(f"attention weights on {line!r} (row: the token attending)", fontsize=10)
fig.tight_layout()
lecture.savefig(fig, "attention.png", docs=True, dpi=80)

# %% [markdown]
# ## Walkthrough of nanoGPT: batched multi-headed self-attention (`nanogpt/model.py`)
#
# `nanogpt.model.GPT` is the model we just built, with the lecture's loops fused and three changes from
# nanoGPT / GPT-2: GELU instead of ReLU, weight tying (the logits layer reuses the token embedding matrix,
# so no separate `lm_head` and no bias on it), and optional biases. Build our model with those choices,
# copy its weights into the package's `GPT`, and the logits agree, with either attention path.


# %%
def copy_to_package(ours: LanguageModel, theirs: GPT):
    with torch.no_grad():
        theirs.transformer.wte.weight.copy_(ours.token_embedding_table.weight)  # tied: also theirs.lm_head
        theirs.transformer.wpe.weight.copy_(ours.position_embedding_table.weight)
        for block, package_block in zip(ours.body, theirs.transformer.h, strict=True):
            package_block.ln_1.load_state_dict(block.ln1.state_dict())
            copy_attention(block.sa, package_block.attn)
            package_block.ln_2.load_state_dict(block.ln2.state_dict())
            package_block.mlp.c_fc.load_state_dict(block.ffwd.net[0].state_dict())
            package_block.mlp.c_proj.load_state_dict(block.ffwd.net[2].state_dict())
        theirs.transformer.ln_f.load_state_dict(ours.ln_f.state_dict())


config = GPTConfig(vocab_size=vocab_size, block_size=32, n_layer=2, n_head=4, n_embd=32, bias=True)
torch.manual_seed(1337)
ours = LanguageModel(
    nn.Sequential(*[Block(32, 4, 32, norm=LayerNorm, activation=nn.GELU) for _ in range(2)]),
    32,
    32,
    LayerNorm(32),
    lm_head_bias=False,
).eval()
ours.lm_head.weight = ours.token_embedding_table.weight  # weight tying
package_gpt = GPT(config).eval()
copy_to_package(ours, package_gpt)
idx, targets = get_batch("val", 4, 32, torch.Generator().manual_seed(0))
our_logits, our_loss = ours(idx, targets)
for sdpa in (True, False):
    package_gpt.set_attention(sdpa)
    package_logits, package_loss = package_gpt(idx, targets)
    assert torch.allclose(our_logits, package_logits, atol=1e-5) and torch.allclose(our_loss, package_loss)
lecture.result("package_logits_diff", (our_logits - package_logits).abs().max().item(), lecture="-", fmt=".1e")

# %% [markdown]
# ## Back to ChatGPT: pretraining vs fine-tuning
#
# What we trained is a decoder-only transformer doing *pretraining*: it babbles text that looks like its
# training data. ChatGPT starts the same way, only at scale (GPT-3: 175B parameters, some 300B tokens of
# sub-word text, against our ~1M characters). A pretrained model is a document completer, not an
# assistant; turning it into one takes *fine-tuning*: supervised training on question–answer documents,
# then a reward model trained on human rankings of its answers, then reinforcement learning (PPO) against
# that reward. Those stages are small in data but need data that is not public; the pretraining stage is
# the one this lecture (and `nanogpt`, up to GPT-2 124M in `configs/gpt2.py`) lets you run yourself.

# %%
print(f"walkthrough finished in {time.time() - started:.0f}s")
