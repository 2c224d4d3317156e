"""The `smallest_id` rule of exact and MinHash dedup: duplicates form clusters (connected components
over the duplicate pairs) and each cluster keeps the record with the smallest id. Every step is
keyed by id, never by position, so the kept set does not depend on the order of the input: the rule
a distributed run (hash or band-key shuffle, then connected components) reproduces exactly.

`first` (the default) is the streaming rule: a record is dropped when it duplicates an earlier
*kept* record. The two differ on chains: with A~B and B~C but not A~C, `first` keeps A and C,
`smallest_id` keeps only the smallest of A, B, C (as datatrove's and text-dedup's MinHash clusters do).

    components(4, np.array([0, 2]), np.array([1, 3])) -> array([0, 0, 2, 2])
"""
from __future__ import annotations

import numpy as np

KEEP_RULES = ("first", "smallest_id")


def check_keep(keep: str) -> None:
    if keep not in KEEP_RULES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_RULES)}, got {keep!r}")


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Label of each of n nodes = the smallest node of its connected component (edges u[i]-v[i]).
    Min-label propagation with pointer jumping: each round is a few vectorized passes over the
    edges, as in a distributed connected-components job."""
    label = np.arange(n, dtype=np.int64)
    if len(u) == 0:
        return label
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    while True:
        m = np.minimum(label[u], label[v])
        before = label.copy()
        np.minimum.at(label, u, m)
        np.minimum.at(label, v, m)
        while True:  # pointer jumping: label of my label
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label, before):
            return label


def id_ranks(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(rank of each position in id order, position of each rank)."""
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), np.int64)
    rank = np.empty(len(ids), np.int64)
    rank[order] = np.arange(len(ids))
    return rank, order


def keep_smallest(ids: list[str], u: np.ndarray, v: np.ndarray) -> list[str | None]:
    """Per position: None if it is the smallest id of its cluster, else that smallest id.
    u, v: positions of duplicate pairs."""
    rank, order = id_ranks(ids)
    label = components(len(ids), rank[np.asarray(u, np.int64)], rank[np.asarray(v, np.int64)])
    winner = order[label[rank]]  # position of the smallest id of each position's cluster
    return [None if w == i else ids[w] for i, w in enumerate(winner.tolist())]


def bucket_pairs(keys: np.ndarray, rank: np.ndarray, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (positions) from band keys (n, bands): within each bucket, ordered by id rank,
    every member is paired with the bucket's smallest and with its predecessor. Linear in the
    bucket size (a bucket of many copies stays cheap) and independent of the input order."""
    us, vs = [], []
    pos = np.flatnonzero(has)
    for b in range(keys.shape[1]):
        k, r = keys[pos, b], rank[pos]
        order = np.lexsort((r, k))
        k, p = k[order], pos[order]
        same = np.concatenate(([False], k[1:] == k[:-1]))
        if not same.any():
            continue
        start = np.maximum.accumulate(np.where(~same, np.arange(len(k)), 0))
        idx = np.flatnonzero(same)
        us += [p[start[idx]], p[idx - 1]]
        vs += [p[idx], p[idx]]
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pair = np.unique(np.stack([np.concatenate(us), np.concatenate(vs)], 1), axis=0)
    return pair[:, 0], pair[:, 1]


def near_duplicate_clusters(ids: list[str], keys: np.ndarray, has: np.ndarray, similar, threshold: float,
                            block: int = 1 << 20) -> list[str | None]:
    """MinHash under keep=smallest_id: candidate pairs from the band keys, each verified by
    `similar(u, v) -> similarity per pair` >= threshold, then clusters keep their smallest id."""
    rank, _ = id_ranks(ids)
    u, v = bucket_pairs(keys, rank, has)
    ok = np.zeros(len(u), bool)
    for lo in range(0, len(u), block):
        ok[lo:lo + block] = similar(u[lo:lo + block], v[lo:lo + block]) >= threshold
    return keep_smallest(ids, u[ok], v[ok])
