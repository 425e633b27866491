"""Making more: sample words one character at a time, then sort them into copies of the data and new ones."""

import torch
import torch.nn.functional as F
from torch import nn

from makemore.zoo.dataset import SequenceData


@torch.no_grad()
def generate(
    model: nn.Module,
    n: int,
    block_size: int,
    generator: torch.Generator,
    temperature: float = 1.0,
    top_k: int = -1,
):
    """n rows of block_size sampled ids (B, block_size); a word ends at its first '.' (id 0).

    top_k > 0 samples from the k most likely characters only (the rest get probability 0)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    idx = torch.zeros(n, 1, dtype=torch.long, device=device)  # every word starts with '.'
    # block_size steps: the longest word seen in training, then its end. The whole prefix is fed each
    # time (no cropping): positions mean "characters since the start" to every model.
    for _ in range(block_size):
        logits = model(idx)[:, -1, :] / temperature  # (n, V): the prediction after the last token
        if 0 < top_k < logits.size(-1):
            kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (n, 1): the k-th largest logit
            logits = logits.masked_fill(logits < kth, float("-inf"))
        next_id = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1, generator=generator)  # (n, 1)
        idx = torch.cat([idx, next_id], dim=1)
    model.train(was_training)
    return idx[:, 1:]


def sample_groups(
    model: nn.Module, data: SequenceData, n: int, generator: torch.Generator, top_k: int = -1
) -> dict[str, list[str]]:
    """n sampled words grouped as "in train", "in test" (the model reproduced a word) or "new"."""
    train, test = set(data.train_words), set(data.test_words)
    groups = {"in train": [], "in test": [], "new": []}
    for row in generate(model, n, data.block_size, generator, top_k=top_k):
        word = data.decode(row)
        groups["in train" if word in train else "in test" if word in test else "new"].append(word)
    return groups


def format_samples(groups: dict[str, list[str]]) -> str:
    n = sum(map(len, groups.values()))
    lines = [f"{n} samples: " + ", ".join(f"{len(words)} {name}" for name, words in groups.items())]
    lines += [f"  {name}: {' '.join(w or '(empty)' for w in words)}" for name, words in groups.items() if words]
    return "\n".join(lines)
