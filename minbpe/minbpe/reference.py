"""The lecture's BPE, kept as it was taught: what `reference=True` runs, the oracle that the fast code
(training.py, encoder.py) is tested against, and the baseline in bench.py.

Training recounts every adjacent pair of every chunk after every merge; encoding a chunk rescans
all its pairs for each merge it applies. Both are easy to check by eye, and both are slow: a merge
costs time in proportion to the whole text, not to the places where the pair occurs.
"""


def get_stats(ids: list[int], counts: dict[tuple[int, int], int] | None = None) -> dict[tuple[int, int], int]:
    """Add the number of occurrences of each adjacent pair in `ids` to `counts` (a new dict by default); return it.
    Pairs enter the dict in the order they first occur."""
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:], strict=False):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of `pair` in `ids` by `new_id`, left to right, without overlap."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def best_pair(counts: dict[tuple[int, int], int]) -> tuple[int, int]:
    """The most frequent pair; among equally frequent pairs, the first one counted. `counts` is filled in text
    order, so that is the pair that occurs first in the text (the original minbpe's rule; the fast trainer's)."""
    return max(counts, key=counts.get)  # max keeps the first of equal values


def learn_merges(chunks: list[list[int]], first_id: int, num_merges: int):
    """Yield `(pair, new_id, count)` for up to `num_merges` merges; `chunks` holds every chunk of the text.

    The same merges, in the same order, as `training.learn_merges`, which the tests check.
    """
    for new_id in range(first_id, first_id + num_merges):
        counts = {}
        for ids in chunks:
            get_stats(ids, counts)
        if not counts:
            return
        pair = best_pair(counts)
        chunks = [merge(ids, pair, new_id) for ids in chunks]
        yield pair, new_id, counts[pair]


def encode_chunk(ids: list[int], merges: dict[tuple[int, int], int]) -> list[int]:
    """Apply the earliest-learned merge (the lowest new id) present in `ids`, until none is."""
    while len(ids) >= 2:
        pair = min(zip(ids, ids[1:], strict=False), key=lambda p: merges.get(p, float("inf")))
        if pair not in merges:
            break
        ids = merge(ids, pair, merges[pair])
    return ids
