"""GPT: a decoder-only transformer, in reading order — attention, MLP, block, model.

model = GPT(GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128))
logits, loss = model(idx, targets)        # idx, targets: (B, T) token ids
out = model.generate(idx, max_new_tokens=100, temperature=0.8, top_k=200)   # with a KV cache (same tokens
model = GPT.from_pretrained("path/to/gpt2")                                  # as use_cache=False, faster)

The defaults are GPT-2 as the lecture builds it. Each later idea is one switch (README: "Beyond GPT-2"):
pos_emb="rope", norm="rmsnorm", qk_norm, mlp_act="relu2", tie_weights=False, zero_init, logit_softcap.
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
    # after GPT-2 (README "Beyond GPT-2"); the defaults are GPT-2's
    pos_emb: str = "learned"  # "rope": rotary position embeddings in attention instead of a learned wpe table
    norm: str = "layernorm"  # "rmsnorm": RMSNorm without parameters
    qk_norm: bool = False  # RMSNorm of each head's queries and keys before attention
    mlp_act: str = "gelu"  # "relu2": ReLU squared in the MLP
    tie_weights: bool = True  # False: the token embedding and the output head are two matrices
    zero_init: bool = False  # zero-initialize the residual output projections (and an untied head)
    logit_softcap: float = 0.0  # > 0: logits = cap * tanh(logits / cap)


def rms_norm(x):
    """RMSNorm without parameters (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) over the last dim. Like
    LayerNorm without the centering and, as in modded-nanogpt, without a gain: nothing to learn, less to compute."""
    return F.rms_norm(x, (x.size(-1),), eps=1e-6)


class RMSNorm(nn.Module):
    def forward(self, x):
        return rms_norm(x)


def make_norm(config) -> nn.Module:
    if config.norm == "rmsnorm":
        return RMSNorm()
    return nn.LayerNorm(config.n_embd, bias=config.bias)


def rope_tables(block_size: int, head_size: int, base: float = 10000.0):
    """cos, sin (block_size, head_size / 2) of the angles position * base^(-2i / head_size) (RoFormer, Su et al.
    2021): channel pair i of a query or key at position m is rotated by angle m * theta_i."""
    theta = base ** (-torch.arange(0, head_size, 2, dtype=torch.float32) / head_size)  # (hs/2,)
    angles = torch.outer(torch.arange(block_size, dtype=torch.float32), theta)  # (block_size, hs/2)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """Rotate the channel pairs (x_i, x_{i + hs/2}) of x (B, nh, T, hs) by their position's angles, cos/sin
    (T, hs/2). A rotation keeps lengths, and rotating q by m and k by n leaves q . k depending on m - n only:
    attention sees relative positions, with nothing to learn."""
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


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
        self.qk_norm = config.qk_norm
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v in one matmul
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.use_sdpa = True  # False selects masked_softmax_attention (tests compare the two)

    def forward(self, x, kv_cache: KVCache | None = None, rope=None):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        # split channels into heads: (B, T, C) -> (B, nh, T, hs)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if self.qk_norm:  # QK-norm (Henry et al. 2020, Dehghani et al. 2023): the logits q . k stay bounded
            q, k = rms_norm(q), rms_norm(k)
        if rope is not None:  # rotary positions: cos, sin of this chunk's positions (after the cached ones)
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        if kv_cache is not None:  # keys and values of the earlier tokens come from the cache
            k, v = kv_cache.append(k, v)  # (B, nh, cached + T, hs); cached keys keep their rotations
        dropout_p = self.dropout if self.training else 0.0
        if self.use_sdpa:  # one fused kernel (flash attention where available), never materializes (T, T)
            # T > 1: the prompt (or training), mask the future; T == 1: a new token may see every key
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=T > 1)
        else:
            y = masked_softmax_attention(q, k, v, dropout_p, self.training)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y))


class ReLUSquared(nn.Module):
    """relu(x)^2 (So et al. 2021, "Primer"): as good as GELU or better in a transformer's MLP, and cheaper."""

    def forward(self, x):
        return F.relu(x).square()


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        if config.mlp_act == "relu2":
            self.act = ReLUSquared()
        else:
            self.act = nn.GELU(approximate=config.gelu_approximate)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm transformer block: tokens talk (attention), then think (MLP), each on a residual path."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = make_norm(config)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = make_norm(config)
        self.mlp = MLP(config)

    def forward(self, x, kv_cache: KVCache | None = None, rope=None):
        x = x + self.attn(self.ln_1(x), kv_cache, rope)
        return x + self.mlp(self.ln_2(x))


CHOICES = {"pos_emb": ("learned", "rope"), "norm": ("layernorm", "rmsnorm"), "mlp_act": ("gelu", "relu2")}


def check_config(config: GPTConfig) -> None:
    for key, allowed in CHOICES.items():
        if getattr(config, key) not in allowed:
            raise ValueError(f"{key} must be one of {', '.join(allowed)}, got {getattr(config, key)!r}")
    if config.pos_emb == "rope" and (config.n_embd // config.n_head) % 2:
        raise ValueError(
            f"rotary embeddings rotate channel pairs: the head size must be even, got {config.n_embd // config.n_head}"
        )


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        check_config(config)
        self.config = config
        layers = dict(wte=nn.Embedding(config.vocab_size, config.n_embd))
        if config.pos_emb == "learned":
            layers["wpe"] = nn.Embedding(config.block_size, config.n_embd)
        else:  # rotary: fixed angles, not parameters (not saved: rebuilt from the config)
            cos, sin = rope_tables(config.block_size, config.n_embd // config.n_head)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        layers["drop"] = nn.Dropout(config.dropout)
        layers["h"] = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        layers["ln_f"] = make_norm(config)
        self.transformer = nn.ModuleDict(layers)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:  # reading a token and writing it use one matrix (fewer parameters, trains better)
            self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # GPT-2: each residual projection adds to the stream, so n_layer*2 of them would grow its variance;
        # scale their init by 1/sqrt(2 * n_layer) to keep the residual stream at unit scale.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
                if config.zero_init:  # modded-nanogpt (Keller Jordan 2024): each block starts as the identity
                    nn.init.zeros_(p)
        if config.zero_init and not config.tie_weights:  # and the first prediction is uniform
            nn.init.zeros_(self.lm_head.weight)

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
        """Parameter count; the embedding tables are left out by default, but not a token embedding tied to
        lm_head (it is the head's matrix too)."""
        n = sum(p.numel() for p in self.parameters())  # parameters() yields the tied matrix once
        if non_embedding:
            n -= self.transformer.wpe.weight.numel() if "wpe" in self.transformer else 0
            n -= 0 if self.config.tie_weights else self.transformer.wte.weight.numel()
        return n

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
        x = self.transformer.wte(idx)  # (B, T, C)
        rope = None
        if self.config.pos_emb == "learned":
            x = x + self.transformer.wpe(torch.arange(start, start + T, dtype=torch.long, device=idx.device))
        else:
            rope = (self.rope_cos[start : start + T], self.rope_sin[start : start + T])  # 2 x (T, hs/2)
        x = self.transformer.drop(x)
        for i, block in enumerate(self.transformer.h):
            x = block(x, kv_caches[i] if kv_caches else None, rope)
        x = self.transformer.ln_f(x)
        if targets is None:  # generation needs only the last position's logits
            return self.softcap(self.lm_head(x[:, [-1], :])), None  # (B, 1, vocab)
        logits = self.softcap(self.lm_head(x))  # (B, T, vocab)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def softcap(self, logits):
        """Logit soft-capping (Gemma 2, modded-nanogpt): cap * tanh(logits / cap) keeps every logit within
        (-cap, cap), smoothly, so no token's logit can run away early in training."""
        cap = self.config.logit_softcap
        return cap * torch.tanh(logits / cap) if cap > 0 else logits

    def crop_block_size(self, block_size: int) -> None:
        """Shrink the context (e.g. a model trained at 1024 used at 256): keep the first position embeddings."""
        if not 0 < block_size <= self.config.block_size:
            raise ValueError(f"block_size must be in 1..{self.config.block_size}, got {block_size}")
        self.config.block_size = block_size
        if "wpe" in self.transformer:
            self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size].detach().clone())
        else:
            self.rope_cos, self.rope_sin = self.rope_cos[:block_size], self.rope_sin[:block_size]

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
