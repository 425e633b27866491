"""Text from a trained model: encode a prompt, generate, decode — with the checkpoint's own tokenizer."""

from pathlib import Path

import torch

from zero_to_hero import UserError


def read_prompt(start: str) -> str:
    """`start` itself, or the contents of a file given as FILE:path."""
    if not start.startswith("FILE:"):
        return start
    path = Path(start[len("FILE:") :])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read prompt file {path} ({e})") from None


def vocab_limit(model, tokenizer) -> dict:
    """generate()'s vocab_limit when the model's vocabulary is padded beyond the tokenizer's (GPT models only)."""
    config = getattr(model, "config", None)
    if config is not None and config.vocab_size > tokenizer.vocab_size:
        return {"vocab_limit": tokenizer.vocab_size}
    return {}


def sample_text(
    model,
    tokenizer,
    start: str = "\n",
    max_new_tokens: int = 500,
    temperature: float = 0.8,
    top_k: int | None = 200,
    seed: int = 1337,
    num_samples: int = 1,
    device="cpu",
    order: str = "batch",
) -> list[str]:
    """num_samples continuations of `start` (each returned with the prompt); the same seed gives the same text.

    order: "batch" draws all samples at once from a generator seeded with `seed`; "nanogpt" draws them as
    nanoGPT's sample.py does — one at a time, from torch's global generator as it stands (no cache: the whole
    context through the model for every token), so that the caller who seeded it before building the model,
    as nanoGPT does (sample.py: `--order=nanogpt`), gets nanoGPT's text for the same seed; `seed` is not used."""
    if max_new_tokens < 0 or num_samples < 1:
        raise UserError("max_new_tokens must be >= 0 and num_samples >= 1")
    if temperature < 0:
        raise UserError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise UserError(f"top_k must be >= 1, got {top_k}")
    ids = tokenizer.encode(start)
    if not ids:
        raise UserError("the prompt is empty; give --start some text (e.g. a newline)")
    if order not in ("batch", "nanogpt"):
        raise UserError(f"order must be 'batch' or 'nanogpt', got {order!r}")
    model.eval()
    if order == "nanogpt":  # one (1, T) row per sample, from the global generator, in turn
        idx = torch.tensor([ids], dtype=torch.long, device=device)
        options = dict(temperature=temperature, top_k=top_k, use_cache=False, **vocab_limit(model, tokenizer))
        with torch.no_grad():
            rows = [model.generate(idx, max_new_tokens, **options)[0] for _ in range(num_samples)]
        return [tokenizer.decode(row.tolist()) for row in rows]
    generator = torch.Generator(device=device).manual_seed(seed)
    idx = torch.tensor([ids] * num_samples, dtype=torch.long, device=device)  # (num_samples, T)
    out = model.generate(
        idx, max_new_tokens, temperature=temperature, top_k=top_k, generator=generator, **vocab_limit(model, tokenizer)
    )
    return [tokenizer.decode(row.tolist()) for row in out]
