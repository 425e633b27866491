"""GPT: a decoder-only transformer, in reading order — attention, MLP, block, model.

model = GPT(GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128))
logits, loss = model(idx, targets)        # idx, targets: (B, T) token ids
out = model.generate(idx, max_new_tokens=100, temperature=0.8, top_k=200)   # with a KV cache (same tokens
model = GPT.from_pretrained("path/to/gpt2")                                  # as use_cache=False, faster)
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64  # the longest context the model sees (position embeddings)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False  # biases in Linear and LayerNorm; GPT-2 had them, without is a bit better and faster
    gelu_approximate: str = "none"  # "tanh" is GPT-2's own GELU (needed to reproduce its pretrained weights exactly)


def masked_softmax_attention(q, k, v, dropout_p=0.0, training=False):
    """The lecture's explicit form of causal attention: softmax(q k^T / sqrt(d) + causal mask) v.

    q, k, v: (B, nh, T, hs). Equal to F.scaled_dot_product_attention(..., is_causal=True), slower.
    """
    T = q.size(-2)
    att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))  # (B, nh, T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(diagonal=1)
    att = att.masked_fill(future, float("-inf"))  # token t may only look at tokens <= t
    att = F.softmax(att, dim=-1)
    att = F.dropout(att, dropout_p, training)
    return att @ v  # (B, nh, T, hs)


class KVCache:
    """One layer's keys and values of the tokens seen so far, for generation: with them, each new token
    runs through the model alone instead of re-running its whole context. Filled by a first forward of
    the whole prompt, then one token per forward; holds at most block_size positions."""

    def __init__(self, capacity: int):
        self.capacity, self.length = capacity, 0
        self.k = self.v = None  # (B, nh, capacity, hs), allocated at the first append in k's dtype (autocast's)

    def append(self, k, v):
        """Store k, v (B, nh, T, hs) after the cached positions; return all keys and values so far."""
        if self.k is None:
            B, nh, _, hs = k.shape
            self.k = k.new_empty(B, nh, self.capacity, hs)
            self.v = v.new_empty(B, nh, self.capacity, hs)
        start, self.length = self.length, self.length + k.size(2)
        self.k[:, :, start : self.length] = k
        self.v[:, :, start : self.length] = v
        return self.k[:, :, : self.length], self.v[:, :, : self.length]  # (B, nh, length, hs)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0, "n_embd must be a multiple of n_head"
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v in one matmul
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.use_sdpa = True  # False selects masked_softmax_attention (tests compare the two)

    def forward(self, x, kv_cache: KVCache | None = None):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        # split channels into heads: (B, T, C) -> (B, nh, T, hs)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if kv_cache is not None:  # keys and values of the earlier tokens come from the cache
            k, v = kv_cache.append(k, v)  # (B, nh, cached + T, hs)
        dropout_p = self.dropout if self.training else 0.0
        if self.use_sdpa:  # one fused kernel (flash attention where available), never materializes (T, T)
            # T > 1: the prompt (or training), mask the future; T == 1: a new token may see every key
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=T > 1)
        else:
            y = masked_softmax_attention(q, k, v, dropout_p, self.training)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate=config.gelu_approximate)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: tokens talk (attention), then think (MLP), each on a residual path."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, kv_cache: KVCache | None = None):
        x = x + self.attn(self.ln_1(x), kv_cache)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: reading a token and writing it use one matrix (fewer parameters, trains better)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # GPT-2: each residual projection adds to the stream, so n_layer*2 of them would grow its variance;
        # scale their init by 1/sqrt(2 * n_layer) to keep the residual stream at unit scale.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @classmethod
    def from_pretrained(cls, path, dropout: float = 0.0) -> "GPT":
        """GPT-2 weights from a local Hugging Face folder (config.json + model.safetensors or pytorch_model.bin)."""
        from nanogpt.pretrained import load_pretrained  # the HF name mapping lives there

        return load_pretrained(path, dropout)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameter count; the position embeddings are left out by default (the token ones are tied to lm_head)."""
        n = sum(p.numel() for p in self.parameters())  # parameters() yields the tied matrix once
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def set_attention(self, sdpa: bool) -> None:
        """Choose scaled_dot_product_attention (True) or the explicit masked softmax (False) in every block."""
        for block in self.transformer.h:
            block.attn.use_sdpa = sdpa

    def forward(self, idx, targets=None, kv_caches: list[KVCache] | None = None):
        """idx (B, T) -> (logits, loss). With kv_caches (see new_kv_caches), idx continues the cached tokens."""
        B, T = idx.size()
        start = kv_caches[0].length if kv_caches else 0  # position of idx's first token
        if start + T > self.config.block_size:
            raise ValueError(f"sequence of length {start + T} is longer than block_size {self.config.block_size}")
        if start and T > 1:
            raise ValueError("a cached forward takes the whole prompt first, then one token at a time")
        pos = torch.arange(start, start + T, dtype=torch.long, device=idx.device)  # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (B, T, C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, kv_caches[i] if kv_caches else None)
        x = self.transformer.ln_f(x)
        if targets is None:  # generation needs only the last position's logits
            return self.lm_head(x[:, [-1], :]), None  # (B, 1, vocab)
        logits = self.lm_head(x)  # (B, T, vocab)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def crop_block_size(self, block_size: int) -> None:
        """Shrink the context (e.g. a model trained at 1024 used at 256): keep the first position embeddings."""
        if not 0 < block_size <= self.config.block_size:
            raise ValueError(f"block_size must be in 1..{self.config.block_size}, got {block_size}")
        self.config.block_size = block_size
        self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size].detach().clone())

    def new_kv_caches(self) -> list[KVCache]:
        return [KVCache(self.config.block_size) for _ in self.transformer.h]

    @torch.no_grad()
    def generate(
        self,
        idx,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator=None,
        use_cache: bool = True,
        vocab_limit: int | None = None,
    ):
        """Append max_new_tokens sampled tokens to idx (B, T); temperature 0 means greedy (argmax).

        vocab_limit: the tokenizer's vocabulary size when the embedding is padded beyond it (GPT-2's 50257
        in 50304 rows): ids from vocab_limit on are never sampled, as no tokenizer could decode them.

        The KV cache gives the same tokens as recomputing the context, faster, until the text outgrows
        block_size: from then on the window slides, every token's position changes, nothing cached is
        valid any more, and each step recomputes the last block_size tokens, as without the cache."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        caches = None
        for _ in range(max_new_tokens):
            if use_cache and idx.size(1) <= self.config.block_size:
                if caches is None:  # the prompt fills the cache in one forward
                    caches = self.new_kv_caches()
                    logits, _ = self(idx, kv_caches=caches)
                else:  # only the newest token goes through the model
                    logits, _ = self(idx[:, -1:], kv_caches=caches)
            else:
                context = idx[:, -self.config.block_size :]  # the model sees at most block_size tokens
                logits, _ = self(context)
            logits = logits[:, -1, :]  # (B, vocab)
            if vocab_limit is not None and vocab_limit < logits.size(-1):
                logits[:, vocab_limit:] = float("-inf")  # padding rows: never targets, but not untrained to 0
            if temperature == 0:
                next_id = logits.argmax(dim=-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                    logits = logits.masked_fill(logits < kth, float("-inf"))  # only the k likeliest survive
                probs = F.softmax(logits, dim=-1)
                next_id = torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
            idx = torch.cat((idx, next_id), dim=1)
        return idx
