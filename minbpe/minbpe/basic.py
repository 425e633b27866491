"""BasicTokenizer: byte-level BPE on the raw bytes of the text, which is a single chunk.

Merges may cross spaces and punctuation ("e t" can become one token), which is why GPT-2 split
the text into words first (see regex_tokenizer.py).
"""

from minbpe.base import Tokenizer


class BasicTokenizer(Tokenizer):
    def _split(self, text: str) -> list[str]:
        return [text] if text else []

    def _encode_piece(self, piece: str) -> tuple[int, ...]:
        """Replay the merges in the order learned, each over the whole text at once.

        The same result as the base class's merge loops, because a pair, once merged, can never appear
        again. But here the one piece is the whole text; holding it as a str of chr(id), each merge
        is one str.replace at C speed.
        """
        text = "".join([chr(self.byte_ids[b]) for b in piece.encode("utf-8")])
        for (a, b), new_id in self.merges.items():
            text = text.replace(chr(a) + chr(b), chr(new_id))
        return tuple(map(ord, text))


if __name__ == "__main__":
    tokenizer = BasicTokenizer()
    tokenizer.train("aaabdaaabac", 256 + 3, verbose=True)
    print(tokenizer.encode("aaabdaaabac"))  # [258, 100, 258, 97, 99], as on Wikipedia's BPE page
