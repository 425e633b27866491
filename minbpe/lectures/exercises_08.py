# %% [markdown]
# # Lecture 8 exercises: build your own GPT-4 tokenizer
#
# The minbpe exercise in four steps. Fill in every function whose body is `raise NotImplementedError  # YOUR CODE`,
# then run the file: `python lectures/exercises_08.py` (from `minbpe/`), or run all cells as a notebook. The
# checker at the end compares your functions with this package, and with tiktoken for step 3, on strings you
# have not seen. For each function it prints "not done", "wrong" (then the input that failed, the first value
# that differs, and a hint), "error (...)" or "right". Every function is checked on its own: a later step uses
# your earlier functions only where it says so, and otherwise gets the package's.
#
# 1. A Basic tokenizer: count pairs, merge a pair, train, encode, decode. Try it on `taylorswift.txt` and
#    read the tokens it learns.
# 2. A Regex tokenizer: split the text with GPT-4's pattern first, and never merge across pieces. After
#    retraining, no token mixes letters with spaces, digits or punctuation.
# 3. GPT-4 itself: tiktoken publishes cl100k_base as "mergeable ranks" (token bytes -> id). Recover the
#    merges from them, and the order in which GPT-4 numbers the 256 single bytes. Then encode and decode
#    exactly as tiktoken does.
# 4. Special tokens, with tiktoken's rules: allowed ones become their own id, and any other one in the
#    text is an error.
#
# Step 5 of the original exercise (a Llama-style tokenizer on code points, as sentencepiece does it) is left
# to you, without a checker.

# %%
import regex
import tiktoken

from minbpe import GPT4_SPLIT_PATTERN
from zero_to_hero.lectures import Exercises

# %% [markdown]
# ## Step 1: the Basic tokenizer
#
# Token ids 0..255 are the bytes of the UTF-8 text. Merge number i turns the pair (a, b) into the new id 256 + i.
# `merges` is a dict `{(a, b): new_id}` in the order the merges were learned.


# %%
def get_stats(ids: list[int]) -> dict[tuple[int, int], int]:
    """How many times each adjacent pair occurs in `ids`: {(a, b): count}."""
    raise NotImplementedError  # YOUR CODE


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """`ids` with each occurrence of `pair`, left to right and without overlaps, replaced by `new_id`."""
    raise NotImplementedError  # YOUR CODE


def train_basic(text: str, vocab_size: int) -> dict[tuple[int, int], int]:
    """Merges learned on the UTF-8 bytes of `text`: the most frequent pair each time, ids 256..vocab_size-1.

    Use your get_stats and merge. Any most frequent pair is accepted where several tie."""
    raise NotImplementedError  # YOUR CODE


def encode_basic(text: str, merges: dict[tuple[int, int], int]) -> list[int]:
    """The token ids of `text`: its UTF-8 bytes, merged with the earliest-learned merge first, until none applies."""
    raise NotImplementedError  # YOUR CODE


def decode_basic(ids: list[int], merges: dict[tuple[int, int], int]) -> str:
    """The text of `ids`. Bytes that are not valid UTF-8 become U+FFFD (errors="replace")."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Step 2: the Regex tokenizer
#
# Cut the text into pieces with the split pattern, count pairs within pieces only, and encode each piece on its
# own.


# %%
def split(text: str, pattern: str = GPT4_SPLIT_PATTERN) -> list[str]:
    """The pieces of `text` under `pattern` (the `regex` module understands \\p{L} and possessive quantifiers)."""
    raise NotImplementedError  # YOUR CODE


def train_regex(text: str, vocab_size: int, pattern: str = GPT4_SPLIT_PATTERN) -> dict[tuple[int, int], int]:
    """Like train_basic, but pairs are counted inside each piece of `split(text, pattern)`, summed over pieces."""
    raise NotImplementedError  # YOUR CODE


def encode_regex(text: str, merges: dict[tuple[int, int], int], pattern: str = GPT4_SPLIT_PATTERN) -> list[int]:
    """Each piece encoded as in encode_basic, the ids joined."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Step 3: GPT-4 parity
#
# `tiktoken.get_encoding("cl100k_base")._mergeable_ranks` maps each token's bytes to its id ("rank"). The 256
# single bytes have ranks 0..255, but not in byte order. Each longer token was made by one merge of two
# lower-ranked tokens. tiktoken encodes by joining the adjacent pair of parts whose joined bytes have the lowest
# rank. To find a token's pair, run that same process on the token's own bytes, using only the ranks below the
# token's rank. It ends with exactly two parts.
#
# In this step token ids are tiktoken's ranks, so merges map pairs of ranks to a rank, and `byte_ids[b]` is the
# id of the single byte b.


# %%
def byte_shuffle(ranks: dict[bytes, int]) -> list[int]:
    """byte_ids: byte_ids[b] is the rank of the one-byte token bytes([b]), for b in 0..255."""
    raise NotImplementedError  # YOUR CODE


def recover_merges(ranks: dict[bytes, int]) -> dict[tuple[int, int], int]:
    """{(rank of left part, rank of right part): rank} for every token longer than one byte, in rank order."""
    raise NotImplementedError  # YOUR CODE


def encode_gpt4(text: str, merges: dict[tuple[int, int], int], byte_ids: list[int]) -> list[int]:
    """tiktoken's cl100k_base ids for `text` (no special tokens): split with GPT-4's pattern, map each byte b of a
    piece to byte_ids[b], merge the lowest-ranked pair present until none applies."""
    raise NotImplementedError  # YOUR CODE


def decode_gpt4(ids: list[int], merges: dict[tuple[int, int], int], byte_ids: list[int]) -> str:
    """The text of cl100k_base `ids`, with errors="replace" as tiktoken's decode."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## Step 4: special tokens
#
# `special_tokens` maps each special token's text to its id, e.g. {"<|endoftext|>": 100257}. Where the text
# holds an allowed special token, emit its id. Encode the text between them with `encode_ordinary`. A special
# token that is not allowed must raise ValueError: user text must not be able to inject one. This is
# tiktoken's default.


# %%
def encode_special(text: str, special_tokens: dict[str, int], allowed_special, encode_ordinary) -> list[int]:
    """allowed_special: "all" or a set of special-token texts. encode_ordinary(str) -> ids does the rest."""
    raise NotImplementedError  # YOUR CODE


# %% [markdown]
# ## The checker
#
# Run this cell (or the whole file). It needs tiktoken's cl100k_base ranks (set `TIKTOKEN_CACHE_DIR` offline).

# %%
import random

from minbpe import BasicTokenizer, GPT4Tokenizer, RegexTokenizer, reference

rng = random.Random(8)
WORDS = "the of and a to in tokenizer byte pair merge tokens text GPT Swift 1989 2024 don't HOW'S".split()
ALPHABET = "abcdefghij XYZ 0123456789 .,!?'\n\t 한국어 日本 é 😉"


def hidden_texts(n: int) -> list[str]:
    fixed = ["", "a", "hello world!!!? (안녕하세요!) lol123 😉", "   leading and trailing   ", "x\r\n\n  y", "1234567"]
    random_texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40))) for _ in range(n)]
    return fixed + random_texts


def corpus(n_words: int) -> str:
    return " ".join(rng.choices(WORDS, weights=range(len(WORDS), 0, -1), k=n_words)) + " 안녕 😉 café"


def first_difference(yours, expected) -> str:
    """Where two id lists (or dicts, or strings) first differ, in a few words."""
    if isinstance(expected, dict):
        for key in expected:
            if key not in yours or yours[key] != expected[key]:
                return f"at key {key!r}: yours {yours.get(key, '(missing)')!r}, expected {expected[key]!r}"
        extra = next(iter(set(yours) - set(expected)))
        return f"an extra key {extra!r} = {yours[extra]!r}"
    for i, (a, b) in enumerate(zip(yours, expected, strict=False)):
        if a != b:
            return f"at index {i}: yours {a!r}, expected {b!r}"
    return f"lengths differ: yours {len(yours)}, expected {len(expected)}"


def compare(why, call: str, yours, expected, hint: str) -> bool:
    """True if equal; otherwise note the input (as a call), the first difference and the hint in `why`."""
    if yours == expected:
        return True
    if not isinstance(yours, type(expected)) and not (isinstance(expected, list) and isinstance(yours, list)):
        why.append(f"{call} returned a {type(yours).__name__}, expected a {type(expected).__name__}: {expected!r}")
    else:
        why.append(f"{call}: {first_difference(yours, expected)}")
    why.append(f"hint: {hint}")
    return False


def short(x, limit=60) -> str:
    """repr(x), cut to `limit` characters."""
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def most_frequent_each_time(why, merges, chunks, vocab_size) -> bool:
    """True when `merges` is a valid training result: ids 256.. in order, each pair a most frequent one."""
    if list(merges.values()) != list(range(256, vocab_size)):
        why.append(f"the new ids are {short(list(merges.values()))}, expected 256, 257, ..., {vocab_size - 1}")
        why.append("hint: one merge per new id, vocab_size - 256 of them, numbered in the order they are learned")
        return False
    chunks = [list(c) for c in chunks]
    for step, (pair, new_id) in enumerate(merges.items()):
        counts = {}
        for ids in chunks:
            reference.get_stats(ids, counts)
        if not counts or counts.get(pair, 0) != max(counts.values()):
            best = max(counts, key=counts.get)
            why.append(
                f"merge {step} ({pair} -> {new_id}): that pair occurs {counts.get(pair, 0)} times at that point, "
                f"but {best} occurs {counts[best]} times"
            )
            why.append("hint: after each merge, count the pairs again in the merged ids and take the most frequent")
            return False
        chunks = [reference.merge(ids, pair, new_id) for ids in chunks]
    return True


def check_get_stats(why):
    for _ in range(50):
        ids = [rng.randrange(5) for _ in range(rng.randint(0, 30))]
        expected = {}
        reference.get_stats(ids, expected)
        hint = "count every adjacent pair (ids[i], ids[i + 1]), overlapping ones too: zip(ids, ids[1:])"
        if not compare(why, f"get_stats({ids})", get_stats(list(ids)), expected, hint):
            return False
    return True


def check_merge(why):
    cases = [([1, 1, 1], (1, 1)), ([1, 2, 1, 2, 2], (1, 2)), ([], (1, 2)), ([3], (3, 3))]
    cases += [
        ([rng.randrange(4) for _ in range(rng.randint(0, 30))], (rng.randrange(4), rng.randrange(4))) for _ in range(50)
    ]
    hint = "where the pair matches, emit new_id and skip both (i += 2); else emit ids[i] (i += 1); mind the last one"
    return all(
        compare(why, f"merge({ids}, {pair}, 99)", merge(list(ids), pair, 99), reference.merge(ids, pair, 99), hint)
        for ids, pair in cases
    )


def check_train_basic(why):
    text, size = corpus(300), 256 + 25
    return most_frequent_each_time(why, train_basic(text, size), [text.encode("utf-8")], size)


def check_encode_basic(why):
    tokenizer = BasicTokenizer()
    tokenizer.train(corpus(300), 256 + 40)
    hint = "repeatedly merge the pair with the lowest new id (the earliest learned), until no pair of ids is in merges"
    merges = dict(tokenizer.merges)
    return all(
        compare(why, f"encode_basic({short(s)}, merges)", encode_basic(s, merges), tokenizer.encode(s), hint)
        for s in hidden_texts(30)
    )


def check_decode_basic(why):
    tokenizer = BasicTokenizer()
    tokenizer.train(corpus(300), 256 + 40)
    sequences = [tokenizer.encode(s) for s in hidden_texts(20)] + [[128], [0xE4, 0xB8], [104, 0xFF, 105]]
    sequences += [[rng.randrange(tokenizer.size) for _ in range(rng.randint(0, 10))] for _ in range(30)]
    hint = 'join all the bytes first, then .decode("utf-8", errors="replace"): one token can hold half a character'
    merges = dict(tokenizer.merges)
    return all(
        compare(why, f"decode_basic({ids}, merges)", decode_basic(list(ids), merges), tokenizer.decode(ids), hint)
        for ids in sequences
    )


def check_split(why):
    hint = "regex.findall(pattern, text) (the `regex` module, not `re`)"
    return all(
        compare(why, f"split({short(s)})", split(s), regex.findall(GPT4_SPLIT_PATTERN, s), hint)
        for s in hidden_texts(50)
    )


def check_train_regex(why):
    text, size = corpus(300), 256 + 25
    chunks = [piece.encode("utf-8") for piece in regex.findall(GPT4_SPLIT_PATTERN, text)]
    return most_frequent_each_time(why, train_regex(text, size), chunks, size)


def check_encode_regex(why):
    tokenizer = RegexTokenizer()
    tokenizer.train(corpus(300), 256 + 40)
    hint = "encode each piece of split(text) on its own as encode_basic does, then join the ids"
    merges = dict(tokenizer.merges)
    return all(
        compare(why, f"encode_regex({short(s)}, merges)", encode_regex(s, merges), tokenizer.encode(s), hint)
        for s in hidden_texts(30)
    )


_gpt4 = {}


def gpt4():
    """(our GPT4Tokenizer, tiktoken's cl100k_base), loaded on first use."""
    if not _gpt4:
        _gpt4["ours"], _gpt4["tiktoken"] = GPT4Tokenizer(), tiktoken.get_encoding("cl100k_base")
    return _gpt4["ours"], _gpt4["tiktoken"]


def check_byte_shuffle(why):
    ours, encoding = gpt4()
    hint = "GPT-4 numbers the single bytes in its own order: byte_ids[b] = ranks[bytes([b])]"
    return compare(why, "byte_shuffle(ranks)", list(byte_shuffle(dict(encoding._mergeable_ranks))), ours.byte_ids, hint)


def check_recover_merges(why):
    ours, encoding = gpt4()
    hint = "split each token by re-running the lowest-rank merging on its own bytes with ranks below its rank"
    return compare(
        why, "recover_merges(ranks)", dict(recover_merges(dict(encoding._mergeable_ranks))), ours.merges, hint
    )


def check_encode_gpt4(why):
    ours, encoding = gpt4()
    hint = "map bytes through byte_ids first, split with GPT4_SPLIT_PATTERN, merge the lowest-ranked pair first"
    merges, byte_ids = dict(ours.merges), list(ours.byte_ids)
    return all(
        compare(
            why, f"encode_gpt4({short(s)}, ...)", encode_gpt4(s, merges, byte_ids), encoding.encode_ordinary(s), hint
        )
        for s in hidden_texts(40)
    )


def check_decode_gpt4(why):
    ours, encoding = gpt4()
    sequences = [encoding.encode_ordinary(s) for s in hidden_texts(20)] + [[31495, 230], [15339, 9468, 1917]]
    sequences += [[rng.randrange(100_256) for _ in range(rng.randint(0, 8))] for _ in range(30)]
    hint = 'a single-byte token id i is the byte b with byte_ids[b] == i; join the bytes, then errors="replace"'
    merges, byte_ids = dict(ours.merges), list(ours.byte_ids)
    return all(
        compare(why, f"decode_gpt4({ids}, ...)", decode_gpt4(list(ids), merges, byte_ids), encoding.decode(ids), hint)
        for ids in sequences
    )


def check_encode_special(why):
    ours, encoding = gpt4()
    special = dict(ours.special_tokens)
    texts = [
        "<|endoftext|>hello world",
        "a<|fim_prefix|>b<|fim_suffix|>c<|endoftext|>",
        "no special here",
        "<|endoftext",
    ]
    for text in texts:
        for allowed in ["all", set(), {"<|endoftext|>"}]:
            try:
                expected = encoding.encode(text, allowed_special=allowed)
            except ValueError:
                expected = "ValueError"
            try:
                got = encode_special(text, special, allowed, ours.encode_ordinary)
            except ValueError:
                got = "ValueError"
            hint = (
                "a special token that is not allowed raises ValueError (as tiktoken does)"
                if expected == "ValueError" or got == "ValueError"
                else "split the text at the allowed special tokens; each becomes its id, the rest encode_ordinary"
            )
            if not compare(why, f"encode_special({text!r}, allowed_special={allowed!r})", got, expected, hint):
                return False
    return True


exercises = Exercises()
for name, check in [
    ("step1 get_stats", check_get_stats),
    ("step1 merge", check_merge),
    ("step1 train_basic", check_train_basic),
    ("step1 encode_basic", check_encode_basic),
    ("step1 decode_basic", check_decode_basic),
    ("step2 split", check_split),
    ("step2 train_regex", check_train_regex),
    ("step2 encode_regex", check_encode_regex),
    ("step3 byte_shuffle", check_byte_shuffle),
    ("step3 recover_merges", check_recover_merges),
    ("step3 encode_gpt4", check_encode_gpt4),
    ("step3 decode_gpt4", check_decode_gpt4),
    ("step4 encode_special", check_encode_special),
]:
    why = []  # what the check found, printed under a wrong answer: the input, the first difference, a hint
    status = exercises.check(name, lambda check=check, why=why: check(why))
    if not status.startswith("right"):
        for line in why:
            print(f"    {line}")
exercises.summary()
