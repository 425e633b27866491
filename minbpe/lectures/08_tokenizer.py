# %% [markdown]
# # Lecture 8: Let's build the GPT Tokenizer
#
# The lecture replayed in order: from Unicode code points to byte-pair encoding written by hand, then the
# regex split, GPT-2's original files, tiktoken and special tokens, sentencepiece, the vocabulary size, and the
# tour of odd LLM behaviour that tokenization explains. Each piece written here inline is then checked
# against this package (`minbpe`), so you can see where each lecture line lives in the package.
#
# Run it (from `minbpe/`):
# - `python lectures/08_tokenizer.py`: full mode, about 30 seconds on a 2-core CPU;
# - `python lectures/08_tokenizer.py --fast`: smaller sweeps, under 20 seconds (what the tests run);
# - as a notebook: `pip install jupytext`, then open this file in Jupyter or VS Code
#   ("Open as notebook"), or `python -m zero_to_hero.notebooks minbpe/lectures/08_tokenizer.py` from the
#   repository root.
#
# The sentencepiece section needs `pip install "./minbpe[lectures]"`, which installs sentencepiece. Without
# it, that section prints a note and is skipped.
# GPT-2's and GPT-4's tokenizers need tiktoken's rank files. tiktoken downloads them once; offline, set
# `TIKTOKEN_CACHE_DIR` to a copy (`../shared/tiktoken_cache` on our machines).

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from zero_to_hero.lectures import Walkthrough

lecture = Walkthrough("08")
fast = lecture.fast

# %% [markdown]
# ## Tokenization by example in a Web UI (tiktokenizer)
#
# The lecture starts in the tiktokenizer web app, which runs tiktoken in the browser. The same thing here:
# one text, cut into tokens by GPT-2's tokenizer and by GPT-4's. English words are mostly one token each,
# with the leading space inside the token. Numbers are cut in odd places. Korean costs many more tokens per
# character. GPT-2 spends one token per space of Python indentation.

# %%
import tiktoken

web_ui_text = (
    "Tokenization is at the heart of much weirdness.\n127 + 677 = 804\n안녕하세요\nfor i in x:\n        print(i)\n"
)
for name in ["gpt2", "cl100k_base"]:
    encoding = tiktoken.get_encoding(name)
    ids = encoding.encode(web_ui_text)
    parts = [encoding.decode_single_token_bytes(i) for i in ids]
    # a token that holds part of a character is shown as bytes
    shown = [p.decode("utf-8") if p.decode("utf-8", errors="ignore").encode() == p else p for p in parts]
    print(f"{name}: {len(ids)} tokens", shown)

# %% [markdown]
# ## Strings in Python, Unicode code points
#
# A Python `str` is a sequence of Unicode code points, and `ord` gives the number of each. There are about
# 150,000 code points, and the standard keeps changing. Both are reasons not to use code points directly
# as a model's vocabulary.

# %%
print(ord("h"), ord("é"), ord("한"), ord("👋"))
greeting = "안녕하세요 👋 (hello in Korean!)"
print([ord(c) for c in greeting])

# %% [markdown]
# ## Unicode byte encodings, ASCII, UTF-8, UTF-16, UTF-32
#
# An encoding turns code points into bytes. UTF-8 uses 1 byte for ASCII and up to 4 for other
# characters. UTF-16 and UTF-32 spend 2 or 4 bytes even on plain English, and most of those bytes are zeros.
# UTF-8 is the web's encoding, so it is the one tokenizers start from. Here is the same text in all three:

# %%
samples = {
    "English": "hello world",
    "accents": "café, naïve, über",
    "Korean": "안녕하세요",
    "emoji": "👋🙂🎉",
    "mixed": greeting,
}
print(f"{'text':10} {'chars':>5} {'UTF-8':>6} {'UTF-16':>7} {'UTF-32':>7}")
for name, s in samples.items():
    sizes = [len(s.encode(e)) for e in ("utf-8", "utf-16-le", "utf-32-le")]  # -le: no byte-order mark
    print(f"{name:10} {len(s):>5} {sizes[0]:>6} {sizes[1]:>7} {sizes[2]:>7}")
print(list("hi".encode("utf-16-le")), list("hi".encode("utf-32-le")))  # the zeros UTF-16/32 spend on ASCII
utf8_sizes = [len(samples["English"].encode(e)) for e in ("utf-8", "utf-16-le", "utf-32-le")]
lecture.result("hello_world_bytes", "/".join(map(str, utf8_sizes)), lecture="-")

# %% [markdown]
# ## Daydreaming: deleting tokenization
#
# Raw UTF-8 bytes would give a vocabulary of only 256 symbols. The sequences would then be very long, and
# attention's context would hold little text. Feeding bytes straight to the model would remove the whole
# tokenizer stage, but that needs a different architecture (papers such as MEGABYTE try it at scale). Until then,
# byte-pair encoding keeps bytes as the base and adds new symbols for byte sequences that are frequent.
#
# ## Byte Pair Encoding (BPE) algorithm walkthrough
#
# Find the most frequent adjacent pair and replace it everywhere with a new symbol. Repeat. Wikipedia's
# example, "aaabdaaabac", becomes "XdXac" after three merges (Z=aa, Y=ab, X=ZY). With bytes, the new symbols are
# 256, 257, 258:

# %%
from minbpe import BasicTokenizer

toy = BasicTokenizer()
toy.train("aaabdaaabac", 256 + 3)
print(toy.merges, toy.encode("aaabdaaabac"))
assert toy.encode("aaabdaaabac") == [258, 100, 258, 97, 99]

# %% [markdown]
# ## Counting consecutive pairs, finding the most common pair
#
# The lecture uses the first paragraph of Nathan Reed's "A Programmer's Introduction to Unicode" here. We do
# not copy the article, so this short text of our own plays its part. It is English prose with
# full-width letters, enclosed letters, flags and emoji mixed in.

# %%
short_text = (
    "Ｔｏｋｅｎｓ! 🅣🅞🅚🅔🅝🅢 🇹\u200c🇴\u200c🇰\u200c🇪\u200c🇳! 🙂 Every string a program touches is, "
    "underneath, a list of numbers. Python hands us code points; UTF-8 turns each one into one to four bytes; "
    "and a tokenizer has to decide which runs of those bytes deserve a name of their own. Plain English letters "
    "cost one byte each, the accents in café and naïve cost two, the Korean 한글 costs three per syllable, and an "
    "emoji like 🎉 costs four. Nobody enjoys thinking about this, yet every language model reads the world "
    "through exactly this lens, one token at a time."
)
tokens = list(short_text.encode("utf-8"))
print(len(short_text), "characters,", len(tokens), "bytes")
lecture.result("short_text_bytes", len(tokens), lecture="616 on its own paragraph")


def get_stats(ids):
    """How often each adjacent pair occurs: {(a, b): count}."""
    counts = {}
    for pair in zip(ids, ids[1:], strict=False):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


stats = get_stats(tokens)
top = sorted(((count, pair) for pair, count in stats.items()), reverse=True)[:5]
print([(pair, bytes(pair).decode("utf-8", errors="replace"), count) for count, pair in top])
top_pair = max(stats, key=stats.get)
lecture.result("top_pair", f"{top_pair}x{stats[top_pair]}", lecture="(101, 32)x20 on its own paragraph")

# %% [markdown]
# In our text the winner is a space followed by "t" (18 times), with "e " just behind. In the lecture's
# paragraph it was "e " (20 times), and on the longer text below "e " wins too. The pair (240, 159) is the
# first two bytes that most emoji share. The package keeps the lecture's counting function in
# `minbpe/reference.py` (it adds to a dict you pass in, so it can count across many chunks):

# %%
from minbpe import reference

package_counts = {}
reference.get_stats(tokens, package_counts)
assert package_counts == stats

# %% [markdown]
# ## Merging the most common pair
#
# Walk left to right. Wherever the pair occurs, emit the new id and skip both elements. The sequence gets
# shorter by the number of occurrences of the pair.

# %%


def merge(ids, pair, new_id):
    """`ids` with every occurrence of `pair` (left to right, no overlaps) replaced by `new_id`."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


print(merge([5, 6, 6, 7, 9, 1], (6, 7), 99))
merged = merge(tokens, top_pair, 256)
print(len(tokens), "->", len(merged), "after one merge")
assert merged == reference.merge(tokens, top_pair, 256)
assert len(tokens) - len(merged) == stats[top_pair]

# %% [markdown]
# ## Training the tokenizer: adding the while loop, compression ratio
#
# Repeat the merge until the vocabulary reaches the size we want: 276 tokens, so 20 merges. The lecture
# trains on the whole article, 24,597 bytes. Our stand-in is the first 24,597 bytes of the Wikipedia article
# on Taylor Swift (minbpe's test text, downloaded once and cached). It is also English prose from the
# web, of the same length.

# %%
from zero_to_hero.datasets import read_text

taylorswift = read_text("taylorswift")
article = taylorswift.encode("utf-8")[:24_597].decode("utf-8", errors="ignore")  # a whole number of characters
tokens = list(article.encode("utf-8"))
vocab_size = 276
ids = list(tokens)
merges = {}  # (a, b) -> new id, in the order learned
for i in range(vocab_size - 256):
    stats = get_stats(ids)
    pair = max(stats, key=stats.get)  # on a tie, the pair seen first in the text (the package does the same)
    ids = merge(ids, pair, 256 + i)
    merges[pair] = 256 + i
    if i < 6 or i == vocab_size - 257:
        print(f"merge {i + 1}: {pair} -> {256 + i}  ({stats[pair]} times)")
print(f"tokens: {len(tokens)}, ids: {len(ids)}, compression ratio: {len(tokens) / len(ids):.2f}X")
lecture.result("article_tokens", len(tokens), lecture=24597)
lecture.result("article_ids", len(ids), lecture=19438)
lecture.result("compression_276", len(tokens) / len(ids), lecture="1.27", fmt=".2f")

# %% [markdown]
# The package learns the same 20 merges in the same order. `minbpe/basic.py` writes this loop out too, and
# `reference=True` runs it; by default the trainer keeps pair counts up to date instead of recounting
# (`minbpe/training.py`).

# %%
basic = BasicTokenizer()
basic.train(article, vocab_size)
assert basic.merges == merges
assert basic.encode(article) == ids

# %% [markdown]
# Compression keeps improving as merges are added, but each new merge covers rarer pairs, so the gain per
# merge shrinks:

# %%
sizes = [256, 266, 276, 296, 336, 416, 512] + ([] if fast else [640, 768, 1024])
curve = BasicTokenizer()
ratios = []
for size in sizes:
    if size > curve.size:
        curve.train(article, size)  # continues from the merges it already has
    ratios.append(len(tokens) / len(curve.encode(article)))
assert curve.merges.keys() >= merges.keys()
print("bytes per token:", {size: round(ratio, 2) for size, ratio in zip(sizes, ratios, strict=True)})
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(sizes, ratios, marker="o")
ax.set_xlabel("vocabulary size (256 bytes + merges)")
ax.set_ylabel("bytes / token on the training text")
ax.set_title("compression as merges are added")
ax.grid(alpha=0.3)
lecture.savefig(fig, "compression.png", docs=True)
plt.close(fig)
lecture.result("compression_512", ratios[sizes.index(512)], lecture="-", fmt=".2f")

# %% [markdown]
# ## Tokenizer/LLM diagram: it is a completely separate stage
#
# The tokenizer is trained on its own text with its own algorithm, before the language model exists. The model
# only sees token ids. How much text of each kind (English, code, other languages) the tokenizer was trained on
# decides how densely that kind of text is packed into the model's context.
#
# ## Decoding tokens to strings
#
# Each token stands for a byte string: a byte for ids below 256, and the two parts joined for a merge. Decoding
# joins the bytes and reads them as UTF-8. Not every byte sequence is valid UTF-8, though. A lone byte 128
# (0b10000000) is a continuation byte with no start byte before it. A model can emit such a sequence, so
# decoding must not fail on it: `errors="replace"` turns bad bytes into U+FFFD, "�".

# %%
vocab = {i: bytes([i]) for i in range(256)}
for (a, b), new_id in merges.items():  # in order, so both parts already exist
    vocab[new_id] = vocab[a] + vocab[b]


def decode(ids):
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


try:
    b"".join(vocab[i] for i in [128]).decode("utf-8")
except UnicodeDecodeError as e:
    print("strict UTF-8:", e)
print(repr(decode([128])), repr(basic.decode([128])))
assert decode([128]) == basic.decode([128]) == "\ufffd"
assert basic.vocab == vocab

# %% [markdown]
# ## Encoding strings to tokens
#
# Start from the bytes and apply merges in the order they were learned: among the pairs present, always
# merge the one with the lowest id. A later merge can only be built from tokens that earlier merges made.
# When no pair present is a merge, we are done.

# %%


def encode(text):
    ids = list(text.encode("utf-8"))
    while len(ids) >= 2:
        stats = get_stats(ids)
        pair = min(stats, key=lambda p: merges.get(p, float("inf")))
        if pair not in merges:
            break  # nothing left to merge
        ids = merge(ids, pair, merges[pair])
    return ids


print(encode("hello world!"), encode("h"), encode(""))
held_out = taylorswift[len(article) : len(article) + 5000]  # text the merges were not learned on
assert decode(encode(held_out)) == held_out
assert encode(held_out) == basic.encode(held_out) == basic.encode_ordinary(held_out, reference=True)
# decode(encode(x)) == x always holds; encode(decode(ids)) == ids does not (try ids = [101, 32]):
print(encode(decode([101, 32])), "!=", [101, 32])

# %% [markdown]
# ## Regex patterns to force splits across categories
#
# Trained on raw bytes, BPE learns tokens like "e " and ", " and even "dog." next to "dog!". The token
# budget goes to arbitrary mixes of a word and the punctuation or space after it. GPT-2 cut the text into
# pieces with a regex first: contractions, letter runs, digit runs and punctuation runs, each with at most one
# leading space, and runs of whitespace. Merges happen only inside a piece.
#
# Here is the pattern as GPT-2's `encoder.py` wrote it, on the lecture's example:

# %%
import regex

gpt2_original = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
example = "Hello've world123 how's are you!!!?"
print(regex.findall(gpt2_original, example))
print(regex.findall(gpt2_original, "HOW'S it going?   I'm  fine   "))

# %% [markdown]
# The contractions are listed in lower case only, so "HOW'S" splits differently from "how's". Whitespace is
# kept apart from words, except that a single space stays in front of the next word. `\s+(?!\S)` leaves the
# last space of a run for the word that follows, so " fine" looks the same whether or not extra spaces came
# before it. The package keeps tiktoken's version of the pattern, character for character (its tests check
# this). It adds possessive quantifiers and changes two small whitespace rules (`\s++$`, and a final `\s`
# instead of `\s+`). On these texts it splits exactly as the original does:

# %%
from minbpe import GPT2_SPLIT_PATTERN, RegexTokenizer

for text in [example, "HOW'S it going?   I'm  fine   ", taylorswift[:3000]]:
    assert RegexTokenizer(GPT2_SPLIT_PATTERN).split(text) == regex.findall(gpt2_original, text)

# %% [markdown]
# What the split forbids: train both tokenizers on the whole Taylor Swift article (512 tokens) and count the
# learned tokens that span more than one piece of the split, such as a word with the space after it.

# %%


def crossing_tokens(tokenizer):
    found = []
    for new_id in tokenizer.merges.values():
        text = tokenizer.vocab[new_id].decode("utf-8", errors="replace")
        if len(regex.findall(gpt2_original, text)) > 1:
            found.append(text)
    return found


basic512, regex512 = BasicTokenizer(), RegexTokenizer(GPT2_SPLIT_PATTERN)
basic512.train(taylorswift, 512)
regex512.train(taylorswift, 512)
crossing_basic, crossing_regex = crossing_tokens(basic512), crossing_tokens(regex512)
print(f"Basic: {len(crossing_basic)} of 256 learned tokens cross a split, e.g. {crossing_basic[:8]}")
print(f"Regex (GPT-2 pattern): {len(crossing_regex)}")
assert not crossing_regex
lecture.result("crossing_tokens_basic", len(crossing_basic), lecture="-")

# %% [markdown]
# ## tiktoken library intro, differences between GPT-2/GPT-4 regex
#
# tiktoken is OpenAI's encoder, written in Rust. It has inference only: no training. `GPT2Tokenizer` and
# `GPT4Tokenizer` are rebuilt from tiktoken's published ranks, and our own code does the encoding. The tests
# check on hard and generated text that the ids are identical. GPT-4's pattern differs from GPT-2's in three
# ways. Contractions match in any case. Numbers are cut into groups of at most three digits. Newlines are split
# off from the other whitespace (`\s*[\r\n]`). Both patterns keep a run of spaces together as one piece.
# But GPT-2's vocabulary has no token for several spaces, so each space of indentation costs a token, while
# GPT-4's vocabulary has tokens for runs of spaces.

# %%
from minbpe import GPT4_SPLIT_PATTERN, GPT2Tokenizer, GPT4oTokenizer, GPT4Tokenizer

gpt2, gpt4, gpt4o = GPT2Tokenizer(), GPT4Tokenizer(), GPT4oTokenizer()
tiktoken_gpt2, tiktoken_gpt4 = tiktoken.get_encoding("gpt2"), tiktoken.get_encoding("cl100k_base")
spaces = "    hello world!!!"
for name, ours, theirs in [("GPT-2", gpt2, tiktoken_gpt2), ("GPT-4", gpt4, tiktoken_gpt4)]:
    ids = ours.encode(spaces)
    assert ids == theirs.encode(spaces)
    print(f"{name}: {ids} {[ours.decode([i]) for i in ids]}")
print("GPT-2 split:", regex.findall(GPT2_SPLIT_PATTERN, "HOW'S 12345\n\n   x"))
print("GPT-4 split:", regex.findall(GPT4_SPLIT_PATTERN, "HOW'S 12345\n\n   x"))

# %% [markdown]
# The vocabulary doubled from GPT-2's 50,257 tokens to about 100,000 in GPT-4, and with the new pattern most
# text needs fewer tokens. Python code gains the most. The Taylor Swift article is an exception: it is full of
# years and footnote numbers such as "2013" and "[145]". GPT-2 has whole tokens for many of them, and GPT-4
# cuts them into groups of three digits.

# %%
python_code = """class Counter:
    def __init__(self):
        self.counts = {}

    def add(self, word):
        if word in self.counts:
            self.counts[word] += 1
        else:
            self.counts[word] = 1
"""
shakespeare = read_text("tinyshakespeare")[:20_000]
print(f"{'text':22} {'GPT-2':>6} {'GPT-4':>6} {'GPT-4o':>7}")
token_counts = {}
for name, text in [
    ("python code", python_code),
    ("Shakespeare, 20 KB", shakespeare),
    ("Taylor Swift article", taylorswift),
]:
    token_counts[name] = [len(t.encode(text)) for t in (gpt2, gpt4, gpt4o)]
    print(f"{name:22} {token_counts[name][0]:>6} {token_counts[name][1]:>6} {token_counts[name][2]:>7}")
    assert token_counts[name][0] == len(tiktoken_gpt2.encode(text))
    assert token_counts[name][1] == len(tiktoken_gpt4.encode(text))
lecture.result("python_tokens_gpt2_gpt4", "{}/{}".format(*token_counts["python code"]), lecture="-")

# %% [markdown]
# ## GPT-2 encoder.py released by OpenAI walkthrough
#
# GPT-2 shipped its tokenizer as two files: `encoder.json` (token string -> id, 50,257 entries) and `vocab.bpe`
# (the 50,000 merges, in order). tiktoken reads the same two files for its `gpt2` encoding and keeps them in
# its cache folder (each file is named after the SHA-1 of its URL). We find them there by their content.

# %%
import json
import os
import tempfile
from pathlib import Path

from tiktoken.load import read_file_cached

base_url = "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/"
encoder = json.loads(read_file_cached(base_url + "encoder.json"))  # from tiktoken's cache; downloads if absent
bpe_lines = read_file_cached(base_url + "vocab.bpe").decode("utf-8").split("\n")
cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or Path(tempfile.gettempdir()) / "data-gym-cache")
for path in sorted(cache.glob("*")):
    head = path.read_bytes()[:16]
    if head.startswith(b'{"!"') or head.startswith(b"#version"):
        print(
            path.name,
            "holds",
            "encoder.json" if head.startswith(b"{") else "vocab.bpe",
            f"({path.stat().st_size:,} bytes)",
        )
bpe_merges = [tuple(line.split(" ")) for line in bpe_lines[1:] if line]  # line 0 is "#version: 0.2"
print(len(encoder), "tokens,", len(bpe_merges), "merges; first merges:", bpe_merges[:4])

# %% [markdown]
# The strings in both files are not the bytes themselves. GPT-2 maps every byte to a printable character
# (`bytes_to_unicode`), so that a space becomes "Ġ" and a newline "Ċ". Printable ASCII and Latin-1 bytes map to
# themselves. The 68 others (controls, space, and a few more) get the code points 256, 257, ... in order.
# This is the "byte shuffle": GPT-2 numbers the 256 byte tokens in this printable-first order, not by byte value.

# %%


def bytes_to_unicode():
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


byte_encoder = bytes_to_unicode()
byte_decoder = {c: b for b, c in byte_encoder.items()}
print(repr(byte_encoder[ord(" ")]), repr(byte_encoder[ord("\n")]), encoder["Ġthe"], encoder["<|endoftext|>"])

# %% [markdown]
# Every entry of `encoder.json` names our GPT-2 token of the same id, byte for byte. Merge *i* of `vocab.bpe`
# makes token 256 + *i*, and it is the same pair of ids as our merge *i*. The first 256 ids are the single
# bytes in the shuffled order, which our `GPT2Tokenizer` keeps as `byte_ids`.

# %%
token_bytes = {token: bytes(byte_decoder[c] for c in token) for token in encoder}
assert all(gpt2.vocab[rank] == token_bytes[token] for token, rank in encoder.items())
file_merges = {(encoder[a], encoder[b]): 256 + i for i, (a, b) in enumerate(bpe_merges)}
assert file_merges == gpt2.merges
assert all(encoder[a + b] == 256 + i for i, (a, b) in enumerate(bpe_merges))
assert [encoder[byte_encoder[b]] for b in range(256)] == gpt2.byte_ids
print("all", len(encoder), "ranks and", len(bpe_merges), "merges equal our GPT2Tokenizer's")
lecture.result("gpt2_ranks_equal", len(encoder), lecture=50257)

# %% [markdown]
# `encoder.py` then encodes each piece of the split with `bpe()`. It maps the piece's bytes to their
# characters and repeatedly joins the adjacent pair that comes earliest in `vocab.bpe`, the same rule as our
# `encode` above. Finally it looks each part up in `encoder`. Written out again, it gives our ids:

# %%
bpe_ranks = {pair: i for i, pair in enumerate(bpe_merges)}


def gpt2_bpe(piece):
    parts = [byte_encoder[b] for b in piece.encode("utf-8")]
    while len(parts) > 1:
        pairs = list(zip(parts, parts[1:], strict=False))
        best = min(pairs, key=lambda p: bpe_ranks.get(p, float("inf")))
        if best not in bpe_ranks:
            break
        joined, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                joined.append(parts[i] + parts[i + 1])
                i += 2
            else:
                joined.append(parts[i])
                i += 1
        parts = joined
    return [encoder[part] for part in parts]


def gpt2_encode(text):
    return [token for piece in regex.findall(gpt2_original, text) for token in gpt2_bpe(piece)]


sample = taylorswift[30_000:34_000]
assert gpt2_encode(sample) == gpt2.encode(sample) == tiktoken_gpt2.encode(sample)
print(gpt2_encode(example), [gpt2.decode([i]) for i in gpt2_encode(example)])

# %% [markdown]
# ## Special tokens, tiktoken handling of, GPT-2/GPT-4 differences
#
# Special tokens are not made by merges. They are extra ids that the code inserts to mark structure, such as
# the end of a document or the turns of a chat. GPT-2 has one, `<|endoftext|>` = 50256, the last id. GPT-4's
# cl100k_base has five, among them the fill-in-the-middle (FIM) tokens.

# %%
print("GPT-2:", gpt2.special_tokens)
print("GPT-4:", dict(sorted(gpt4.special_tokens.items(), key=lambda item: item[1])))
assert gpt2.special_tokens == {"<|endoftext|>": encoder["<|endoftext|>"]}
lecture.result("endoftext_gpt2", gpt2.special_tokens["<|endoftext|>"], lecture=50256)
lecture.result("endoftext_gpt4", gpt4.special_tokens["<|endoftext|>"], lecture=100257)

# %% [markdown]
# Text that a user typed must not be able to produce a control token. tiktoken therefore raises an error when
# the text contains a special token, unless you allow it (`allowed_special`) or ask for it to be encoded as
# ordinary text (`disallowed_special=()`). Ours follows the same rules:

# %%
doc = "<|endoftext|>hello world"


def outcome(encoding, **options):
    """The ids, or the word "ValueError" where encoding refuses the text."""
    try:
        return encoding.encode(doc, **options)
    except ValueError:
        return "ValueError"


for options in [{}, {"allowed_special": "all"}, {"disallowed_special": ()}]:
    assert outcome(gpt4, **options) == outcome(tiktoken_gpt4, **options)
    print(f"{str(options):28} -> {outcome(gpt4, **options)}")
try:
    gpt4.encode(doc)
except ValueError as e:
    print(e)

# %% [markdown]
# **Why a model stops.** In training, documents are joined with `<|endoftext|>` between them, so the model
# learns to predict it where a document ends. Generation is a loop that samples the next token until it
# samples that id (or runs out of budget). The smallest model that shows this needs no training: a table of
# which GPT-2 token followed which in three short documents (a bigram model, lecture 2's idea, on GPT-2's
# tokens). It learned that a document's last token is followed by 50256, and sampling from it stops there.

# %%
import random
from collections import Counter, defaultdict

documents = [
    "The tokenizer is a separate stage.",
    "It has its own training set.",
    "The model only ever sees the tokens.",
]
eot = gpt2.special_tokens["<|endoftext|>"]
training_text = "".join(d + "<|endoftext|>" for d in documents)
training_ids = gpt2.encode(training_text, allowed_special={"<|endoftext|>"})
assert training_ids == tiktoken_gpt2.encode(training_text, allowed_special={"<|endoftext|>"})
positions = [i for i, t in enumerate(training_ids) if t == eot]
print(f"{len(training_ids)} tokens; <|endoftext|> = {eot} at positions {positions}")

next_counts = defaultdict(Counter)  # token -> Counter of the tokens seen right after it
for current, following in zip(training_ids, training_ids[1:], strict=False):
    next_counts[current][following] += 1


def generate(prompt_ids, rng, max_new_tokens=50):
    """Sample from the table until <|endoftext|> comes up (not emitted) or the budget runs out."""
    ids = list(prompt_ids)
    for _ in range(max_new_tokens):
        choices = next_counts[ids[-1]]
        token = rng.choices(list(choices), weights=list(choices.values()))[0]
        if token == eot:
            return ids, True
        ids.append(token)
    return ids, False


rng = random.Random(8)
for prompt in ["The", "It"]:
    ids, stopped = generate(gpt2.encode(prompt), rng)
    print(f"{prompt!r} -> {gpt2.decode(ids)!r}: {'sampled <|endoftext|>, stopped' if stopped else 'out of budget'}")
    assert stopped
lecture.result("generation_stops_on", eot, lecture=50256)

# %% [markdown]
# That is also why a chat model may halt, or behave oddly, when asked to print the string "<|endoftext|>":
# if a serving stack encodes that text as the special token (as `allowed_special="all"` does), the model sees
# an end of document in the middle of its input. Encoded as ordinary text, it is just a few harmless tokens:

# %%
print("as the special token:", gpt2.encode("<|endoftext|>", allowed_special="all"))
as_text = gpt2.encode_ordinary("<|endoftext|>")
print("as ordinary text:    ", as_text, [gpt2.decode([i]) for i in as_text])
lecture.result("endoftext_as_text_tokens", len(as_text), lecture="-")

# %% [markdown]
# Adding a special token to a trained tokenizer is one line. The model then needs model surgery: one more row
# in the embedding table, and one more output in the final layer.

# %%
chat = RegexTokenizer()
chat.train(taylorswift[:20_000], 300)
chat.register_special_tokens({"<|im_start|>": 300, "<|im_end|>": 301})
ids = chat.encode("<|im_start|>user hi<|im_end|>", allowed_special="all")
print(ids)
assert ids[0] == 300 and ids[-1] == 301

# %% [markdown]
# ## minbpe exercise time! write your own GPT-4 tokenizer
#
# `lectures/exercises_08.py` has the exercise in four steps, with blanks to fill in and a checker:
# (1) a Basic tokenizer (train, encode, decode), (2) the regex split, (3) GPT-4 parity from tiktoken's ranks
# (recover the merges and the byte shuffle), and (4) special tokens. Run it as a script to see which steps
# work. The package's `train.py` is the finished step 2. It trains both tokenizers on the Taylor Swift article
# at 512 tokens and measures compression on the last 10%, which it does not train on:

# %%
from minbpe.compression import held_out_split, train_and_measure

train_text, held_out_text = held_out_split(taylorswift, 0.1)
for name, tokenizer in [("basic", BasicTokenizer()), ("regex", RegexTokenizer())]:
    metrics = train_and_measure(tokenizer, train_text, held_out_text, 512)
    print(name, {k: v for k, v in metrics.items() if "seconds" not in k})
    lecture.result(f"ts512_{name}_held_out", metrics["held_out_bytes_per_token"], lecture="-")
print("the first merges of the regex tokenizer:", [tokenizer.decode([256 + i]) for i in range(12)])

# %% [markdown]
# ## sentencepiece library intro, used to train Llama 2 vocabulary
#
# sentencepiece (used by Llama 2 and Mistral) runs BPE on code points, not bytes. Rare code points fall back to
# their UTF-8 bytes (`byte_fallback`), or to `<unk>` without it. It also normalizes text and adds a "dummy
# prefix" space, so "hello" at the start of a text and " hello" in the middle give the same token. We train it
# with the settings Llama 2 used (as read from its model file in the lecture), on the same text as a
# Basic tokenizer, both with 400 tokens. The model files go into the output folder.

# %%
try:
    import sentencepiece as spm
except ImportError:
    spm = None
    print('sentencepiece is not installed: pip install "./minbpe[lectures]" to run this section')

if spm is not None:
    spm_text = taylorswift[:40_000] if fast else taylorswift
    (lecture.out_dir / "spm_input.txt").write_text(spm_text, encoding="utf-8")
    options = dict(
        input=str(lecture.out_dir / "spm_input.txt"),
        input_format="text",
        model_prefix=str(lecture.out_dir / "tok400"),
        model_type="bpe",
        vocab_size=400,
        normalization_rule_name="identity",  # no Unicode normalization: keep the text as it is
        remove_extra_whitespaces=False,
        input_sentence_size=200_000_000,
        max_sentence_length=4192,
        seed_sentencepiece_size=1_000_000,
        shuffle_input_sentence=True,
        character_coverage=0.99995,  # code points rarer than this fall back to bytes
        byte_fallback=True,
        split_digits=True,
        split_by_unicode_script=True,
        split_by_whitespace=True,
        split_by_number=True,
        max_sentencepiece_length=16,
        add_dummy_prefix=True,
        allow_whitespace_only_pieces=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,  # one thread: the same model on every run
        minloglevel=2,  # errors only
    )
    spm.SentencePieceTrainer.train(**options)
    sp = spm.SentencePieceProcessor(model_file=str(lecture.out_dir / "tok400.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    print(pieces[:5], "...", pieces[259:270], "...", pieces[-5:])
    ours400 = BasicTokenizer()
    ours400.train(spm_text, 400)

    def our_piece(token_id):  # a token that is not whole UTF-8 is shown as its bytes, as sentencepiece does
        token = ours400.vocab[token_id]
        try:
            return token.decode("utf-8")
        except UnicodeDecodeError:
            return "".join(f"<0x{b:02X}>" for b in token)

    for text in ["hello 안녕하세요", "Taylor Swift released her album in 2014."]:
        spm_ids, our_ids = sp.encode(text), ours400.encode(text)
        print(f"{text!r}\n  sentencepiece {len(spm_ids):>2}: {[sp.id_to_piece(i) for i in spm_ids]}")
        print(f"  ours (bytes)  {len(our_ids):>2}: {[our_piece(i) for i in our_ids]}")
        assert sp.decode(spm_ids) == text and ours400.decode(our_ids) == text
    hello = sp.encode("hello 안녕하세요")
    lecture.result("spm_hello_tokens", len(hello), lecture=21)
    korean = [sp.id_to_piece(i) for i in sp.encode("안녕하세요")]
    assert all(p.startswith("<0x") for p in korean[1:]), korean  # bytes: Korean is not in the training text

# %% [markdown]
# Its vocabulary starts with the special pieces, then the 256 byte pieces, then the merges, and ends with
# single code points seen in training. "▁" marks a space. Korean was never seen, so it becomes
# 15 byte pieces. Our byte-level tokenizer encodes the same bytes without a special case. The extra "▁" in
# front of "hello" is the dummy prefix.
#
# ## How to set vocabulary size? Revisiting gpt.py transformer
#
# In the GPT from lecture 7, the vocabulary size sets two layers: the token embedding table and the final
# linear layer (both `vocab_size × n_embd`). A larger vocabulary packs more text into each token, so the
# context covers more text and a forward pass processes fewer tokens. But every token is rarer in the
# training data, so its embedding is trained less, and the output layer gets more expensive. Here is what
# size buys on held-out text, with a Basic and a Regex tokenizer trained on the first 90% of tinyshakespeare
# (fast mode: Taylor Swift and fewer sizes):

# %%
import time

sweep_text = taylorswift if fast else read_text("tinyshakespeare")
sweep_train, sweep_held_out = held_out_split(sweep_text, 0.1)
sweep_sizes = [256, 512, 1024] if fast else [256, 512, 1024, 2048, 4096]
n_embd = 384  # gpt.py's width
sweep = {"basic": [], "regex": []}
for name, make in [("basic", BasicTokenizer), ("regex", RegexTokenizer)]:
    for size in sweep_sizes:
        tokenizer = make()
        start = time.perf_counter()
        if size > 256:
            tokenizer.train(sweep_train, size)
        seconds = time.perf_counter() - start
        held_out_ids = tokenizer.encode_ordinary(sweep_held_out)
        tokens_per_byte = len(held_out_ids) / len(sweep_held_out.encode("utf-8"))
        sweep[name].append((size, tokens_per_byte, seconds))
        print(
            f"{name:5} vocab {size:>5}: {tokens_per_byte:.4f} tokens/byte held out, trained in {seconds:6.2f} s, "
            f"embedding + output layer {2 * size * n_embd:>9,} parameters"
        )
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
for name, rows in sweep.items():
    left.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", label=name)
    right.plot([r[0] for r in rows], [r[2] for r in rows], marker="o", label=name)
for ax, label in [(left, "tokens / byte, held-out text"), (right, "training time (s)")]:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("vocabulary size")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend()
fig.suptitle(f"vocabulary size on {'taylorswift' if fast else 'tinyshakespeare'} (trained on 90%)")
lecture.savefig(fig, "vocab_size.png", docs=True)
plt.close(fig)
lecture.result("held_out_tpb_regex_max", sweep["regex"][-1][1], lecture="-")
lecture.result("held_out_tpb_basic_max", sweep["basic"][-1][1], lecture="-")

# %% [markdown]
# Going from 256 to 512 tokens roughly halves the number of tokens. After that, each doubling of the
# vocabulary removes a smaller share of them, while the embedding and output layers double in size every time.
#
# ## Training new tokens, example of prompt compression; multimodal tokenization
#
# To add tokens to a trained model, add rows to the embedding table and outputs to the final layer. You can
# train only the new rows and freeze the rest. "Gist tokens" push this further: a long prompt is compressed into
# a few new tokens, trained so that the model behaves as if it had read the whole prompt. Images, audio and
# video can be tokenized too, as patches or quantized codes. The transformer stays the same; only the tokenizer
# changes.
#
# ## Revisiting and explaining the quirks of LLM tokenization
#
# Each of the puzzles from the start of the lecture, measured. First, **spelling**. ".DefaultCellStyle" is a
# single GPT-4 token, so the model never sees its letters. Counting its l's or reversing it is hard for the
# model, and the reversed string is a different mess of tokens.

# %%


def show(tokenizer, text):
    return [tokenizer.decode([i]) for i in tokenizer.encode(text)]


word = ".DefaultCellStyle"
print(f"{'text':20} {'GPT-2':>6} {'GPT-4':>6} {'GPT-4o':>7}")
for text in [word, word[::-1]]:
    print(f"{text:20} {len(gpt2.encode(text)):>6} {len(gpt4.encode(text)):>6} {len(gpt4o.encode(text)):>7}")
print("GPT-4:", show(gpt4, word), show(gpt4, word[::-1]))
lecture.result("defaultcellstyle_gpt4", len(gpt4.encode(word)), lecture=1)

# %% [markdown]
# **Arithmetic.** How a number is cut depends on the number. In GPT-2 one number is a single token and the next
# is two arbitrary pieces. GPT-4 cuts digits into groups of three from the left, so 1275 is "127" + "5",
# not the "1" + "275" that place value would suggest.

# %%
print(f"{'number':>9}  {'GPT-2':24} {'GPT-4':24}")
for number in [" 127", " 677", " 804", " 1275", " 6773", " 8041", " 1234567"]:
    print(f"{number:>9}  {str(show(gpt2, number)):24} {str(show(gpt4, number)):24}")
lecture.result("split_677_gpt2", "+".join(map(repr, show(gpt2, " 677"))), lecture="' 6'+'77'")

# %% [markdown]
# **Non-English text** costs more tokens for the same meaning. There was less of it in the tokenizer's training
# data, so fewer of its byte sequences got merges, and each character is 3 UTF-8 bytes to begin with:

# %%
sentences = {
    "English": "Hello, how are you today? I hope the weather is nice where you are.",
    "Korean": "안녕하세요, 오늘 어떻게 지내세요? 그곳 날씨가 좋기를 바랍니다.",
    "Japanese": "こんにちは、今日はお元気ですか？そちらの天気が良いといいですね。",
}
print(f"{'language':9} {'chars':>5} {'bytes':>5}  tokens per character: {'GPT-2':>6} {'GPT-4':>6} {'GPT-4o':>6}")
per_char = {}
for language, text in sentences.items():
    per_char[language] = [len(t.encode(text)) / len(text) for t in (gpt2, gpt4, gpt4o)]
    rates = " ".join(f"{r:>6.2f}" for r in per_char[language])
    print(f"{language:9} {len(text):>5} {len(text.encode()):>5}  {'':21} {rates}")
lecture.result("korean_vs_english_gpt4", per_char["Korean"][1] / per_char["English"][1], lecture="-", fmt=".2f")

# %% [markdown]
# **Python.** GPT-2 spends one token per space of indentation, which fills the context with whitespace and hurt
# its coding. GPT-4 merges runs of spaces:

# %%
for name, tokenizer in [("GPT-2", gpt2), ("GPT-4", gpt4)]:
    ids = tokenizer.encode(python_code)
    blank = sum(tokenizer.decode([i]).strip() == "" for i in ids)
    print(f"{name}: {len(ids)} tokens, {blank} of them only whitespace")

# %% [markdown]
# **Trailing whitespace.** In normal text a space belongs to the word after it (" shop"). A prompt that ends in
# a space leaves a lone " " token (220 in GPT-2), a token the model rarely saw in that position. This is why
# some APIs warn about trailing whitespace.

# %%
prompt = "Here is a tag line for an ice cream shop"
for text in [prompt, prompt + " "]:
    ids = gpt2.encode(text)
    print(f"{text!r:45} -> ... {ids[-3:]} {show(gpt2, text)[-3:]}")
lecture.result("trailing_space_token", gpt2.encode(prompt + " ")[-1], lecture=220)

# %% [markdown]
# **Unstable tokens.** The same problem in general: a prompt that ends inside what would be one token. GPT-4
# writes ".DefaultCellStyle" as the single token 98518, so in training the model saw that token and never
# ".Default" + "Cell" + "St" + "y". A prompt ".DefaultCellSty" puts the model at a boundary it never saw, and
# it cannot easily finish the word (in the lecture, the playground's completion ended at once). The same at
# smaller scale: "http:" ends on ":" where text almost always had the one token "://". tiktoken's Rust code has
# a whole section on such "unstable tokens" for completion APIs. A prompt is stable when its tokens are a
# prefix of the tokens of any continuation; for these it is not:

# %%


def is_prefix(short, long):
    return long[: len(short)] == short


for tokenizer, name, full, prompts in [
    (gpt4, "GPT-4", ".DefaultCellStyle", [".DefaultCell", ".DefaultCellSty"]),
    (gpt2, "GPT-2", "http://", ["http", "http:", "http:/"]),
]:
    print(f"{name}: {full!r} -> {tokenizer.encode(full)} {show(tokenizer, full)}")
    for text in prompts:
        ids = tokenizer.encode(text)
        verdict = "stable" if is_prefix(ids, tokenizer.encode(full)) else "UNSTABLE: a boundary the full text never has"
        print(f"    prompt {text!r:18} -> {ids} {show(tokenizer, text)}  {verdict}")
lecture.result("defaultcellsty_gpt4", "+".join(map(repr, show(gpt4, ".DefaultCellSty"))), lecture="-")
lecture.result("http_colon_gpt2", ",".join(map(str, gpt2.encode("http:"))), lecture="-")
lecture.result("http_full_gpt2", ",".join(map(str, gpt2.encode("http://"))), lecture="-")

unstable = sum(not is_prefix(gpt4.encode(word[:cut]), gpt4.encode(word)) for cut in range(1, len(word)))
print(f"{unstable} of the {len(word) - 1} proper prefixes of {word!r} are unstable under GPT-4")
lecture.result("defaultcellstyle_unstable_prefixes", f"{unstable}/{len(word) - 1}", lecture="-")

# %% [markdown]
# **SolidGoldMagikarp.** The tokenizer's training text (with a Reddit user of that name) differed from the
# model's. " SolidGoldMagikarp" became one GPT-2 token, but the model almost never saw it in training, so its
# embedding stayed untrained, and prompting with it gave bizarre output. GPT-4's vocabulary has no such token:

# %%
magikarp = " SolidGoldMagikarp"
print("GPT-2:", gpt2.encode(magikarp), "GPT-4:", show(gpt4, magikarp))
lecture.result("solidgoldmagikarp_gpt2", len(gpt2.encode(magikarp)), lecture=1)

# %% [markdown]
# **JSON vs YAML.** The same data can cost different numbers of tokens. Quotes and braces each cost a token,
# so YAML is usually cheaper:

# %%
records = [
    {"name": "Ada", "role": "engineer", "languages": ["Python", "C"], "active": True},
    {"name": "Grace", "role": "admiral", "languages": ["COBOL"], "active": False},
    {"name": "Linus", "role": "maintainer", "languages": ["C", "Perl"], "active": True},
]
as_json = json.dumps(records, indent=2)


def to_yaml(items):
    lines = []
    for item in items:
        for i, (key, value) in enumerate(item.items()):
            if isinstance(value, bool):
                value = str(value).lower()
            elif isinstance(value, list):
                value = "[" + ", ".join(value) + "]"
            lines.append(("- " if i == 0 else "  ") + f"{key}: {value}")
    return "\n".join(lines) + "\n"


as_yaml = to_yaml(records)
print(as_yaml)
json_yaml = {name: (len(t.encode(as_json)), len(t.encode(as_yaml))) for name, t in [("GPT-2", gpt2), ("GPT-4", gpt4)]}
for name, (n_json, n_yaml) in json_yaml.items():
    print(f"{name}: JSON {n_json} tokens, YAML {n_yaml} tokens")
lecture.result("json_yaml_gpt4", "{}/{}".format(*json_yaml["GPT-4"]), lecture="-")

# %% [markdown]
# ## Final recommendations
#
# - If you can, reuse GPT-4's tokenizer through tiktoken (or `GPT4Tokenizer` here, to read the code).
# - If you train your own, byte-level BPE with a split pattern, as in `RegexTokenizer`, is a good default.
#   sentencepiece's BPE works too, but it has many settings and is easy to misconfigure. Copy Llama 2's
#   settings rather than its defaults.
# - Keep the tokenizer's training mix like the model's, so that no token is left without training, as
#   " SolidGoldMagikarp" was.
# - Treat special tokens as control codes: never let user text produce them.
