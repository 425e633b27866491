"""tiktoken's view of a BPE vocabulary, and ours: converting between the two.

tiktoken keeps "mergeable ranks": token bytes -> rank, and encodes by merging, again and again,
the adjacent pair whose concatenation has the lowest rank. We keep the merges themselves,
(a, b) -> new id. A token's merge is recovered by running tiktoken's algorithm on the token's own
bytes with only the ranks below its own: the last step joins exactly two parts, its pair.
"""


def byte_pair_split(token: bytes, ranks: dict[bytes, int], max_rank: int) -> list[bytes]:
    """tiktoken's BPE on `token`, using only ranks below `max_rank`: the parts it ends with."""
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 1:
        best_rank, best = max_rank, None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1], max_rank)
            if rank < best_rank:  # strictly lower: ties go to the leftmost pair, as in tiktoken
                best_rank, best = rank, i
        if best is None:
            break
        parts[best : best + 2] = [parts[best] + parts[best + 1]]
    return parts


def merges_from_ranks(ranks: dict[bytes, int]) -> tuple[dict[tuple[int, int], int], list[int]]:
    """(merges, byte_ids) equivalent to tiktoken's `ranks`: token ids are the ranks.

    Ranks must be 0..n-1 with the 256 single bytes first (in any order: GPT-2 and GPT-4 permute them).
    """
    if sorted(ranks.values()) != list(range(len(ranks))):
        raise ValueError("mergeable ranks must be 0..n-1, each once")
    byte_ids = [-1] * 256
    for token, rank in ranks.items():
        if len(token) == 1:
            byte_ids[token[0]] = rank
    if sorted(byte_ids) != list(range(256)):
        raise ValueError("mergeable ranks must give ranks 0..255 to the 256 single bytes")
    merges = {}
    for token, rank in sorted(ranks.items(), key=lambda item: item[1])[256:]:
        parts = byte_pair_split(token, ranks, rank)
        if len(parts) != 2:
            raise ValueError(f"token {token!r} (rank {rank}) is not a merge of two lower-ranked tokens")
        merges[ranks[parts[0]], ranks[parts[1]]] = rank
    return merges, byte_ids


def ranks_from_merges(vocab: dict[int, bytes], merges: dict[tuple[int, int], int]) -> dict[bytes, int]:
    """Mergeable ranks for tiktoken that encode exactly like `merges`, or ValueError if there are none.

    tiktoken only sees bytes, so every token needs distinct bytes, and tiktoken's algorithm must
    rebuild each token from its own pair; training on id sequences does not guarantee either.
    """
    ranks = {}
    for token_id in range(256 + len(merges)):
        if vocab[token_id] in ranks:
            raise ValueError(
                f"tokens {ranks[vocab[token_id]]} and {token_id} have the same bytes {vocab[token_id]!r}; "
                "tiktoken cannot tell them apart"
            )
        ranks[vocab[token_id]] = token_id
    for (a, b), new_id in merges.items():
        if byte_pair_split(vocab[new_id], ranks, new_id) != [vocab[a], vocab[b]]:
            raise ValueError(f"tiktoken's byte-level BPE does not rebuild token {new_id} from its merge ({a}, {b})")
    return ranks


if __name__ == "__main__":
    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256, b"abc": 257}
    merges, byte_ids = merges_from_ranks(ranks)
    print(merges)  # {(97, 98): 256, (256, 99): 257}
