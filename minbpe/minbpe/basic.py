"""BasicTokenizer: byte-level BPE on the raw bytes of the text, which is a single chunk.

Merges may cross spaces and punctuation ("e t" can become one token), which is why GPT-2 split
the text into words first (see regex_tokenizer.py).
"""

from minbpe.base import Tokenizer


class BasicTokenizer(Tokenizer):
    def _split(self, text: str) -> list[str]:
        return [text] if text else []


if __name__ == "__main__":
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 256 + 3, verbose=True)
    print(tokenizer.encode("aaabdaaabac"))  # [258, 100, 258, 97, 99], as on Wikipedia's BPE page
