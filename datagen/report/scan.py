"""The report's one pass over a version: lengths, mix and turns counted column by column with pyarrow
(batch by batch, sharded or one file), and seeded samples of records for the analyses and the browser.

    scan_version(version, seed=0, analysis=3000, browse=1500)
      -> {"iw": Counter({12: 40, ...}), "ow": ..., "method": ..., "operation": ..., "step": ...,
          "sample": [Record, ...], "browse_kept": [...], "browse_rej": [Rejection, ...],
          "records": 1000000, "rejected": 100000, "conversations": {"n": 0, ...}}
"""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.versions import DatasetVersion, Rejection
from datagen.record import Record
from datagen.report.reservoir import Reservoir

# The operation of a lineage JSON written by canonical_json (sorted keys: "method" comes first, then
# "operation"); a value with an escape, or any other shape, does not match and is parsed with json.
_OPERATION = r'^\{"method":"(?:[^"\\]|\\.)*","operation":"(?P<op>[^"\\]*)"'


# bytes that str.isspace() holds whitespace among ASCII: \t \n \v \f \r, \x1c-\x1f and the space
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True


def word_counts(column: pa.Array) -> np.ndarray:
    """len(text.split()) of every string, 0 for a null: ["a b", None, " c "] -> [2, 0, 1]. An ASCII row is
    counted on the raw bytes with numpy (a word starts at a non-space byte after a space or the row's
    start); any other row with str.split() itself."""
    n = len(column)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset:column.offset + n + 1].astype(np.int64)
    data = column.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    rel = offsets - offsets[0]
    word = ~_ASCII_SPACE[data]
    starts = word.copy()
    starts[1:] &= ~word[:-1]
    starts[rel[:-1][rel[:-1] < len(data)]] = word[rel[:-1][rel[:-1] < len(data)]]  # a row starts fresh
    first = np.flatnonzero(starts)  # byte positions of the words' first characters: one small array
    counts = np.searchsorted(first, rel[1:]) - np.searchsorted(first, rel[:-1])
    counts[column.is_null().to_numpy(zero_copy_only=False)] = 0
    for i in np.flatnonzero(~pc.fill_null(pc.string_is_ascii(column), True).to_numpy(zero_copy_only=False)):
        counts[i] = len(column[int(i)].as_py().split())
    return counts


def count_values(counter: Counter, column: pa.Array) -> None:
    vc = pc.value_counts(column)
    counter.update(dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())))


def count_operations(counter: Counter, lineage: pa.Array) -> None:
    """Lineage.operation of each row, "-" for none."""
    ops = pc.extract_regex(lineage, _OPERATION).field("op")
    found = Counter()
    count_values(found, ops.drop_null())
    for i in pc.indices_nonzero(ops.is_null()).to_pylist():
        found[json.loads(lineage[i].as_py() or "{}").get("operation") or ""] += 1
    counter.update({op or "-": n for op, n in found.items()})


def count_turns(counter: Counter, messages: pa.Array) -> None:
    """Assistant messages of each conversation (a row with messages, not empty)."""
    for m in messages.drop_null().to_pylist():
        if m != "[]":
            counter[sum(x.get("role") == "assistant" for x in json.loads(m))] += 1


def _rejection(row: dict) -> Rejection:
    return Rejection(Record.from_row(row), row["reason"], row["stage"], row.get("detail") or "")


def scan_version(version: DatasetVersion, seed: int = 0, analysis: int = 3000, browse: int = 1500) -> dict:
    """One streamed pass (memory: one batch, the samples, the counters); a Record is built only for a
    row a sample takes. The figures depend on the rows and their order only, never on shards or batches."""
    sample, kept = Reservoir(analysis, seed, "analysis"), Reservoir(browse, seed, "kept")
    rejected = Reservoir(browse, seed, "rejected")
    out = {"iw": Counter(), "ow": Counter(), "method": Counter(), "operation": Counter(), "step": Counter()}
    turns: Counter = Counter()
    for batch in version.iter_batches("records"):
        out["iw"].update(word_counts(batch.column("instruction")).tolist())
        out["ow"].update(word_counts(batch.column("output")).tolist())
        count_values(out["method"], batch.column("method"))
        count_values(out["step"], batch.column("step"))
        count_operations(out["operation"], batch.column("lineage"))
        count_turns(turns, batch.column("messages"))
        for r in (sample, kept):
            r.offer(batch, Record.from_row)
    for batch in version.iter_batches("rejected"):
        rejected.offer(batch, _rejection)
    out.update(sample=sample.items, browse_kept=kept.items, browse_rej=rejected.items, records=kept.seen,
               rejected=rejected.seen, conversations=turn_stats(turns))
    return out


def turn_stats(turns: Counter) -> dict:
    """{"n": 3, "mean_turns": 2.33, "max_turns": 3, "turns": [(1, 1), (3, 2)]} (n = 0: no conversations)."""
    n = sum(turns.values())
    return {"n": n, "mean_turns": round(sum(k * v for k, v in turns.items()) / n, 2) if n else 0.0,
            "max_turns": max(turns, default=0), "turns": sorted(turns.items())}


def median_of_counts(counts: Counter) -> float:
    """statistics.median of the values a {value: times} counter holds: {1: 2, 5: 1} -> 1; {} -> 0."""
    n = sum(counts.values())
    if not n:
        return 0
    lo, hi, seen = (n - 1) // 2, n // 2, 0
    found = []
    for value in sorted(counts):
        seen += counts[value]
        while len(found) < 2 and seen > (lo, hi)[len(found)]:
            found.append(value)
    return found[0] if lo == hi else (found[0] + found[1]) / 2
