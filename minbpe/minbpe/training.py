"""The BPE training loop: repeatedly merge the most frequent adjacent pair of tokens.

Every tokenizer here trains through `learn_merges`; they differ only in how they cut the text into
chunks (the whole text, or regex pieces). Merges never cross a chunk boundary.
"""

import heapq
from collections import Counter, defaultdict


def _find_all(word: str, pair: str) -> list[int]:
    """Start of every occurrence of `pair` in `word`, left to right without overlap (like str.replace)."""
    starts = []
    i = word.find(pair)
    while i != -1:
        starts.append(i)
        i = word.find(pair, i + 2)
    return starts


def _touched_pairs(word: str, merged: str, starts: list[int]) -> tuple[list[str], list[str]]:
    """The pairs that a merge removed from `word` and the pairs it created in `merged`.

    Only pairs that overlap a merged occurrence change; every other pair of neighbours is still there.
    After t earlier merges in this word, the occurrence at `i` has moved to `i - t` in `merged`.
    """
    old = {j for i in starts for j in (i - 1, i, i + 1) if 0 <= j < len(word) - 1}
    new = {j for t, i in enumerate(starts) for j in (i - t - 1, i - t) if 0 <= j < len(merged) - 1}
    return [word[j : j + 2] for j in old], [merged[j : j + 2] for j in new]


def learn_merges(chunks: dict[tuple[int, ...], int], first_id: int, num_merges: int):
    """Yield `(pair, new_id, count)` for up to `num_merges` merges, the most frequent pair first.

    chunks: each distinct chunk (a sequence of token ids) -> how many times it occurs in the text.
    Ties go to the smallest pair, so training is deterministic. Stops early when no pair is left.
    Each merge costs time in proportion to its occurrences, not to the length of the text.
    """
    # A chunk is held as a str whose characters are token ids, chr(id): str.find and str.replace
    # then find and merge a pair's occurrences at C speed, left to right without overlap.
    words = ["".join(map(chr, ids)) for ids in chunks]
    weights = list(chunks.values())
    counts = Counter()  # pair (a 2-character str) -> occurrences in the text
    where = defaultdict(set)  # pair -> the chunks that may contain it (stale entries are harmless)
    for w, word in enumerate(words):
        for j in range(len(word) - 1):
            counts[word[j : j + 2]] += weights[w]
            where[word[j : j + 2]].add(w)
    # A max-heap of (-count, pair); an entry whose count has changed since it was pushed is skipped.
    heap = [(-count, pair) for pair, count in counts.items()]
    heapq.heapify(heap)

    for new_id in range(first_id, first_id + num_merges):
        while heap and counts.get(heap[0][1]) != -heap[0][0]:
            heapq.heappop(heap)
        if not heap:
            return
        _, pair = heapq.heappop(heap)
        count, new = counts[pair], chr(new_id)
        changed = Counter()
        for w in where.pop(pair):
            starts = _find_all(words[w], pair)
            if not starts:
                continue
            merged = words[w].replace(pair, new)
            removed, created = _touched_pairs(words[w], merged, starts)
            for p in removed:
                changed[p] -= weights[w]
            for p in created:
                changed[p] += weights[w]
                where[p].add(w)
            words[w] = merged
        for p, delta in changed.items():
            if delta:
                counts[p] += delta
                if counts[p]:
                    heapq.heappush(heap, (-counts[p], p))
                else:
                    del counts[p]
        assert pair not in counts, "a merged pair cannot reappear"
        yield (ord(pair[0]), ord(pair[1])), new_id, count


if __name__ == "__main__":
    # The Wikipedia example: "aaabdaaabac" learns aa, then ab... three merges.
    for pair, new_id, count in learn_merges({tuple(b"aaabdaaabac"): 1}, 256, 3):
        print(f"{pair} -> {new_id} ({count} occurrences)")
