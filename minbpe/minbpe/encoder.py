"""The fast encoder: the lecture's encoding (reference.encode_chunk) without its repeated work.

The lecture encodes a chunk by finding, again and again, the adjacent pair that was merged earliest in
training, and merging it; every step looks at every pair. Here:
- `merge_by_scan` keeps the rank of every adjacent pair in a list and, after a merge, looks up only the two pairs
  the new token forms with its neighbours (short chunks);
- `merge_by_rank` keeps the pairs in a heap instead, O(n log n) (long chunks, from HEAP_MIN_IDS ids);
- `replay_merges` replays the merges in the order learned, each one over the whole chunk with str.replace
  (one huge chunk: BasicTokenizer's whole text);
- `PieceEncoder` encodes each distinct piece of text once and keeps the result in a cache.
All give the lecture's ids; the tests check them against reference.py.
"""

import heapq
from itertools import chain, repeat

CACHE_MAX_PIECE = 256  # characters: pieces up to this length (words, mostly) keep their encoding cached
CACHE_MAX_ENTRIES = 1 << 18  # then the cache starts over, so it cannot grow without bound
HEAP_MIN_IDS = 48  # pieces at least this long are merged with the heap (merge_by_rank); shorter ones by scanning
NO_MERGE = 1 << 62  # the rank of a pair that is not a merge: above every real one


def merge_by_scan(ids: list[int], merges: dict[tuple[int, int], int]) -> list[int]:
    """Apply the merges to `ids` (in place), the earliest learned first: for short pieces.

    ranks[i] is the rank of the pair (ids[i], ids[i + 1]): the id its merge makes, so the earliest learned merge
    has the lowest rank. Merge the leftmost pair of the lowest rank (min and index run at C speed), then look up
    only the two pairs the new token forms with its neighbours. A merged pair's new id is above every id that
    existed before it, so no pair it forms can be merged before the other occurrences of the same pair, to its right.
    """
    ranks = list(map(merges.get, zip(ids, ids[1:], strict=False), repeat(NO_MERGE)))
    while ranks:
        best = min(ranks)
        if best == NO_MERGE:
            break
        i = ranks.index(best)
        ids[i : i + 2] = (best,)  # the new token's id is its merge's rank
        del ranks[i]
        if i < len(ranks):
            ranks[i] = merges.get((best, ids[i + 1]), NO_MERGE)
        if i > 0:
            ranks[i - 1] = merges.get((ids[i - 1], best), NO_MERGE)
    return ids


def merge_by_rank(ids: list[int], merges: dict[tuple[int, int], int]) -> list[int]:
    """The same result as `merge_by_scan`, for long pieces: a heap instead of rescanning every pair.

    The tokens form a linked list; the heap holds (rank, position) of every mergeable pair. A merge
    links its two tokens into one and pushes the (at most two) pairs it forms with its neighbours.
    Entries whose pair has changed since they were pushed are skipped when popped. O(n log n).
    """
    n = len(ids)
    ids = list(ids)
    following = list(range(1, n + 1))  # following[i]: position of the next live token (n: none)
    preceding = list(range(-1, n - 1))
    pairs = enumerate(zip(ids, ids[1:], strict=False))
    heap = [(rank, i) for i, pair in pairs if (rank := merges.get(pair)) is not None]
    heapq.heapify(heap)
    while heap:
        rank, i = heapq.heappop(heap)
        j = following[i]
        if ids[i] is None or j >= n or merges.get((ids[i], ids[j])) != rank:
            continue  # stale: a token of this pair was merged into something else since
        ids[i], ids[j] = rank, None  # token j joins token i
        following[i] = following[j]
        if following[i] < n:
            preceding[following[i]] = i
            if (right := merges.get((rank, ids[following[i]]))) is not None:
                heapq.heappush(heap, (right, i))
        if preceding[i] >= 0 and (left := merges.get((ids[preceding[i]], rank))) is not None:
            heapq.heappush(heap, (left, preceding[i]))
    return [token for token in ids if token is not None]


def replay_merges(ids: list[int], merges: dict[tuple[int, int], int]) -> list[int]:
    """The same result again, for one huge chunk: replay the merges in the order learned, each over the whole chunk.

    A pair, once merged, can never appear again, so merging in training order gives the lecture's ids. Holding
    the chunk as a str of chr(id), each merge is one str.replace at C speed.
    """
    text = "".join(map(chr, ids))
    for (a, b), new_id in merges.items():
        text = text.replace(chr(a) + chr(b), chr(new_id))
    return list(map(ord, text))


class PieceEncoder:
    """Encodes pieces of text (the chunks of a split) with one tokenizer's merges, each distinct piece once.

    whole_tokens: pieces that are themselves tokens, {text: (id,)} (see pretrained.py); they are looked up
    before the merges run.
    """

    def __init__(self, merges: dict[tuple[int, int], int], byte_ids: list[int], whole_tokens: dict | None = None):
        self.merges, self.byte_ids = merges, byte_ids
        self.whole_tokens = whole_tokens or {}
        self.cache: dict[str, tuple[int, ...]] = {}  # piece of text -> its token ids

    def encode_piece(self, piece: str) -> tuple[int, ...]:
        """The token ids of one piece of text: its bytes, merged the earliest-learned merge first."""
        ids = list(map(self.byte_ids.__getitem__, piece.encode("utf-8")))
        merge_loop = merge_by_rank if len(ids) >= HEAP_MIN_IDS else merge_by_scan
        return tuple(merge_loop(ids, self.merges))

    def encode(self, pieces: list[str]) -> list[int]:
        """The token ids of `pieces`, one after the other."""
        # Each distinct piece is encoded once and cached; then the ids are looked up and joined at C
        # speed. On English text, nearly all the time goes to the split.
        cache = self.cache
        new = set(pieces).difference(cache)
        whole = new.intersection(self.whole_tokens)
        cache.update({piece: self.whole_tokens[piece] for piece in whole})
        for piece in new.difference(whole):
            cache[piece] = self.encode_piece(piece)
        ids = list(chain.from_iterable(map(cache.__getitem__, pieces)))
        for piece in new:
            if len(piece) > CACHE_MAX_PIECE:  # long runs (whitespace, a whole text) are rarely seen twice
                del cache[piece]
        if len(cache) > CACHE_MAX_ENTRIES:
            cache.clear()
        return ids


if __name__ == "__main__":
    merges = {(97, 97): 256, (256, 97): 257, (257, 98): 258}  # what "aaabdaaabac" learns
    ids = list(b"aaabdaaabac")
    print(merge_by_scan(list(ids), merges), merge_by_rank(ids, merges), replay_merges(ids, merges))
    print(PieceEncoder(merges, list(range(256))).encode(["aaab", "d", "aaab", "ac"]))  # [258, 100, 258, 97, 99]
