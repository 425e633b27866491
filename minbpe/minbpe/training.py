"""The fast BPE training loop: the lecture's algorithm (reference.py), without its repeated work.

Every tokenizer here trains through `learn_merges`; they differ only in how they cut the text into
chunks (the whole text, or regex pieces). Merges never cross a chunk boundary. Three ideas make a
merge cost time in proportion to its occurrences rather than to the whole text:
- each distinct chunk is kept once, with its count (a word that occurs 500 times is merged once);
- pair counts are updated only around the places where a merge happened;
- the next pair comes from a heap of (-count, pair); an entry whose count has changed since it was
  pushed is stale and skipped when it reaches the top ("lazy invalidation").
Ties go to the pair that occurs first in the text as it stands (the original minbpe's rule: `max` over a
dict filled in text order), as in reference.py, so both learn the same merges in the same order. The chunks
come in the order of their first appearance, so "first in the text" is the first chunk that holds the pair,
then the pair's first position in it.
"""

import heapq
from collections import defaultdict
from operator import add


def _pairs(word: str):
    """The adjacent pairs of a word, as 2-character strings."""
    return map(add, word, word[1:])


def _merge_deltas(word: str, merged: str, pair: str, first: int):
    """Yield (pair, -1) for each pair the merge removed from `word` and (pair, +1) for each it created.

    `first` is where `pair` first occurs. Only pairs that overlap a merged occurrence change. Most
    chunks hold the pair once; with more occurrences, the t-th (from 0) has moved to i - t in `merged`.
    """
    if word.find(pair, first + 2) < 0:  # the common case: one occurrence, at most 2 pairs out, 2 in
        i = first
        if i > 0:
            yield word[i - 1 : i + 1], -1
            yield merged[i - 1 : i + 1], +1
        if i + 2 < len(word):
            yield word[i + 1 : i + 3], -1
            yield merged[i : i + 2], +1
        return
    starts, i = [], first
    while i >= 0:  # left to right without overlap, as str.replace merged them
        starts.append(i)
        i = word.find(pair, i + 2)
    for j in {j for i in starts for j in (i - 1, i + 1) if 0 <= j < len(word) - 1}:
        yield word[j : j + 2], -1
    for j in {j for t, i in enumerate(starts) for j in (i - t - 1, i - t) if 0 <= j < len(merged) - 1}:
        yield merged[j : j + 2], +1


def learn_merges(chunks: dict[tuple[int, ...], int], first_id: int, num_merges: int):
    """Yield `(pair, new_id, count)` for up to `num_merges` merges, the most frequent pair first.

    chunks: each distinct chunk (a sequence of token ids) -> how many times it occurs in the text.
    Stops early when no pair is left.
    """
    # A chunk is held as a str whose characters are token ids, chr(id): str.find and str.replace
    # then find and merge a pair's occurrences at C speed, left to right without overlap.
    words = ["".join(map(chr, ids)) for ids in chunks]
    weights = list(chunks.values())
    counts = {}  # pair (a 2-character str) -> occurrences in the text
    where = defaultdict(list)  # pair -> the chunks that may contain it (repeats and stale entries are harmless)
    for w, (word, weight) in enumerate(zip(words, weights, strict=True)):
        for pair in _pairs(word):
            counts[pair] = counts.get(pair, 0) + weight
            where[pair].append(w)
    heap = [(-count, pair) for pair, count in counts.items()]
    heapq.heapify(heap)

    # Ties: "first in the text" is the first chunk that holds the pair, then the pair's position in it. The
    # chunk is cached (it changes only when a merge adds or removes occurrences of the pair, which forgets it);
    # positions are compared afresh, within that one chunk, when two tied pairs share it.
    first_chunk = {}  # pair -> the first chunk holding it, while still valid

    def chunk_of(pair: str) -> int:
        if pair not in first_chunk:
            first_chunk[pair] = min(w for w in set(where[pair]) if pair in words[w])
        return first_chunk[pair]

    def first_in_text(tied) -> str:
        w = min(map(chunk_of, tied))
        return min((p for p in tied if chunk_of(p) == w), key=words[w].find)

    for new_id in range(first_id, first_id + num_merges):
        while heap and counts.get(heap[0][1]) != -heap[0][0]:
            heapq.heappop(heap)  # stale: the pair's count changed after this entry was pushed
        if not heap:
            return
        _, pair = heapq.heappop(heap)
        tied = {pair}  # every other pair with the same count: the one that occurs first in the text wins
        while heap and -heap[0][0] == counts[pair]:
            _, other = heapq.heappop(heap)
            if counts.get(other) == counts[pair]:  # (stale entries go; a set drops repeated ones)
                tied.add(other)
        if len(tied) > 1:
            pair = first_in_text(tied)
            for other in tied:
                if other != pair:
                    heapq.heappush(heap, (-counts[other], other))
        count, new = counts.pop(pair), chr(new_id)
        first_chunk.pop(pair, None)
        changed = defaultdict(int)  # pair -> change in its count
        for w in set(where.pop(pair)):
            word = words[w]
            first = word.find(pair)
            if first < 0:
                continue  # a stale entry: an earlier merge took this chunk's occurrences
            words[w] = word.replace(pair, new)
            for p, sign in _merge_deltas(word, words[w], pair, first):
                changed[p] += sign * weights[w]
                if sign > 0:
                    where[p].append(w)
        for p, delta in changed.items():
            first_chunk.pop(p, None)  # its occurrences changed (even if their count did not)
            if delta and p != pair:  # the merged pair itself is gone for good
                counts[p] = counts.get(p, 0) + delta
                if counts[p]:
                    heapq.heappush(heap, (-counts[p], p))
                else:
                    del counts[p]
        yield (ord(pair[0]), ord(pair[1])), new_id, count


if __name__ == "__main__":
    # The Wikipedia example: "aaabdaaabac" learns aa, then ab... three merges.
    for pair, new_id, count in learn_merges({tuple(b"aaabdaaabac"): 1}, 256, 3):
        print(f"{pair} -> {new_id} ({count} occurrences)")
