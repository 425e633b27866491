"""nanogpt: lecture 7's GPT grown into a small training package — data, model, training, sampling."""

from nanogpt.bigram import BigramLanguageModel
from nanogpt.model import GPT, GPTConfig

__all__ = ["GPT", "GPTConfig", "BigramLanguageModel"]
