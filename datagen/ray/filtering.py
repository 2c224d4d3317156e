"""Filters spread over Ray with the same verdicts as on one machine, as each filter's class declares
(filters/base.py): per-record filters run as Ray Data `map_batches`; exact and MinHash dedup run in
two stages (keys or signatures per block on the workers, then one ordered pass over the duplicate
buckets on the driver), or under keep=smallest_id as a shuffle by key with connected components on the
workers (datagen/ray/dedup.py); order-dependent filters (novelty, semantic, judge) run on the driver.

    fn = distribute(MinHash(...), ray)     # fn(records) -> the same verdicts
"""
from __future__ import annotations

import pickle


def _records_dataset(ray, records, block_size: int):
    import ray.data  # noqa: F401 - registers ray.data

    rows = [{"idx": i, "row": r.to_row()} for i, r in enumerate(records)]
    return ray.data.from_items(rows, override_num_blocks=max(1, len(rows) // block_size))


def _map_rows(ray, records, fn, block_size: int) -> list:
    """fn(list[Record]) -> one picklable value per record, run per block with map_batches; results
    come back in record order (Ray Data does not keep order by itself, so each row carries its index)."""
    from datagen.record import Record

    if not records:
        return []

    def batch(b):
        recs = [Record.from_row(r) for r in b["row"]]
        return {"idx": list(b["idx"]), "out": [_wrap(v) for v in fn(recs)]}

    ds = _records_dataset(ray, records, block_size).map_batches(batch, batch_format="pandas", batch_size=block_size)
    out: list = [None] * len(records)
    for row in ds.iter_rows():
        out[int(row["idx"])] = _unwrap(row["out"])
    return out


def _wrap(v) -> bytes:
    """Verdicts, keys and signatures travel as pickled bytes: one Arrow type for all of them."""
    return pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)


def _unwrap(b: bytes):
    return pickle.loads(b)


def distribute(fn, ray, block_size: int = 2048):
    """A filter with the same verdicts as `fn`, with its work spread over Ray, as its class declares
    (filters/base.py):
    - two_stage (dedup): map per block on the workers, reduce on the driver; under keep=smallest_id
      a shuffle by key and connected components instead (datagen/ray/dedup.py), no ordered pass;
    - per_record: run whole per block;
    - anything else (order-dependent: novelty, semantic, judge) runs on the driver as it is."""
    if fn.two_stage and getattr(fn, "keep", "first") == "smallest_id":  # no ordered pass: datagen.ray.dedup
        from datagen.ray.dedup import cluster_dedup

        return _Distributed(fn, lambda records: cluster_dedup(fn, ray, records, block_size))
    if fn.two_stage:
        return _Distributed(fn, lambda records: fn.reduce(records, _map_rows(ray, records, fn.map, block_size)))
    if fn.per_record:
        return _Distributed(fn, lambda records: _map_rows(ray, records, fn, block_size))
    return fn


class _Distributed:
    """The filter `inner` whose call runs through `call`; its declarations are still readable."""

    def __init__(self, inner, call) -> None:
        self.inner, self._call = inner, call
        self.per_record, self.needs_teacher, self.two_stage = inner.per_record, inner.needs_teacher, inner.two_stage

    def __call__(self, records):
        return self._call(records)

    def annotations(self) -> dict:
        return self.inner.annotations()
