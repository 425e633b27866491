"""minbpe: byte-level BPE tokenizers, trained here or rebuilt from GPT-2 / GPT-4 / GPT-4o's ranks."""

from minbpe.base import Tokenizer
from minbpe.basic import BasicTokenizer
from minbpe.pretrained import GPT2Tokenizer, GPT4oTokenizer, GPT4Tokenizer
from minbpe.regex_tokenizer import (
    GPT2_SPLIT_PATTERN,
    GPT4_SPLIT_PATTERN,
    GPT4O_SPLIT_PATTERN,
    MINBPE_GPT4_SPLIT_PATTERN,
    RegexTokenizer,
)

__all__ = [
    "Tokenizer",
    "BasicTokenizer",
    "RegexTokenizer",
    "GPT2Tokenizer",
    "GPT4Tokenizer",
    "GPT4oTokenizer",
    "GPT2_SPLIT_PATTERN",
    "GPT4_SPLIT_PATTERN",
    "GPT4O_SPLIT_PATTERN",
    "MINBPE_GPT4_SPLIT_PATTERN",
]
