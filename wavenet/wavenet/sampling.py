"""Sampling names from a trained model, one character at a time."""

import torch
import torch.nn.functional as F

from wavenet.data import Vocab
from wavenet.layers import Module


@torch.no_grad()
def sample(model: Module, vocab: Vocab, block_size: int, n: int, generator: torch.Generator, max_len=64):
    """n words, one character at a time from a context of block_size, until each draws the end '.'."""
    was_training = model.training
    model.eval()
    device = model.parameters()[0].device
    context = torch.zeros(n, block_size, dtype=torch.long, device=device)
    out = torch.zeros(n, 0, dtype=torch.long, device=device)
    for _ in range(max_len):
        logits = model(context).reshape(n, -1)  # (n, V); the dilated model gives (n, 1, V)
        nxt = torch.multinomial(F.softmax(logits, dim=-1).cpu(), 1, generator=generator).to(device)  # (n, 1)
        out = torch.cat([out, nxt], dim=1)
        context = torch.cat([context[:, 1:], nxt], dim=1)
        if bool((out == 0).any(1).all()):
            break
    model.train(was_training)
    words = []
    for row in out.tolist():
        words.append(vocab.decode(row[: row.index(0)] if 0 in row else row))
    return words
