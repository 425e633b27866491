"""GPT-2, GPT-4 and GPT-4o tokenizers, rebuilt from the ranks that tiktoken publishes.

The merges are recovered from the ranks (ranks.py), then encoding runs on our own code: tiktoken
only supplies the ranks and special tokens. All three permute the single bytes (GPT-2 put the
printable ones first), which `byte_ids` carries.
"""

import tiktoken

from minbpe.encoder import PieceEncoder
from minbpe.ranks import merges_from_ranks
from minbpe.regex_tokenizer import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, GPT4O_SPLIT_PATTERN, RegexTokenizer
from zero_to_hero.encodings import get_encoding


class PretrainedTokenizer(RegexTokenizer):
    encoding_name = ""  # tiktoken's name for the ranks
    split_pattern = ""

    def __init__(self):
        super().__init__(self.split_pattern)
        # Needs the ranks file: tiktoken downloads it once, or reads it from $TIKTOKEN_CACHE_DIR offline
        # (without either, a UserError that says so).
        encoding = get_encoding(self.encoding_name)
        self.merges, self.byte_ids = merges_from_ranks(encoding._mergeable_ranks)
        self.special_tokens = {text: encoding.encode_single_token(text) for text in encoding.special_tokens_set}
        self._rebuild()

    def _rebuild(self) -> None:
        super()._rebuild()
        # tiktoken's first step for a piece: if the piece is a token, that token. The merges give the same
        # answer (a test checks every token), only slower: this makes the first encoding of a text fast.
        self._encoder = PieceEncoder(self.merges, self.byte_ids, whole_tokens=self.whole_tokens())

    def whole_tokens(self) -> dict[str, tuple[int]]:
        """{text: (id,)} for every token whose bytes are whole UTF-8 text (special tokens excepted)."""
        special_ids = set(self.special_tokens.values())
        whole = {}
        for token_id, token in self.vocab.items():
            try:
                text = token.decode("utf-8")
            except UnicodeDecodeError:
                continue  # part of a character: never a whole piece of text
            if token_id not in special_ids:  # ordinary text unless allowed (see encode)
                whole[text] = (token_id,)
        return whole


class GPT2Tokenizer(PretrainedTokenizer):
    """GPT-2's tokenizer (tiktoken's "gpt2"): 50,257 tokens."""

    encoding_name, split_pattern = "gpt2", GPT2_SPLIT_PATTERN


class GPT4Tokenizer(PretrainedTokenizer):
    """GPT-4's tokenizer (tiktoken's "cl100k_base"): 100,256 tokens + special tokens."""

    encoding_name, split_pattern = "cl100k_base", GPT4_SPLIT_PATTERN


class GPT4oTokenizer(PretrainedTokenizer):
    """GPT-4o's tokenizer (tiktoken's "o200k_base"): 199,998 tokens + special tokens."""

    encoding_name, split_pattern = "o200k_base", GPT4O_SPLIT_PATTERN


if __name__ == "__main__":
    tokenizer = GPT4Tokenizer()
    text = "hello world!!!? (안녕하세요!) lol123 😉"
    ids = tokenizer.encode(text)
    print(ids)
    print(ids == tiktoken.get_encoding("cl100k_base").encode(text), tokenizer.decode(ids) == text)
