"""Applying filters: each filter is a pure function over a batch of records returning one verdict
per record: None keeps it, a snake_case reason drops it, and (reason, detail) drops it with a
detail such as the id of the record it duplicates (datatrove's filter-with-reason).
A filter may also set `fn.annotations = {record_id: {meta...}}` during its call (the LLM judge's
scores): apply() merges those into the meta of the records it keeps and rejects (meta is not
part of the id, so ids do not change).

    apply([("length", f)], records) -> (kept, [Rejection(record, "too_short", "filter:length")], funnel)
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

from datagen.dataset import Rejection
from datagen.record import Record

Verdict = str | tuple[str, str] | None
Filter = Callable[[list[Record]], list[Verdict]]


def split_verdict(v: Verdict) -> tuple[str, str] | None:
    if v is None:
        return None
    if isinstance(v, tuple):
        return v[0], v[1]
    return v, ""


def apply(filters: Sequence[tuple[str, Filter]], records: list[Record],
          progress=None) -> tuple[list[Record], list[Rejection], list[dict]]:
    """Run filters in order; each sees only what the previous ones kept. Returns the kept
    records, the rejections, and the funnel: one entry per filter with in/kept/dropped-by-reason."""
    kept = list(records)
    rejected: list[Rejection] = []
    funnel = []
    for name, fn in filters:
        verdicts = fn(kept)
        if len(verdicts) != len(kept):
            raise RuntimeError(f"filter {name} returned {len(verdicts)} verdicts for {len(kept)} records")
        survivors, dropped = [], {}
        notes = getattr(fn, "annotations", None) or {}
        for rec, v in zip(kept, verdicts):
            if rec.id in notes:
                rec = dataclasses.replace(rec, meta={**rec.meta, **notes[rec.id]})  # same id
            sv = split_verdict(v)
            if sv is None:
                survivors.append(rec)
            else:
                rejected.append(Rejection(rec, sv[0], f"filter:{name}", sv[1]))
                dropped[sv[0]] = dropped.get(sv[0], 0) + 1
        funnel.append({"filter": name, "in": len(kept), "kept": len(survivors), "dropped": dropped})
        if progress is not None:
            progress.update(rejected=len(kept) - len(survivors))
        kept = survivors
    return kept, rejected, funnel
