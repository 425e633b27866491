"""Make more: draw words one character at a time from any model's next-character distribution."""

from collections.abc import Callable

import torch

from makemore.data import Vocab


@torch.no_grad()
def sample_words(
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    vocab: Vocab,
    block_size: int,
    n: int,
    generator: torch.Generator,
    max_length: int = 100,
) -> list[str]:
    """`n` words; `logits_fn` maps contexts (1, block_size) to logits (1, vocab_size).

    Each word starts from a context of '.' and ends when '.' is drawn (or after `max_length`
    characters, so an untrained model cannot loop forever). `generator` is a CPU generator: the
    same seed gives the same words on any device.
    """
    words = []
    for _ in range(n):
        context = [0] * block_size
        ids = []
        while len(ids) < max_length:
            logits = logits_fn(torch.tensor([context]))
            probs = torch.softmax(logits.float().cpu(), dim=-1)  # (1, vocab_size)
            ix = torch.multinomial(probs[0], num_samples=1, generator=generator).item()
            if ix == 0:
                break
            ids.append(ix)
            context = context[1:] + [ix]
        words.append(vocab.decode(ids))
    return words
