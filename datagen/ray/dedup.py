"""Exact and MinHash dedup under keep=smallest_id on Ray, with the driver out of the data path.
The driver holds object refs, per-round flags and counts; every array below lives on the workers
and in the object store.

1. hash (one task per block): the worker produces its block itself (`source()`: rows put in the
   object store, a shard of the parent version, or a seeded generator), drops the rows an earlier
   stage dropped, and returns the block's info (ids, rows, shingle sets) and its (key, id rank,
   gid) entries split into partitions by (band, key), so entries go worker to worker;
2. pairs (one task per partition): entries sorted by (key, id rank, gid); in each bucket every
   member pairs with its smallest and its predecessor (filters.clusters.bucket_pairs, the local
   rule); the pairs are split by the block of their first member;
3. verify (one task per block): exact shingle-set Jaccard against the other blocks' sets, fetched
   by the worker from the object store; edges become (id, gid) node pairs;
4. components (rounds of one task per partition): each task contracts its edges to stars around
   the smallest node of each local component and sends every star edge to the partitions of both
   ends; when no task changes its edges, every component is a star around its smallest (id, gid):
   the record the cluster keeps (ties between equal ids go to the earlier record, as locally);
5. verdicts (one task per block): the dropped rows of the block and the id each one lost to.

gid = block << 32 | position in the block; ids are at most 64 bytes (record ids are sha256 hex).

    refs = dedup_blocks(MinHash(keep="smallest_id"), ray, [RowsBlock(ray.put(rows)), ...])
    ray.get(refs[0]) -> (rows dropped in block 0, ids they lost to, ids block 0 keeps)
"""
from __future__ import annotations

import numpy as np

PARTITIONS = 8
MAX_ROUNDS = 64
NODE = np.dtype([("id", "S64"), ("gid", "<i8")])
LOW = (1 << 32) - 1


class RowsBlock:
    """A block of record rows already in the object store (the driver's records)."""

    def __init__(self, ref) -> None:
        self.ref = ref

    def __call__(self):
        import ray

        from datagen.record import Record

        return [Record.from_row(r) for r in ray.get(self.ref)]


def _id_rank(ids: np.ndarray) -> np.ndarray:
    """The id's first 60 bits (ids are sha256 hex): sorting them sorts the ids."""
    return np.array([int(i[:15] or b"0", 16) for i in ids.tolist()], np.int64)


def _node_part(nodes: np.ndarray, parts: int) -> np.ndarray:
    words = np.frombuffer(np.ascontiguousarray(nodes["id"]).tobytes(), np.uint64).reshape(-1, 8)
    with np.errstate(over="ignore"):
        x = (words[:, 0] ^ words[:, 1] ^ nodes["gid"].astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    return ((x >> np.uint64(33)) % np.uint64(parts)).astype(np.int64)


def _split(values, part: np.ndarray, parts: int) -> list:
    order = np.argsort(part, kind="stable")
    cuts = np.searchsorted(part[order], np.arange(parts + 1))
    return [tuple(v[order[cuts[p]:cuts[p + 1]]] for v in values) for p in range(parts)]


def _hash_block(fn, source, block: int, dropped, per_band: int, shuffle: int):
    from filters.lsh_index import band_keys

    recs = source()
    rows = np.arange(len(recs), dtype=np.int64)
    if dropped is not None and len(dropped[0]):
        rows = np.setdiff1d(rows, dropped[0])
        recs = [recs[i] for i in rows.tolist()]
    ids = np.array([r.id.encode() for r in recs], "S64")
    if any(len(r.id.encode()) > 64 for r in recs):
        raise ValueError("ray dedup needs record ids of at most 64 bytes")
    if not recs:
        return [(ids, rows, None)] + [np.zeros((0, 3), np.int64)] * shuffle
    if hasattr(fn, "num_perm"):  # MinHash: band keys and shingle sets (or signature bits)
        sig, has, sets = fn._hashed(recs)
        idx = fn._index()
        keys = band_keys(sig, idx.bands, idx.rows)
        if sets is None:
            sets = (sig & np.uint32(0xFFFF)).astype(np.uint16)
    else:  # exact: one key a record
        keys = np.array([int(k[:16], 16) for k in fn.map(recs)], np.uint64).reshape(-1, 1)
        has, sets = np.ones(len(recs), bool), None
    n, b = keys.shape
    pos = np.repeat(np.arange(n, dtype=np.int64), b)
    band = np.tile(np.arange(b), n)
    keep = np.repeat(has, b)
    flat = keys.ravel()[keep]
    entries = np.stack([flat.view(np.int64), _id_rank(ids)[pos[keep]], (block << 32) | pos[keep]], 1)
    part = band[keep] * per_band + (flat % np.uint64(per_band)).astype(np.int64)
    pieces = [entries[part == p] for p in range(b * per_band)]
    return [(ids, rows, sets)] + pieces


def _pair_partition(blocks: int, *pieces) -> list:
    """Candidate pairs (gid_u, gid_v) of one partition's buckets, split by the block of u."""
    e = np.concatenate(pieces) if pieces else np.zeros((0, 3), np.int64)
    if len(e) == 0:
        pairs = np.zeros((0, 2), np.int64)
    else:
        e = e[np.lexsort((e[:, 2], e[:, 1], e[:, 0]))]
        same = np.concatenate(([False], e[1:, 0] == e[:-1, 0]))
        start = np.maximum.accumulate(np.where(~same, np.arange(len(e)), 0))
        at = np.flatnonzero(same)
        u = np.concatenate((start[at], at - 1))
        v = np.concatenate((at, at))
        pairs = np.unique(np.stack([e[u, 2], e[v, 2]], 1), axis=0)
    out = [p[0] for p in _split((pairs,), pairs[:, 0] >> 32, blocks)]
    return out if blocks > 1 else out[0]


def _similar(sets_u, pu, sets_v, pv) -> np.ndarray:
    from filters.shingle_sets import pair_jaccard

    if isinstance(sets_u, np.ndarray):  # verify=estimate: 16-bit signature agreement
        return (sets_u[pu] == sets_v[pv]).mean(axis=1)
    return pair_jaccard(sets_u, pu, sets_v, pv)


def _verify(threshold, parts: int, infos: list, info_u, *pieces) -> list:
    """Verified edges of one block's candidate pairs, as (id, gid) nodes routed to their partitions."""
    import ray

    pairs = np.unique(np.concatenate(pieces), axis=0) if pieces else np.zeros((0, 2), np.int64)
    nodes_a, nodes_b = [], []
    for bv in np.unique(pairs[:, 1] >> 32).tolist():
        g = pairs[(pairs[:, 1] >> 32) == bv]
        info_v = info_u if bv == (g[0, 0] >> 32) else ray.get(infos[0][bv])
        pu, pv = g[:, 0] & LOW, g[:, 1] & LOW
        if threshold is not None:
            ok = _similar(info_u[2], pu, info_v[2], pv) >= threshold
            g, pu, pv = g[ok], pu[ok], pv[ok]
        a, b = np.empty(len(g), NODE), np.empty(len(g), NODE)
        a["id"], a["gid"], b["id"], b["gid"] = info_u[0][pu], g[:, 0], info_v[0][pv], g[:, 1]
        nodes_a.append(a)
        nodes_b.append(b)
    a = np.concatenate(nodes_a) if nodes_a else np.zeros(0, NODE)
    b = np.concatenate(nodes_b) if nodes_b else np.zeros(0, NODE)
    flip = (a["id"] < b["id"]) | ((a["id"] == b["id"]) & (a["gid"] < b["gid"]))
    leaf, root = np.where(flip, b, a), np.where(flip, a, b)  # leaf > root
    return _route(leaf, root, parts)


def _route(leaf: np.ndarray, root: np.ndarray, parts: int) -> list:
    """Each edge to the partition of each end (once when both ends share one)."""
    pl, pr = _node_part(leaf, parts), _node_part(root, parts)
    two = pl != pr
    out = _split((np.concatenate([leaf, leaf[two]]), np.concatenate([root, root[two]])),
                 np.concatenate([pl, pr[two]]), parts)
    return out if parts > 1 else out[0]


def _cc_round(parts: int, *pieces) -> list:
    """Contract one partition's edges to stars around each local component's smallest node;
    the last value says whether the edges were already such stars (nothing changed)."""
    from filters.clusters import components

    leaf = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, NODE)
    root = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, NODE)
    nodes, inv = np.unique(np.concatenate([leaf, root]), return_inverse=True)
    inv = inv.ravel()
    m, n = len(leaf), len(nodes)
    label = components(n, inv[:m], inv[m:])
    moved = np.flatnonzero(label != np.arange(n))
    before = np.unique(inv[:m] * n + inv[m:])
    stable = np.array_equal(before, np.sort(moved * n + label[moved]))
    routed = _route(nodes[moved], nodes[label[moved]], parts)
    return (routed if parts > 1 else [routed]) + [stable]


def _leaves_by_block(p: int, parts: int, blocks: int, *pieces) -> list:
    """After the last round: the partition's own leaves (rows lost, id won) split by block."""
    leaf = np.concatenate([q[0] for q in pieces]) if pieces else np.zeros(0, NODE)
    root = np.concatenate([q[1] for q in pieces]) if pieces else np.zeros(0, NODE)
    mine = _node_part(leaf, parts) == p
    leaf, root = leaf[mine], root[mine]
    first = np.unique(leaf["gid"], return_index=True)[1]
    leaf, root = leaf[first], root[first]
    out = _split((leaf["gid"] & LOW, root["id"]), leaf["gid"] >> 32, blocks)
    return out if blocks > 1 else out[0]


def _block_verdicts(info, *pieces) -> tuple:
    """(rows of the block dropped, ids they lost to, ids kept), rows in the block's own numbering."""
    pos = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.int64)
    won = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, "S64")
    rows = info[1][pos]
    order = np.argsort(rows)
    return rows[order], won[order], np.delete(info[0], pos)


def dedup_blocks(fn, ray, sources: list, dropped: list | None = None, partitions: int = PARTITIONS,
                 stats: dict | None = None) -> list:
    """Per block, an object ref to (dropped rows, winner ids, kept ids) of `fn` (ExactDup or MinHash,
    keep=smallest_id) over the blocks' records in order, rows dropped[b] left out (an earlier stage).
    stats, if given, gets the number of component rounds under "rounds"."""
    blocks = len(sources)
    if not blocks:
        return []
    bands = fn._index().bands if hasattr(fn, "num_perm") else 1
    per_band = max(1, partitions // bands)
    shuffle = bands * per_band
    hashed = [ray.remote(num_returns=shuffle + 1)(_hash_block).remote(
        fn, src, b, None if dropped is None else dropped[b], per_band, shuffle) for b, src in enumerate(sources)]
    infos = [h[0] for h in hashed]
    pair_task = ray.remote(num_returns=blocks)(_pair_partition)
    pairs = [pair_task.remote(blocks, *[h[1 + p] for h in hashed]) for p in range(shuffle)]
    pairs = [p if blocks > 1 else [p] for p in pairs]
    del hashed
    threshold = fn.threshold if hasattr(fn, "num_perm") else None
    verify = ray.remote(num_returns=partitions)(_verify)
    edges = [verify.remote(threshold, partitions, [infos], infos[b], *[p[b] for p in pairs]) for b in range(blocks)]
    edges = [e if partitions > 1 else [e] for e in edges]
    del pairs
    inputs = [[e[p] for e in edges] for p in range(partitions)]
    cc = ray.remote(num_returns=partitions + 1)(_cc_round)
    for rounds in range(1, MAX_ROUNDS + 1):
        outs = [cc.remote(partitions, *inputs[p]) for p in range(partitions)]
        inputs = [[o[q] for o in outs] for q in range(partitions)]
        if all(ray.get([o[partitions] for o in outs])):
            break
    else:
        raise RuntimeError(f"connected components did not settle in {MAX_ROUNDS} rounds")
    if stats is not None:
        stats.setdefault("rounds", []).append(rounds)
    split = ray.remote(num_returns=blocks)(_leaves_by_block)
    leaves = [split.remote(p, partitions, blocks, *inputs[p]) for p in range(partitions)]
    leaves = [x if blocks > 1 else [x] for x in leaves]
    verdict = ray.remote(_block_verdicts)
    return [verdict.remote(infos[b], *[x[b] for x in leaves]) for b in range(blocks)]


def dedup_reason(fn) -> str:
    """The rejection reason of an ExactDup or MinHash stage."""
    return "near_duplicate" if hasattr(getattr(fn, "inner", fn), "num_perm") else "exact_duplicate"


def cluster_dedup(fn, ray, records, block_size: int = 2048, partitions: int = PARTITIONS) -> list:
    """Verdicts of `fn` (ExactDup or MinHash with keep=smallest_id) computed on Ray; equal to fn(records).
    The records' rows go to the object store block by block; verdicts come back block by block."""
    if not records:
        return []
    sources = [RowsBlock(ray.put([r.to_row() for r in records[lo:lo + block_size]]))
               for lo in range(0, len(records), block_size)]
    reason = dedup_reason(fn)
    out: list = []
    for lo, ref in zip(range(0, len(records), block_size), dedup_blocks(fn, ray, sources, partitions=partitions)):
        rows, won, _ = ray.get(ref)
        verdicts = [None] * len(records[lo:lo + block_size])
        for r, w in zip(rows.tolist(), won.tolist()):
            verdicts[r] = (reason, w.decode())
        out += verdicts
    return out
