"""Exact and MinHash dedup under keep=smallest_id on Ray, with no ordered pass on the driver:

1. hash (one task per block, on the workers): exact keys, or MinHash band keys and shingle sets; each
   block's (band, key, id rank, row) entries are split into P partitions by key, returned as
   separate objects, so they go worker to worker;
2. shuffle (one task per partition): the entries of one partition from every block, sorted by
   (band, key, id); each bucket pairs every member with its smallest and with its predecessor -
   the pairs filters.clusters.bucket_pairs makes locally, since a bucket lies in one partition;
3. verify (one task per pair of blocks holding candidates): exact shingle-set Jaccard on the
   workers, from the blocks' sets in the object store;
4. clusters: connected components over the verified edges keep the smallest id of each
   (filters.clusters.keep_smallest, the local rule), so the kept ids equal the local filter's.

The driver holds the ids, the verified edges and the verdicts; never signatures or shingle sets.
The records still reach the workers from the driver's list (`datagen filter` gathers them for a
filter that needs every record); workers reading the parent's shards themselves is the next step.

    cluster_dedup(MinHash(keep="smallest_id"), ray, records, block_size=2048) -> [None, ("near_duplicate", id), ...]
"""
from __future__ import annotations

import numpy as np

PARTITIONS = 8


def _id_rank(ids: list[str]) -> np.ndarray:
    """The id's first 60 bits (ids are sha256 hex): sorting them sorts the ids."""
    return np.array([int(i[:15], 16) for i in ids], np.int64)


def _hash_block(fn, rows: list[dict], block: int, partitions: int):
    from datagen.record import Record
    from filters.lsh_index import band_keys

    recs = [Record.from_row(r) for r in rows]
    ids = [r.id for r in recs]
    if hasattr(fn, "num_perm"):  # MinHash: band keys and shingle sets
        sig, has, sets = fn._hashed(recs)
        idx = fn._index()
        keys = band_keys(sig, idx.bands, idx.rows)
    else:  # exact: one key a record
        keys = np.array([[int(k[:16], 16)] for k in fn.map(recs)], np.uint64).reshape(-1, 1)
        has, sets = np.ones(len(recs), bool), None
    n, b = keys.shape
    row = np.repeat(np.arange(n), b)
    band = np.tile(np.arange(b), n)
    flat = keys.ravel()
    keep = np.repeat(has, b)
    entries = np.stack([band[keep], flat[keep].view(np.int64), np.repeat(_id_rank(ids), b)[keep],
                        np.full(int(keep.sum()), block), row[keep]], 1)
    part = (flat[keep] % np.uint64(partitions)).astype(np.int64)
    return [(ids, sets)] + [entries[part == p] for p in range(partitions)]


def _pair_partition(*pieces) -> np.ndarray:
    """Candidate pairs (block_u, row_u, block_v, row_v) of one partition's buckets."""
    e = np.concatenate(pieces) if pieces else np.zeros((0, 5), np.int64)
    if len(e) == 0:
        return np.zeros((0, 4), np.int64)
    e = e[np.lexsort((e[:, 2], e[:, 1], e[:, 0]))]
    same = np.concatenate(([False], (e[1:, 0] == e[:-1, 0]) & (e[1:, 1] == e[:-1, 1])))
    start = np.maximum.accumulate(np.where(~same, np.arange(len(e)), 0))
    at = np.flatnonzero(same)
    u = np.concatenate((start[at], at - 1))
    v = np.concatenate((at, at))
    return np.unique(np.concatenate((e[u][:, 3:5], e[v][:, 3:5]), 1), axis=0)


def _verify(pairs: np.ndarray, threshold: float, info_u, info_v) -> np.ndarray:
    from filters.shingle_sets import pair_jaccard

    sims = pair_jaccard(info_u[1], pairs[:, 1], info_v[1], pairs[:, 3])
    return pairs[sims >= threshold]


def cluster_dedup(fn, ray, records, block_size: int = 2048, partitions: int = PARTITIONS) -> list:
    """Verdicts of `fn` (ExactDup or MinHash with keep=smallest_id) computed on Ray; equal to fn(records)."""
    from filters.clusters import keep_smallest

    if not records:
        return []
    hash_task = ray.remote(num_returns=partitions + 1)(_hash_block)
    pair_task, verify_task = ray.remote(_pair_partition), ray.remote(_verify)
    blocks = [records[lo:lo + block_size] for lo in range(0, len(records), block_size)]
    outs = [hash_task.remote(fn, [r.to_row() for r in blk], b, partitions) for b, blk in enumerate(blocks)]
    infos = [o[0] for o in outs]
    pairs = [p for p in ray.get([pair_task.remote(*[o[1 + p] for o in outs]) for p in range(partitions)]) if len(p)]
    edges = np.unique(np.concatenate(pairs), axis=0) if pairs else np.zeros((0, 4), np.int64)
    if hasattr(fn, "num_perm") and len(edges):  # MinHash: verify per pair of blocks, on the workers
        groups = {}
        for bu, bv in np.unique(edges[:, [0, 2]], axis=0).tolist():
            groups[(bu, bv)] = edges[(edges[:, 0] == bu) & (edges[:, 2] == bv)]
        done = [verify_task.remote(g, fn.threshold, infos[bu], infos[bv]) for (bu, bv), g in groups.items()]
        kept = [e for e in ray.get(done) if len(e)]
        edges = np.concatenate(kept) if kept else np.zeros((0, 4), np.int64)
    offset = np.cumsum([0] + [len(b) for b in blocks])
    u, v = offset[edges[:, 0]] + edges[:, 1], offset[edges[:, 2]] + edges[:, 3]
    reason = "near_duplicate" if hasattr(fn, "num_perm") else "exact_duplicate"
    winners = keep_smallest([r.id for r in records], u, v)
    return [None if w is None else (reason, w) for w in winners]
