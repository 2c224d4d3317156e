"""`datagen filter --executor ray` with leading keep=smallest_id dedup filters: the workers read the
parent's shards themselves (the shard list is in the manifest) and dedup them on Ray
(datagen/ray/dedup.py); the driver streams the parent shard by shard, holding one shard's verdicts
(dropped rows and the ids they lost to) and one batch, and hands the survivors to the filters that
follow. Same kept records, rejections and funnel as the local filters.

    n = cluster_prefix(fns)        # how many leading filters run this way
    batches, funnel = shard_dedup(ray, parent, fns[:n], out.reject)
    stream_filters(fns[n:], batches, ...)   # funnel is complete once batches are consumed
"""
from __future__ import annotations

import numpy as np

from datagen.versions import Rejection
from datagen.record import Record
from datagen.versions.shards import BATCH_ROWS, iter_parquet


class ShardBlock:
    """One parquet shard of a version, read where it is called (a worker)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> list[Record]:
        return [Record.from_row(r) for batch in iter_parquet([self.path]) for r in batch.to_pylist()]


def cluster_fn(fn):
    """The ExactDup or MinHash inside a distributed filter, if it keeps the smallest id; else None."""
    from filters.dedup import ExactDup
    from filters.minhash import MinHash

    inner = getattr(fn, "inner", fn)
    ok = isinstance(inner, (ExactDup, MinHash)) and getattr(inner, "keep", "") == "smallest_id"
    return inner if ok else None


def cluster_prefix(fns: list) -> int:
    """How many of the leading (name, filter) pairs are keep=smallest_id dedup."""
    n = 0
    while n < len(fns) and cluster_fn(fns[n][1]) is not None:
        n += 1
    return n


def shard_sources(parent) -> list[ShardBlock]:
    """One block a shard of `parent`, each checked against its sha256 before the workers read it."""
    return [ShardBlock(str(parent.checked(f).resolve())) for f in parent.files("records")]


def _union(a, b) -> tuple:
    """Rows dropped by either of two stages (the winners are not needed downstream)."""
    return np.union1d(a[0], b[0]), None


def dedup_stages(ray, sources: list, lead: list) -> list[list]:
    """Per leading dedup filter, its per-block verdict refs; each stage sees what the earlier left."""
    from datagen.ray.dedup import dedup_blocks

    union = ray.remote(_union)
    stages, dropped = [], None
    for _, fn in lead:
        refs = dedup_blocks(cluster_fn(fn), ray, sources, dropped=dropped)
        stages.append(refs)
        dropped = refs if dropped is None else [union.remote(a, b) for a, b in zip(dropped, refs)]
    return stages


def shard_dedup(ray, parent, fns: list, reject, progress=None):
    """(survivor batches, funnel entries) of the dedup filters `fns` over `parent`'s shards; each
    rejection goes to reject(rejections, lane) as the batches are consumed."""
    from datagen.ray.dedup import dedup_reason

    sources = shard_sources(parent)
    paths = [s.path for s in sources]
    stages = dedup_stages(ray, sources, fns)
    reasons = [dedup_reason(fn) for _, fn in fns]
    entries = [{"filter": name, "in": 0, "kept": 0, "dropped": {}} for name, _ in fns]

    def batches():
        for b, path in enumerate(paths):
            lost: dict[int, tuple[int, str]] = {}  # row -> (stage, id it lost to)
            for k, refs in enumerate(stages):
                rows, won, _ = ray.get(refs[b])
                lost.update((r, (k, w.decode())) for r, w in zip(rows.tolist(), won.tolist()))
            row = 0
            for batch in iter_parquet([path], BATCH_ROWS):
                records = [Record.from_row(r) for r in batch.to_pylist()]
                yield judge_shard_batch(records, row, lost, fns, reasons, entries, reject, progress)
                row += len(records)

    return batches(), entries


def judge_shard_batch(records, row, lost, fns, reasons, entries, reject, progress) -> list[Record]:
    """The survivors of one batch (rows from `row` on); rejections and counts per stage."""
    survivors, rejected = [], [[] for _ in fns]
    for i, rec in enumerate(records):
        k, won = lost.get(row + i, (len(fns), ""))
        for j in range(min(k + 1, len(fns))):
            entries[j]["in"] += 1
            entries[j]["kept"] += j < k
        if k < len(fns):
            rejected[k].append(Rejection(rec, reasons[k], f"filter:{fns[k][0]}", won))
            entries[k]["dropped"][reasons[k]] = entries[k]["dropped"].get(reasons[k], 0) + 1
        else:
            survivors.append(rec)
    for lane, rej in enumerate(rejected):
        reject(rej, lane)
    if progress is not None:
        progress.update(rejected=len(records) - len(survivors))
    return survivors
