# %% [markdown]
# # Lecture 9 — Let's reproduce GPT-2 (124M)
#
# The course's last lecture builds nanoGPT again from an empty file and trains GPT-2 (124M) on 10B tokens
# of FineWeb-Edu. We replay it in its order (the order of the commits of karpathy/build-nanogpt): GPT-2's
# weights and our GPT holding them, the data and the loss, weight tying and GPT-2's initialization, the
# speed-ups (measured here, on this machine), the optimizer details, gradient accumulation, DDP, the
# data shards and HellaSwag, and finally the run and its plot — scaled down to what a laptop CPU does in
# minutes. Each piece is built inline, then checked against our package, `nanogpt`.
#
# Run it: `python lectures/09_gpt2.py` (full: a few minutes on a laptop CPU), `python lectures/09_gpt2.py
# --fast` (seconds), or as a notebook (`python -m zero_to_hero.notebooks nanogpt/lectures/09_gpt2.py`).
#
# OpenAI's GPT-2 weights are used when they are on this machine: a Hugging Face folder named by
# `GPT2_WEIGHTS=path/to/gpt2`, or the Hugging Face cache (`huggingface-cli download gpt2 config.json
# model.safetensors` once, online). Nothing is ever downloaded here: without them, a randomly initialized
# GPT-2 of the same shapes stands in, and the text says what the real one shows.

# %%
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

from nanogpt import hellaswag
from nanogpt.config import TrainConfig
from nanogpt.data import Batches, Tokenizer
from nanogpt.model import GPT, GPTConfig
from nanogpt.optim import configure_optimizer, lr_at
from nanogpt.pretrained import cached_snapshot, read_state_dict, to_our_names
from zero_to_hero.datasets import read_text
from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("09")
torch.set_num_threads(1)  # small models, a shared 2-core machine: one thread each (and fork-safe for section 7)
PACKAGE = Path(sys.argv[0]).resolve().parent.parent if sys.argv[0].endswith(".py") else Path.cwd()
if not (PACKAGE / "train.py").is_file():  # a notebook kernel: its cwd is the lectures folder or the package
    PACKAGE = next(p for p in (Path.cwd(), Path.cwd().parent, Path.cwd() / "nanogpt") if (p / "train.py").is_file())
started = time.time()

# transformers' progress bars (tqdm) warn in a notebook without ipywidgets; nothing here downloads or shows a bar
warnings.filterwarnings("ignore", message="IProgress not found")
try:
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel

    transformers.logging.set_verbosity_error()
except ImportError:
    transformers = None
    print("transformers is not installed (pip install 'nanogpt[lectures]'): Hugging Face's GPT-2 is left out")

# %% [markdown]
# ## Section 1: GPT-2's state dict
#
# GPT-2 (124M): 12 layers, 12 heads, 768 channels, a context of 1024 tokens, 50,257 tokens in the
# vocabulary. Hugging Face's `GPT2LMHeadModel` holds OpenAI's weights under names that our GPT uses too
# (`transformer.wte`, `transformer.h.0.attn.c_attn`, ...). A state dict is just names → tensors.

# %%
weights_dir = os.environ.get("GPT2_WEIGHTS") or cached_snapshot("gpt2")
REAL = weights_dir is not None and Path(weights_dir, "config.json").is_file()
if REAL:
    print(f"OpenAI's GPT-2 weights from {weights_dir}")
    sd_hf = read_state_dict(Path(weights_dir))  # the files as they are; no Hugging Face package needed
    # OpenAI's original files name the tensors without the "transformer." prefix the model adds
    sd_hf = {
        k if k == "lm_head.weight" else "transformer." + k.removeprefix("transformer."): v for k, v in sd_hf.items()
    }
    hf = GPT2LMHeadModel.from_pretrained(weights_dir, local_files_only=True).eval() if transformers else None
    hf_config = json.loads(Path(weights_dir, "config.json").read_text())
    hf_shape = {key: hf_config[key] for key in ("n_layer", "n_head", "n_embd")}  # 12, 12, 768 for gpt2
else:
    # fast mode shrinks the random stand-in to 2 layers of 128 channels: same names, same vocabulary
    hf_shape = dict(n_layer=12, n_head=12, n_embd=768) if not lecture.fast else dict(n_layer=2, n_head=4, n_embd=128)
    print(f"no GPT-2 weights on this machine: a random GPT-2 with {hf_shape} stands in")
    torch.manual_seed(0)
    if transformers:
        hf = GPT2LMHeadModel(GPT2Config(**hf_shape)).eval()  # vocab 50257, context 1024: GPT-2's
        sd_hf = hf.state_dict()
    else:  # our GPT, written out in Hugging Face's layout (Conv1D matrices transposed)
        hf = None
        ours_random = GPT(GPTConfig(vocab_size=50257, block_size=1024, bias=True, gelu_approximate="tanh", **hf_shape))
        conv1d = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
        sd_hf = {k: v.t() if k.endswith(conv1d) else v for k, v in ours_random.state_dict().items()}

for name, tensor in sd_hf.items():
    if ".h." not in name or ".h.0." in name:  # layer 0 stands for every layer (the lecture prints all 12)
        print(f"{name:40s} {tuple(tensor.shape)}")
print(f"... {len(sd_hf)} tensors in all")
print(sd_hf["transformer.wpe.weight"].view(-1)[:20])

# %% [markdown]
# The position embedding table (1024 × 768): each row is the vector added for one position. The lecture's
# plots of OpenAI's weights show structure the model learned: the image has smooth stripes, and a column
# plotted across the 1024 positions is a noisy sinusoid-like wave (the model learned something like the
# original transformer's fixed sinusoids, not quite converged); a slice of `c_attn.weight` shows faint
# structure too. A random stand-in shows plain noise in all three.

# %%
wpe = sd_hf["transformer.wpe.weight"].float()
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
axes[0].imshow(wpe, cmap="gray", aspect="auto")
axes[0].set_title("wpe (1024 positions x channels)")
columns = (150, 200, 250) if wpe.size(1) > 250 else (15, 20, 25)  # the lecture's columns (fast: narrower)
for column in columns:
    axes[1].plot(wpe[:, column], label=f"channel {column}", linewidth=0.8)
axes[1].set_xlabel("position"), axes[1].legend(), axes[1].set_title("three columns of wpe")
c_attn = sd_hf["transformer.h.1.attn.c_attn.weight"].float()
axes[2].imshow(c_attn[:300, :300], cmap="gray")
axes[2].set_title("h.1.attn.c_attn.weight[:300, :300]")
fig.suptitle("OpenAI's GPT-2" if REAL else "a random GPT-2 of the same shapes (the real one: see the text above)")
lecture.savefig(fig, "gpt2_weights.png")

# %% [markdown]
# ## Section 2: our GPT = Hugging Face's
#
# Our `GPT` has GPT-2's module names, so loading is a copy — except for four matrices per layer. OpenAI's
# code used a "Conv1D" layer that stores its weight as (in, out), where `nn.Linear` stores (out, in): those
# are transposed. The causal-mask buffers (`.attn.bias`) are skipped: our attention masks by itself.
# GPT-2's GELU is the tanh approximation, and GPT-2 has biases everywhere.

# %%
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def gpt_from_hf_state(sd_hf, n_layer, n_head, n_embd):
    """A fresh GPT of the given shape, holding the Hugging Face state dict's weights."""
    config = GPTConfig(vocab_size=50257, block_size=1024, n_layer=n_layer, n_head=n_head, n_embd=n_embd)
    config.bias, config.gelu_approximate = True, "tanh"
    model = GPT(config)
    sd = model.state_dict()
    for name, tensor in sd_hf.items():
        if name.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # a buffer (the causal mask), not a parameter
        if name.endswith(CONV1D):
            assert tensor.shape[::-1] == sd[name].shape
            with torch.no_grad():
                sd[name].copy_(tensor.t())
        else:
            assert tensor.shape == sd[name].shape, name
            with torch.no_grad():
                sd[name].copy_(tensor)
    return model


model = gpt_from_hf_state(sd_hf, **hf_shape).eval()
# the package's mapping (nanogpt/pretrained.py, behind GPT.from_pretrained) gives the same tensors
package_state = to_our_names(sd_hf)
assert all(torch.equal(model.state_dict()[name], tensor) for name, tensor in package_state.items())
print("our loader == nanogpt.pretrained.to_our_names:", len(package_state), "tensors")

enc = Tokenizer("gpt2")
prompt = enc.encode("Hello, I'm a language model,")
print(prompt)
assert prompt == [15496, 11, 314, 1101, 257, 3303, 2746, 11]  # the lecture's tokens
idx = torch.tensor(prompt).unsqueeze(0).repeat(5, 1)  # (5, 8)
if hf is not None:
    with torch.no_grad():
        diff = (model(idx, idx)[0] - hf(idx).logits).abs().max().item()
    lecture.result("logits_vs_hf", diff, lecture="-", fmt=".1e")
    assert diff < 1e-5

# %% [markdown]
# Sampling as the lecture does: 5 sequences of 30 tokens, seed 42, top-k 50 (Hugging Face's pipeline
# default): keep the 50 likeliest tokens, sample among them. The same loop run on Hugging Face's model
# draws the same tokens. (`GPT.generate(top_k=50)` samples from the same distribution but draws its random
# numbers differently, so its tokens differ.)


# %%
def sample_top_k(logits_fn, idx, length=30, k=50, seed=42):
    """Extend idx (B, T) to `length` tokens; logits_fn(x) -> the last position's logits (B, vocab)."""
    torch.manual_seed(seed)
    x = idx
    while x.size(1) < length:
        with torch.no_grad():
            probs = F.softmax(logits_fn(x), dim=-1)  # (B, vocab)
        topk_probs, topk_indices = torch.topk(probs, k, dim=-1)  # (B, k)
        choice = torch.multinomial(topk_probs, 1)  # (B, 1): multinomial renormalizes
        x = torch.cat((x, torch.gather(topk_indices, -1, choice)), dim=1)
    return x


# 30 tokens as the lecture; a 124M model in fast mode, or a random one, stops at 16 (one thread, two models)
length = 16 if hf_shape["n_layer"] >= 12 and (lecture.fast or not REAL) else 30
ours_tokens = sample_top_k(lambda x: model(x)[0][:, -1, :], idx, length)
for row in ours_tokens:
    print(">", enc.decode(row.tolist()))
if hf is not None:
    hf_tokens = sample_top_k(lambda x: hf(x).logits[:, -1, :], idx, length)
    lecture.result("samples_equal_hf", str(torch.equal(ours_tokens, hf_tokens)), lecture="-")
if not REAL:
    print("(random weights: gibberish. OpenAI's GPT-2 continues with fluent, if wandering, English.)")
del sd_hf, package_state

# %% [markdown]
# ## Section 3: data and loss
#
# Tiny shakespeare through GPT-2's tokenizer. A batch of B sequences of T tokens comes from B·T + 1
# consecutive tokens: x is all but the last, y all but the first, so y[b, t] is the token after x[b, t].

# %%
text = read_text("tinyshakespeare")
tokens = enc.encode(text[:1000])
print(tokens[:24])
buf = torch.tensor(tokens[: 24 + 1])
x, y = buf[:-1].view(4, 6), buf[1:].view(4, 6)
print(x)
print(y)

# %% [markdown]
# Before training, every one of the 50,257 tokens should be about equally likely, so the loss should be
# near −ln(1/50257) = 10.82. GPT-2's init (small weights, std 0.02) gives that.

# %%
lecture.result("uniform_loss", math.log(50257), lecture=10.82, fmt=".2f")
config_124m = GPTConfig(vocab_size=50257, block_size=1024, n_layer=12, n_head=12, n_embd=768, bias=True)
config_init = (
    config_124m if not lecture.fast else GPTConfig(**{**config_124m.__dict__, "n_layer": 2, "n_head": 4, "n_embd": 128})
)
torch.manual_seed(1337)
fresh = GPT(config_init)
B, T = 4, 32
buf = torch.tensor(tokens[: B * T + 1])
x, y = buf[:-1].view(B, T), buf[1:].view(B, T)
with torch.no_grad():
    logits, loss = fresh(x, y)
print(logits.shape)
lecture.result("loss_at_init", loss.item(), lecture="~10.82")

# %% [markdown]
# Overfitting one batch: a model that can drive the loss of a single batch to near zero can learn. (The
# lecture does it with the 124M model in 50 AdamW steps at lr 3e-4; a 2-layer model with a higher learning
# rate does the same here.)

# %%
torch.manual_seed(1337)
small_config = GPTConfig(vocab_size=50257, block_size=1024, n_layer=2, n_head=2, n_embd=64, bias=True)
small = GPT(small_config)
optimizer = torch.optim.AdamW(small.parameters(), lr=3e-3)
for i in range(lecture.steps(full=50, fast=20)):
    optimizer.zero_grad()
    logits, loss = small(x, y)
    loss.backward()
    optimizer.step()
    if i % 5 == 0 or i == lecture.steps(full=50, fast=20) - 1:
        print(f"step {i}, loss: {loss.item():.4f}")
lecture.result("overfit_one_batch", loss.item(), lecture="near 0 (124M, 50 steps)")

# %% [markdown]
# `DataLoaderLite` walks through the token stream in order, B·T tokens at a time, and starts over at the
# end. The package's `Batches` (`nanogpt/data.py`) reads the same token file but draws each row's start at
# random (as nanoGPT does): every row it gives is still a window of the stream with y shifted by one.


# %%
class DataLoaderLite:
    def __init__(self, tokens, B, T, process_rank=0, num_processes=1):
        self.tokens, self.B, self.T = torch.as_tensor(tokens), B, T
        self.process_rank, self.num_processes = process_rank, num_processes
        self.position = B * T * process_rank  # each rank starts at its own chunk

    def next_batch(self):
        B, T = self.B, self.T
        buf = self.tokens[self.position : self.position + B * T + 1]
        x, y = buf[:-1].view(B, T), buf[1:].view(B, T)
        self.position += B * T * self.num_processes  # skip the other ranks' chunks
        if self.position + B * T * self.num_processes + 1 > len(self.tokens):
            self.position = B * T * self.process_rank  # next epoch
        return x, y


all_tokens = np.array(enc.encode(text), dtype=np.uint16)
lecture.result("shakespeare_tokens", len(all_tokens), lecture=338025)
lecture.result("epoch_batches", len(all_tokens) // (B * T), lecture=2640)
token_file = lecture.out_dir / "shakespeare_gpt2.bin"
all_tokens.tofile(token_file)
loader = DataLoaderLite(all_tokens.astype(np.int64), B, T)
x0, y0 = loader.next_batch()
assert torch.equal(x0, x) and torch.equal(y0, y)  # the batch above

windows = np.lib.stride_tricks.sliding_window_view(all_tokens, T + 1)  # every (T+1)-window of the stream
xb, yb = Batches(token_file, block_size=T, batch_size=B, seed=1337).next()
for row_x, row_y in zip(xb.numpy(), yb.numpy(), strict=True):
    start = np.flatnonzero((windows == np.append(row_x, row_y[-1])).all(axis=1))[0]
    print(f"Batches row = tokens[{start}:{start + T}], targets tokens[{start + 1}:{start + T + 1}]")

# %% [markdown]
# ## Section 4: weight tying and GPT-2's initialization
#
# GPT-2 reads a token with `wte` (50257 × 768) and writes the next one with `lm_head` (768 → 50257): the
# same matrix, one tensor in memory (Press & Wolf 2017: similar tokens should be close both going in and
# coming out). It saves 38.6M parameters, about 30% of the model. Counted on the `meta` device (shapes
# only, no memory):

# %%
if hf is not None:
    print("HF: lm_head and wte share storage:", hf.lm_head.weight.data_ptr() == hf.transformer.wte.weight.data_ptr())
print("ours: lm_head.weight is wte.weight:", model.lm_head.weight is model.transformer.wte.weight)
with torch.device("meta"):
    tied = GPT(config_124m)
    untied = GPT(GPTConfig(**{**config_124m.__dict__, "tie_weights": False}))
n_tied = sum(p.numel() for p in tied.parameters())
n_untied = sum(p.numel() for p in untied.parameters())
lecture.result("params_124M", n_tied, lecture="124M")
lecture.result("params_untied", n_untied, lecture="124M + 38.6M")
assert n_untied - n_tied == 50257 * 768

# %% [markdown]
# GPT-2's init: every Linear and Embedding weight ~ N(0, 0.02), biases zero. And each block adds to the
# residual stream twice (attention, MLP): n contributions of unit variance add up to a standard deviation
# of √n, so the projections that write into the stream (`c_proj`) start 1/√(2·n_layer) smaller. The
# lecture's experiment, 100 layers:

# %%
torch.manual_seed(1337)
n = 100
x_stream = torch.zeros(768)
for _ in range(n):
    x_stream += torch.randn(768)
lecture.result("stream_std_unscaled", x_stream.std().item(), lecture="~10")
x_stream = torch.zeros(768)
for _ in range(n):
    x_stream += n**-0.5 * torch.randn(768)
lecture.result("stream_std_scaled", x_stream.std().item(), lecture="~1")


# %%
def residual_std_and_loss(model):
    """The std of the residual stream entering ln_f, and the loss on the (4, 32) batch."""
    seen = {}
    hook = model.transformer.ln_f.register_forward_hook(lambda m, inp, out: seen.update(std=inp[0].std().item()))
    with torch.no_grad():
        _, loss = model(x, y)
    hook.remove()
    return seen["std"], loss.item()


std_scaled, loss_scaled = residual_std_and_loss(fresh)
with torch.no_grad():  # the same model with c_proj at std 0.02, unscaled
    for name, p in fresh.named_parameters():
        if name.endswith("c_proj.weight"):
            p.mul_(math.sqrt(2 * fresh.config.n_layer))
std_unscaled, loss_unscaled = residual_std_and_loss(fresh)
print(
    f"{fresh.config.n_layer} layers: residual std {std_scaled:.4f} with the 1/sqrt(2*n_layer) scaling, "
    f"{std_unscaled:.4f} without; loss at init {loss_scaled:.4f} vs {loss_unscaled:.4f}"
)
del fresh, tied, untied

# %% [markdown]
# At init the difference is small (the embeddings dominate the stream); it matters as training makes the
# blocks' outputs larger, and it is what GPT-2's paper prescribes. Our `GPT.__init__` does both steps.
#
# ## Section 5: speed, measured on this machine
#
# The lecture takes a step of GPT-2 (124M, B=16, T=1024) on an A100 from about 1000 ms to about 93 ms in
# six moves. Here each move is measured on this CPU, in this process, on a scaled-down GPT-2 (its layers,
# width and context shrunk, the vocabulary kept): one training step (forward, backward, AdamW), tokens/s.
#
# - **TF32**: an A100's tensor cores multiply fp32 matrices with a 10-bit mantissa, 8× the throughput
#   (`torch.set_float32_matmul_precision("high")`). A CPU has no such mode: n/a.
# - **bfloat16 autocast**: matmuls in bf16 (fp32's range, 7-bit mantissa), no gradient scaler needed.
#   CPUs without bf16 units gain little or lose.
# - **torch.compile**: one fused kernel where eager PyTorch makes a round trip through memory per
#   operation (full mode only: compiling takes a while on a CPU).
# - **flash attention**: `F.scaled_dot_product_attention` instead of softmax(QKᵀ/√d)V written out; it never
#   materializes the (T, T) matrix.
# - **50257 → 50304**: a vocabulary of 2⁷·393, a "nice number" for the GPU's tiles. A CPU does not care.

# %%
speed_config = (
    dict(n_layer=4, n_head=4, n_embd=128, block_size=256)
    if not lecture.fast
    else dict(n_layer=2, n_head=2, n_embd=64, block_size=64)
)
speed_B = 4
speed_steps = lecture.steps(full=3, fast=1)
LECTURE_A100_MS = {"fp32": 1000, "tf32": 333, "bf16": 300, "compile": 130, "flash": 96, "vocab 50304": 93}


def time_steps(vocab_size, sdpa, bf16, compile_model):
    """Median ms of `speed_steps` training steps (after one warm-up step) of the scaled-down GPT-2."""
    torch.manual_seed(0)
    net = GPT(GPTConfig(vocab_size=vocab_size, bias=True, **speed_config))
    net.set_attention(sdpa)
    step_model = torch.compile(net) if compile_model else net
    opt = torch.optim.AdamW(net.parameters(), lr=3e-4, betas=(0.9, 0.95), eps=1e-8, fused=True)
    Tb = speed_config["block_size"]
    data = torch.from_numpy(all_tokens[: speed_B * Tb + 1].astype(np.int64))
    xs, ys = data[:-1].view(speed_B, Tb), data[1:].view(speed_B, Tb)
    times = []
    for i in range(speed_steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            _, loss = step_model(xs, ys)
        loss.backward()
        opt.step()
        if i:  # the first step warms up (and compiles)
            times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


rows = [("fp32", dict(vocab_size=50257, sdpa=False, bf16=False, compile_model=False)), ("tf32", None)]
rows.append(("bf16", dict(vocab_size=50257, sdpa=False, bf16=True, compile_model=False)))
use_compile = not lecture.fast
rows.append(("compile", dict(vocab_size=50257, sdpa=False, bf16=True, compile_model=True) if use_compile else None))
rows.append(("flash", dict(vocab_size=50257, sdpa=True, bf16=True, compile_model=use_compile)))
rows.append(("vocab 50304", dict(vocab_size=50304, sdpa=True, bf16=True, compile_model=use_compile)))
tokens_per_step = speed_B * speed_config["block_size"]
print(f"scaled-down GPT-2 {speed_config}, B={speed_B}: {tokens_per_step} tokens per step, one thread")
print(f"{'step of the lecture':20s} {'ms/step here':>13s} {'tokens/s here':>14s} {'A100 ms (lecture)':>18s}")
speed = {}
for name, settings in rows:
    if settings is None:
        why = "n/a on a CPU" if name == "tf32" else "fast mode: skipped"
        print(f"{name:20s} {why:>28s} {LECTURE_A100_MS[name]:>18d}")
        continue
    t0 = time.time()
    ms = time_steps(**settings)
    speed[name] = ms
    print(f"{name:20s} {ms:13.1f} {tokens_per_step / ms * 1000:14.0f} {LECTURE_A100_MS[name]:>18d}")
lecture.result("speedup_cpu", speed["fp32"] / speed["vocab 50304"], lecture=f"{1000 / 93:.1f} (A100)", fmt=".2f")
fig, ax = plt.subplots(figsize=(8, 3.5))
names = list(LECTURE_A100_MS)
positions = np.arange(len(names))
ax.bar(positions - 0.2, [1000 / LECTURE_A100_MS[k] for k in names], 0.4, label="lecture: A100, GPT-2 124M (approx.)")
ours_speedup = [speed["fp32"] / speed[k] if k in speed else 0 for k in names]
ax.bar(positions + 0.2, ours_speedup, 0.4, label="here: CPU, 1 thread, scaled-down GPT-2 (0 = not run)")
ax.set_xticks(positions, names), ax.set_ylabel("speed vs fp32 (x)"), ax.legend()
ax.set_title("what each step of the lecture buys (cumulative)")
lecture.savefig(fig, "speedups.png", docs=True)
print("The A100 column is the lecture's, from the video's chapter titles (B=16, T=1024, GPT-2 124M).")
print("On a CUDA GPU the same comparison for GPT-2 124M at B=16, T=1024:")
print("  python bench.py configs/gpt2.py --synthetic --batch_size=16 --gradient_accumulation_steps=1 --device=cuda")
print("  (add --masked for the explicit softmax attention: the rows before flash attention)")
print("  python -m nanogpt.gpu_check --only=bench      # the same, with MFU, inside the GPU check")

# %% [markdown]
# ## Section 6: optimization
#
# From GPT-3's paper, which says more about training than GPT-2's: AdamW with β₁ = 0.9, β₂ = 0.95,
# ε = 1e-8; the gradient's global norm clipped to 1.0 (a bad batch cannot shock the model; the norm is
# worth printing: it should fall, and spikes mean trouble); a learning rate warmed up linearly, then
# decayed along a cosine to 10% of its peak; weight decay 0.1 on the matrices only.

# %%
torch.manual_seed(1337)
small = GPT(small_config)
optimizer = torch.optim.AdamW(small.parameters(), lr=6e-4, betas=(0.9, 0.95), eps=1e-8, fused=True)
loader = DataLoaderLite(all_tokens.astype(np.int64), B, T)
for step in range(lecture.steps(full=10, fast=4)):
    x_step, y_step = loader.next_batch()
    optimizer.zero_grad()
    _, loss = small(x_step, y_step)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(small.parameters(), 1.0)  # returns the norm before clipping
    optimizer.step()
    print(f"step {step:4d} | loss: {loss.item():.6f} | norm: {norm:.4f}")

# %% [markdown]
# The schedule of the real run: peak 6e-4, warmup 715 steps (375M tokens, as GPT-3), cosine down to 6e-5 at
# step 19,073 (10B tokens of 524,288). The lecture's `get_lr` and the package's `optim.lr_at` agree at every
# step.

# %%
max_lr, min_lr, warmup_steps, max_steps = 6e-4, 6e-5, 715, 19073


def get_lr(it):
    if it < warmup_steps:  # 1) linear warmup
        return max_lr * (it + 1) / warmup_steps
    if it > max_steps:  # 2) after the decay, the minimum
        return min_lr
    decay_ratio = (it - warmup_steps) / (max_steps - warmup_steps)  # 3) cosine in between
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # 1 -> 0
    return min_lr + coeff * (max_lr - min_lr)


recipe = TrainConfig(learning_rate=max_lr, min_lr=min_lr, warmup_iters=warmup_steps, lr_decay_iters=max_steps)
steps = np.arange(max_steps + 100)
lrs = np.array([get_lr(int(i)) for i in steps])
package_lrs = np.array([lr_at(int(i), recipe) for i in steps])
lecture.result("lr_schedule_max_diff", float(np.abs(lrs - package_lrs).max()), lecture="-", fmt=".1e")
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(steps, lrs)
ax.axvline(warmup_steps, color="gray", linestyle=":", label="end of warmup (715)")
ax.set_xlabel("step"), ax.set_ylabel("learning rate"), ax.legend()
ax.set_title("warmup + cosine decay of the GPT-2 run (6e-4 -> 6e-5 over 19,073 steps)")
lecture.savefig(fig, "lr_schedule.png")

# %% [markdown]
# Weight decay pulls weights toward zero, a regularizer that makes the network use many weights a little
# rather than a few a lot. The lecture decays every tensor of 2 or more dimensions (matmul weights and
# embeddings) and leaves the 1-dimensional ones (biases, LayerNorm gains) alone. Its printout, for the
# 124M model with the 50,304 vocabulary of that point in the lecture:

# %%
with torch.device("meta"):
    gpt2_50304 = GPT(GPTConfig(**{**config_124m.__dict__, "vocab_size": 50304}))
params = [p for p in gpt2_50304.parameters() if p.requires_grad]
decay_params = [p for p in params if p.dim() >= 2]
nodecay_params = [p for p in params if p.dim() < 2]
n_decay, n_nodecay = sum(p.numel() for p in decay_params), sum(p.numel() for p in nodecay_params)
print(f"num decayed parameter tensors: {len(decay_params)}, with {n_decay:,} parameters")
print(f"num non-decayed parameter tensors: {len(nodecay_params)}, with {n_nodecay:,} parameters")
lecture.result("decayed_tensors", len(decay_params), lecture=50)
lecture.result("decayed_params", n_decay, lecture=124354560)
lecture.result("nodecay_tensors", len(nodecay_params), lecture=98)
lecture.result("nodecay_params", n_nodecay, lecture=121344)

# the package (nanogpt/optim.py) also leaves the position embeddings undecayed: one tensor moves over
cfg = TrainConfig(weight_decay=0.1, learning_rate=6e-4, beta1=0.9, beta2=0.95)
groups = configure_optimizer(small, cfg, torch.device("cpu")).param_groups
names = {id(p): name for name, p in small.named_parameters()}
moved = [names[id(p)] for p in groups[1]["params"] if p.dim() >= 2]
print(f"package: {len(groups[0]['params'])} decayed, {len(groups[1]['params'])} not; 2-D but not decayed: {moved}")
print("fused AdamW (one kernel for the whole update):", groups[0].get("fused"))
del gpt2_50304

# %% [markdown]
# **Gradient accumulation.** GPT-3 small trained with 0.5M tokens per step; B=16 × T=1024 fits a GPU, so
# the step runs several micro-batches and adds up their gradients before updating. The catch: `backward()`
# adds gradients, i.e. it optimizes the SUM of the micro-batch losses, while the big batch's loss is their
# MEAN. The lecture's small example, 4 examples at once vs 4 micro-batches of 1:

# %%
torch.manual_seed(42)
net = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 1))
x_mlp, y_mlp = torch.randn(4, 16), torch.randn(4, 1)
net.zero_grad()
F.mse_loss(net(x_mlp), y_mlp).backward()  # mean over the 4 examples
big_batch = net[0].weight.grad.clone()
print("one batch of 4:        ", big_batch.view(-1)[:5])
net.zero_grad()
for i in range(4):
    F.mse_loss(net(x_mlp[i]), y_mlp[i]).backward()  # summed: 4x too large
summed = net[0].weight.grad.clone()
print("4 micro-batches, summed:", summed.view(-1)[:5])
net.zero_grad()
for i in range(4):
    (F.mse_loss(net(x_mlp[i]), y_mlp[i]) / 4).backward()  # the normalizer put back
accumulated = net[0].weight.grad.clone()
print("4 micro-batches, / 4:   ", accumulated.view(-1)[:5])
lecture.result(
    "accum_without_division_ratio", (summed / big_batch).median().item(), lecture="4 (x too large)", fmt=".4f"
)
lecture.result("accum_max_diff", (accumulated - big_batch).abs().max().item(), lecture="-", fmt=".1e")

total_batch_size = 524288  # 2**19, ~0.5M tokens, GPT-3 small's
for micro_B, micro_T, gpus in [(16, 1024, 1), (64, 1024, 1), (64, 1024, 8)]:
    steps_accum = total_batch_size // (micro_B * micro_T * gpus)
    print(f"B={micro_B}, T={micro_T}, {gpus} GPU(s): {steps_accum} micro-steps per step")
lecture.result("grad_accum_steps", total_batch_size // (16 * 1024), lecture=32)

# %% [markdown]
# ## Section 7: DDP — one process per GPU
#
# `torchrun --nproc_per_node=8` starts 8 copies of the script; each gets RANK, LOCAL_RANK and WORLD_SIZE,
# holds the whole model, and runs its own micro-batches. `DistributedDataParallel` averages the gradients
# across the processes during `backward()` (an all-reduce, overlapped with the rest of the backward pass):
# after it, every rank holds the same gradient and takes the same step. So 2 processes with one micro-batch
# each equal 1 process with 2 accumulated micro-batches (each loss / 2). Shown here with 2 processes on this
# CPU, talking through gloo (NCCL on GPUs).

# %%
DDP_B, DDP_T = 2, 16
ddp_tokens = torch.from_numpy(all_tokens[: 2 * DDP_B * DDP_T + 1].astype(np.int64))


def ddp_model():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=50257, block_size=DDP_T, n_layer=2, n_head=2, n_embd=32, bias=True))


def ddp_rank(rank, world_size, init_file, results):
    """One process: its own DataLoaderLite stride, one micro-batch, DDP's averaged gradient, one AdamW step."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    model = ddp_model()
    ddp = DDP(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    xr, yr = DataLoaderLite(ddp_tokens, DDP_B, DDP_T, rank, world_size).next_batch()
    _, loss = ddp(xr, yr)
    loss.backward()  # the all-reduce happens here
    opt.step()
    if rank == 0:
        results.put({k: v.numpy().copy() for k, v in model.state_dict().items()})  # plain arrays through the pipe
    dist.barrier()
    dist.destroy_process_group()


def run_two_ranks():
    """Ranks 0 and 1 in two forked processes (they reuse this process's imports); rank 0's weights after a step."""
    context = multiprocessing.get_context("fork")
    init_file = Path(tempfile.mkdtemp()) / "ddp_init"
    results = context.Queue()
    workers = [context.Process(target=ddp_rank, args=(r, 2, init_file, results)) for r in range(2)]
    for w in workers:
        w.start()
    state = results.get(timeout=120)
    for w in workers:
        w.join()
    assert all(w.exitcode == 0 for w in workers)
    return state


if "fork" in multiprocessing.get_all_start_methods():
    t0 = time.time()
    ddp_state = run_two_ranks()
    print(f"2 processes (gloo) in {time.time() - t0:.1f} s")
    single = ddp_model()
    opt = torch.optim.AdamW(single.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    loader = DataLoaderLite(ddp_tokens, DDP_B, DDP_T)
    for _ in range(2):  # 2 micro-batches: what ranks 0 and 1 read
        xs, ys = loader.next_batch()
        (single(xs, ys)[1] / 2).backward()
    opt.step()
    ddp_diff = max(np.abs(ddp_state[k] - v.numpy()).max() for k, v in single.state_dict().items())
    lecture.result("ddp_vs_accumulation_max_diff", ddp_diff, lecture="-", fmt=".1e")
    assert ddp_diff < 1e-6
else:
    print("this system cannot fork processes: the 2-process demo is skipped (the torchrun one below still runs)")

# %% [markdown]
# Each rank must read different data. `DataLoaderLite` gives rank r the chunks r, r + world, r + 2·world,
# ...: a stride through the stream. The package's `Batches` draws the world's micro-batch of random
# windows from one seeded stream and gives rank r its slice, so the rows of all ranks together are the
# rows one process would draw: the data does not depend on the number of GPUs.

# %%
for rank in range(2):
    rank_loader = DataLoaderLite(all_tokens.astype(np.int64), B, T, rank, 2)
    starts = []
    for _ in range(3):
        starts.append(rank_loader.position)
        rank_loader.next_batch()
    print(f"DataLoaderLite rank {rank} of 2 reads its batches at tokens {starts}")
whole = Batches(token_file, block_size=T, batch_size=2 * B, seed=1)
ranks = [Batches(token_file, block_size=T, batch_size=B, seed=1, rank=r, world_size=2) for r in range(2)]
for _ in range(3):
    assert torch.equal(torch.cat([r.next()[0] for r in ranks]), whole.next()[0])
print("Batches: rank 0's rows + rank 1's rows == one process's rows, for 3 micro-batches")

# %% [markdown]
# In full mode, the package's own DDP path: `torchrun` with 2 processes runs `train.py` for a few steps,
# beside one process with twice the gradient accumulation. The printed losses agree step for step.

# %%
ddp_corpus = lecture.out_dir / "ddp_corpus.txt"
ddp_corpus.write_text(text[:100_000])
TINY_RUN = ["--device=cpu", "--n_layer=2", "--n_head=2", "--n_embd=32", "--block_size=32", "--batch_size=4"]
TINY_RUN += ["--max_iters=3", "--lr_decay_iters=3", "--warmup_iters=1", "--eval_interval=3", "--eval_iters=2"]
TINY_RUN += ["--log_interval=1", f"--dataset={ddp_corpus}", "--encoding=gpt2", "--overwrite=true", "--threads=1"]
TINY_RUN += [f"--data_dir={lecture.out_dir / 'data'}"]


def run_train(args, nproc=1):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    command = [*(launcher if nproc > 1 else [sys.executable]), str(PACKAGE / "train.py"), *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PACKAGE)}
    proc = subprocess.run(command, cwd=PACKAGE, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
    return proc.stdout


if not lecture.fast:
    one = run_train([*TINY_RUN, "--gradient_accumulation_steps=2", f"--out_dir={lecture.out_dir / 'ddp1'}"])
    two = run_train([*TINY_RUN, "--gradient_accumulation_steps=2", f"--out_dir={lecture.out_dir / 'ddp2'}"], 2)
    losses = [re.findall(r"^step \d+/\d+ \| loss (\d+\.\d+)", out, re.MULTILINE) for out in (one, two)]
    print("1 process, 2 micro-steps:", losses[0])
    print("torchrun, 2 processes:   ", losses[1])
    lecture.result("torchrun_losses_equal", str(losses[0] == losses[1] and len(losses[0]) == 3), lecture="-")
else:
    print("fast mode: the torchrun comparison runs in full mode (and in tests/test_ddp.py)")

# %% [markdown]
# ## Section 8: FineWeb-Edu, shards and evaluation
#
# The real run reads FineWeb-Edu's sample-10BT: 10B GPT-2 tokens of educational web pages, written by
# `fineweb.py` as 100 shards of 100M tokens (uint16, 2 bytes a token), the first shard kept for
# validation. Each document starts with `<|endoftext|>` (50256). Our `python -m nanogpt.shards` writes the
# same format; here it shards a small local corpus (tiny shakespeare cut at paragraph breaks into documents
# of about 10,000 characters) into a 30,000-token val shard and train shards of 100,000 tokens.

# %%
corpus_dir = lecture.out_dir / "corpus"
shutil.rmtree(corpus_dir, ignore_errors=True)
corpus_dir.mkdir(parents=True)
paragraphs, piece, n_docs = text.split("\n\n"), [], 0
for paragraph in paragraphs:
    piece.append(paragraph)
    if sum(map(len, piece)) > 10_000 or paragraph is paragraphs[-1]:
        (corpus_dir / f"doc_{n_docs:04d}.txt").write_text("\n\n".join(piece) + "\n")
        piece, n_docs = [], n_docs + 1
shard_dir = lecture.out_dir / "shards"
shutil.rmtree(shard_dir, ignore_errors=True)  # written afresh each run (the corpus files above are new)
shard_command = [sys.executable, "-m", "nanogpt.shards", str(corpus_dir), f"--out_dir={shard_dir}"]
shard_command += ["--shard_tokens=100000", "--val_tokens=30000", "--workers=1"]
print("$ python -m nanogpt.shards", " ".join(shard_command[3:]))
proc = subprocess.run(
    shard_command, cwd=PACKAGE, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PACKAGE)}
)
print(proc.stdout[-600:], proc.stderr[-600:])
assert proc.returncode == 0
meta = json.loads((shard_dir / "meta.json").read_text())
print({k: v for k, v in meta.items() if k != "inputs"})
val_shard = np.fromfile(shard_dir / meta["val"][0], dtype=np.uint16)
print(
    f"{meta['val'][0]}: {len(val_shard):,} tokens, {(shard_dir / meta['val'][0]).stat().st_size:,} bytes; starts",
    val_shard[:8].tolist(),
    repr(enc.decode(val_shard[1:8].tolist())),
)
lecture.result(
    "documents_in_shards",
    int((val_shard == 50256).sum())
    + sum(int((np.fromfile(shard_dir / f, dtype=np.uint16) == 50256).sum()) for f in meta["train"]),
    lecture="-",
)

# %% [markdown]
# **HellaSwag**: a sentence and four endings, one right (the others written by a model, then filtered to
# fool models but not people). A small model cannot answer a multiple-choice question, so the lecture scores
# it completion style: each ending after the context is one row of a (4, T) batch, and the ending whose
# tokens get the lowest average loss wins. A mask marks the ending's tokens; rows are zero-padded.

# %%
examples = hellaswag.load_examples("hellaswag")
lecture.result("hellaswag_val_examples", len(examples), lecture=10042)
example = examples[0]
print(example.context, "| label:", example.label)
for i, ending in enumerate(example.endings):
    print(f"  {i}: {ending}")
tokens4, mask4 = hellaswag.render(example, enc.encode, block_size=1024)
print("tokens", tuple(tokens4.shape), "mask", tuple(mask4.shape))
for row, m in zip(tokens4, mask4, strict=True):
    print("  ", row.tolist()[-14:], "| mask", m.tolist()[-14:])


# %%
@torch.no_grad()
def score_completions(model, tokens, mask):
    """The lecture's scorer: per-row sum and mean loss over the masked (ending) tokens; the argmin wins."""
    logits, _ = model(tokens, tokens)
    shift_logits, shift_tokens = logits[:, :-1, :], tokens[:, 1:]  # position t predicts token t + 1
    losses = F.cross_entropy(shift_logits.flatten(0, 1), shift_tokens.flatten(), reduction="none")
    losses = losses.view(tokens.size(0), -1)
    shift_mask = mask[:, 1:]  # shifted too: the last context token predicts the first ending token
    sum_loss = (losses * shift_mask).sum(dim=1)
    return sum_loss, sum_loss / shift_mask.sum(dim=1)


hs_model = small.eval()  # the 2-layer model of section 6, barely trained
for ex in examples[:5]:
    tokens_ex, mask_ex = hellaswag.render(ex, enc.encode, block_size=1024)
    ours_sum, ours_mean = score_completions(hs_model, tokens_ex, mask_ex)
    pkg_sum, pkg_mean = hellaswag.ending_losses(hs_model, tokens_ex, mask_ex)
    assert torch.allclose(ours_sum, pkg_sum, atol=1e-4) and torch.allclose(ours_mean, pkg_mean, atol=1e-5)
print("our scorer == nanogpt.hellaswag.ending_losses on 5 examples")
n_eval = lecture.steps(full=200, fast=20)
accuracy = hellaswag.evaluate(hs_model, enc.encode, examples[:n_eval])
lecture.result("hellaswag_tiny_model", accuracy["acc_norm"], lecture="0.25 (chance)")
print(f"on the first {n_eval} examples; a model knowing nothing scores 0.25 on average")
lecture.result("hellaswag_gpt2_124M", "-", lecture=0.2945)  # the lecture's plot line (play.ipynb: 0.294463)
lecture.result("hellaswag_gpt3_124M", "-", lecture=0.337)
print("0.2945 is GPT-2 124M's line in the lecture's final figure (nanogpt.plot draws it, and GPT-3 small's 0.337,")
print("from GPT-3's paper); build-nanogpt's hellaswag.py reports 0.2955 for the same checkpoint on all 10,042.")

# %% [markdown]
# ## Section 9: the run and its plot
#
# The recipe (`configs/gpt2_fineweb.py`): GPT-2 124M, 524,288 tokens a step, 19,073 steps, warmup 715,
# lr 6e-4 → 6e-5, val loss and HellaSwag every 250 steps into `log.jsonl`. Here the same config runs through
# `train.py` scaled down for a CPU — a 2-layer model, 2 micro-batches of 8 × 64 tokens a step, on the shards
# above — and `python -m nanogpt.plot` draws the lecture's final figure from its log: loss against GPT-2's
# 3.2924 on FineWeb-Edu's val shard, HellaSwag against GPT-2's 0.2945 and GPT-3's 0.337. (Our corpus is not
# FineWeb-Edu, so the loss line is only for orientation; the lecture's run crosses it after about 10B tokens.)

# %%
run_dir = lecture.out_dir / "run"
run_iters = lecture.steps(full=240, fast=6)
run_B = lecture.steps(full=8, fast=4)  # sequences of 64 tokens per micro-batch; 2 micro-batches per step
run_args = [str(PACKAGE / "configs" / "gpt2_fineweb.py"), f"--dataset={shard_dir}", f"--out_dir={run_dir}"]
run_args += ["--overwrite=true", "--device=cpu", "--compile=false", "--threads=1", "--n_layer=2", "--n_head=2"]
run_args += ["--n_embd=64", "--block_size=64", f"--batch_size={run_B}", f"--total_batch_size={2 * run_B * 64}"]
run_args += ["--learning_rate=3e-3"]
run_args += ["--min_lr=3e-4", f"--max_iters={run_iters}", f"--lr_decay_iters={run_iters}"]
run_args += [f"--warmup_iters={max(run_iters // 20, 1)}", f"--eval_interval={max(run_iters // 4, 4)}"]
run_args += [f"--eval_iters={lecture.steps(full=10, fast=2)}"]
run_args += [f"--hellaswag_interval={max(run_iters // 4, 4)}", f"--hellaswag_limit={lecture.steps(full=100, fast=8)}"]
run_args += ["--sample_interval=0", "--checkpoint_interval=0", f"--log_interval={max(run_iters // 10, 1)}"]
print("$ python train.py", " ".join(run_args))
t0 = time.time()
out = run_train(run_args)
print("\n".join(line for line in out.splitlines() if line.startswith(("step ", "eval ", "hellaswag ", "final"))))
print(f"({time.time() - t0:.0f} s)")
metrics = json.loads((run_dir / "metrics.json").read_text())
print("scaled down: a 2-layer model on shakespeare shards; the lecture's line is GPT-2 124M on FineWeb-Edu's val.")
print("Its HellaSwag wanders around chance: on 100 examples one standard error is 0.04, so a point above")
print("GPT-2's line is noise here; the lecture's model crosses that line for real after about 10B tokens.")
lecture.result("run_val_loss_scaled_down", metrics["val_loss"], lecture="3.2924")

plot_path = lecture.out_dir / "run.png"
proc = subprocess.run(
    [sys.executable, "-m", "nanogpt.plot", f"--out_dir={run_dir}", f"--output={plot_path}"],
    cwd=PACKAGE,
    capture_output=True,
    text=True,
    env={**os.environ, "PYTHONPATH": str(PACKAGE)},
)
print(proc.stdout, proc.stderr[-400:])
assert proc.returncode == 0
lecture.show_png("run.png", docs=True)  # drawn by nanogpt.plot: inline in a notebook, docs/09_run.png with --save-docs

# %% [markdown]
# The real thing: shard FineWeb-Edu once (online, ~1 hour on a many-core machine), then train on 8 GPUs
# (about an hour and ~$10 on 8 A100s, as the lecture says; 8 times longer on one GPU), then plot:

# %%
print("python -m nanogpt.shards --hf=HuggingFaceFW/fineweb-edu --hf_name=sample-10BT --out_dir=out/data/edu_fineweb10B")
print("torchrun --standalone --nproc_per_node=8 train.py configs/gpt2_fineweb.py")
print("python -m nanogpt.plot --out_dir=out/gpt2-fineweb")
print(f"walkthrough: {time.time() - started:.0f} s")
