"""How well a tokenizer compresses text: UTF-8 bytes per token, on its training text and on text it never saw."""

import time

from minbpe.base import Tokenizer


def held_out_split(text: str, fraction: float) -> tuple[str, str]:
    """(train, held_out): the last `fraction` of `text` is held out, cut at a line break where there is one."""
    if not 0 < fraction < 1:
        raise ValueError(f"held-out fraction must be between 0 and 1, got {fraction}")
    cut = int(len(text) * (1 - fraction))
    newline = text.rfind("\n", 0, cut)
    cut = newline + 1 if newline > 0 else cut
    return text[:cut], text[cut:]


def bytes_per_token(tokenizer: Tokenizer, text: str) -> float:
    ids = tokenizer.encode_ordinary(text)
    return len(text.encode("utf-8")) / max(len(ids), 1)


def train_and_measure(tokenizer: Tokenizer, train: str, held_out: str, vocab_size: int, verbose=False) -> dict:
    """Train `tokenizer` on `train` to `vocab_size` tokens; time it and measure its compression."""
    start = time.perf_counter()
    tokenizer.train(train, vocab_size, verbose=verbose)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    train_bpt, held_out_bpt = bytes_per_token(tokenizer, train), bytes_per_token(tokenizer, held_out)
    return {
        "vocab_size": tokenizer.size,
        "train_seconds": round(train_seconds, 3),
        "encode_seconds": round(time.perf_counter() - start, 3),  # both texts
        "train_bytes_per_token": round(train_bpt, 4),
        "held_out_bytes_per_token": round(held_out_bpt, 4),
    }


if __name__ == "__main__":
    from minbpe.regex_tokenizer import RegexTokenizer

    text = "the cat sat on the mat\nthe dog sat on the log\n" * 50 + "the cat and the dog\n"
    train, held_out = held_out_split(text, 0.1)
    print(train_and_measure(RegexTokenizer(), train, held_out, 280))
