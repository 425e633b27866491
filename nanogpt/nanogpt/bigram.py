"""The lecture's starting point: a bigram language model. Each token reads the logits of the next
token straight from a (vocab, vocab) table — no context beyond one token. The baseline GPT must beat.

    model = BigramLanguageModel(vocab_size=65)
    logits, loss = model(idx, targets)   # same interface as GPT, so train.py can train either
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class BigramLanguageModel(nn.Module):
    def __init__(self, vocab_size: int):
        super().__init__()
        self.token_logits = nn.Embedding(vocab_size, vocab_size)  # row i: logits of the token after i

    def num_params(self, non_embedding: bool = False) -> int:
        return 0 if non_embedding else self.token_logits.weight.numel()

    def forward(self, idx, targets=None):
        logits = self.token_logits(idx)  # (B, T, vocab)
        if targets is None:
            return logits[:, [-1], :], None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None, generator=None):
        for _ in range(max_new_tokens):
            logits = self.token_logits(idx[:, -1]) / max(temperature, 1e-8)  # (B, vocab)
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            next_id = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)  # (B, 1)
            idx = torch.cat((idx, next_id), dim=1)
        return idx
