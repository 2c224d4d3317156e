"""Versions written by the Ray workers: the driver holds object refs and one small summary a block
(counts, funnel, shard digests, file sha256s), never a record.

One task a block: it reads its block itself (a shard of the parent version, or the shard a generation
actor wrote, datagen/ray/generate.py), drops the rows the leading keep=smallest_id dedup stages
dropped (datagen/ray/dedup.py: their verdicts go worker to worker), runs the per-record filters
that follow, and writes `records-NNNNN.parquet` and `rejected-NNNNN.parquet` (block NNNNN) into the
version's temp folder. The driver then publishes the folder as every version is published
(datagen.versions.publish: atomic, never half-visible).

A version written this way has `"content_hash": "per_shard"` in its manifest: its content_sha256 is
over each shard's row digest in order (the workers' digests), not over the rows themselves as one
stream, so it depends on where the shards end; `datagen verify` checks either kind. Rejected rows are
in block order (a block's method rejections, then each filter's), not filter after filter.

The temp folder must be one every worker can write: one machine, or shared storage on a cluster.

    plan = worker_plan(fns)                      # None: a filter needs the driver (novelty, judge, ...)
    with VersionWriter(runs, "demo") as out:
        blocks = write_blocks(ray, out, shard_sources(parent), fns, plan)
        version = publish_blocks(out, manifest, blocks)
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from datagen.record import Record
from datagen.versions.hashing import PER_SHARD, file_sha, per_shard_sha, row_digest
from datagen.versions.shards import REJECTED_SCHEMA, SCHEMA, iter_parquet, shard_name, write_parquet
from datagen.versions.writer import CARD_SAMPLE


def worker_plan(fns: list) -> tuple[int, list] | None:
    """(n, tail): the first n filters are keep=smallest_id dedup (run as Ray stages), the tail the
    per-record filters after them (run inside the write tasks). None when any filter after the
    leading dedup ones is neither per-record nor teacher-free: the driver must see the records."""
    from datagen.ray.shards import cluster_prefix

    n = cluster_prefix(fns)
    tail = [(name, getattr(fn, "inner", fn)) for name, fn in fns[n:]]
    if any(not fn.per_record or fn.needs_teacher for _, fn in tail):
        return None
    return n, tail


def write_block(folder: str, b: int, source, lead: list, tail: list, before: str, *verdicts) -> dict:
    """Write block b's records and rejections; its summary. `before`: a parquet of rejections that
    come first (the generation's own), or ""."""
    import pyarrow as pa

    from datagen.filtering import run_filter, tidy_entry
    from datagen.ray.dedup import dedup_reason
    from datagen.ray.shards import judge_shard_batch

    records = source()
    lost = {}
    for k, (rows, won, _) in enumerate(verdicts):
        lost.update((r, (k, w.decode())) for r, w in zip(rows.tolist(), won.tolist()))
    reasons = [dedup_reason(fn) for _, fn in lead]
    entries = [{"filter": name, "in": 0, "kept": 0, "dropped": {}} for name, _ in lead + tail]
    lanes: list[list] = [[] for _ in lead + tail]
    kept = judge_shard_batch(records, 0, lost, lead, reasons, entries, lambda rej, lane: lanes[lane].extend(rej), None)
    for j, (name, fn) in enumerate(tail):
        kept = run_filter(name, fn, fn, kept, entries[len(lead) + j], lanes[len(lead) + j].append)
    rejected_rows = [row for batch in iter_parquet([Path(before)]) for row in batch.to_pylist()] if before else []
    for lane in lanes:
        rejected_rows += [j.to_row() for j in lane]
    rows = [r.to_row() for r in kept]
    names = {"records": shard_name("records", b), "rejected": shard_name("rejected", b)}
    write_parquet(pa.Table.from_pylist(rows, schema=SCHEMA), Path(folder) / names["records"])
    write_parquet(pa.Table.from_pylist(rejected_rows, schema=REJECTED_SCHEMA), Path(folder) / names["rejected"])
    return {"block": b, "kept": len(rows), "names": names,
            "digests": {"records": row_digest(rows), "rejected": row_digest(rejected_rows)},
            "files": {f: file_sha(Path(folder) / f) for f in names.values()},
            "reasons": dict(Counter(row["reason"] for row in rejected_rows)),
            "stages": dict(Counter(row["stage"] for row in rejected_rows)), "funnel": [tidy_entry(e) for e in entries]}


def sum_counts(dicts: list[dict]) -> dict:
    """Numbers summed key by key (nested dicts too); anything else: the first value seen."""
    out: dict = {}
    for d in dicts:
        for k, v in d.items():
            if isinstance(v, dict):
                out[k] = sum_counts([out.get(k, {}), v])
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
            else:
                out.setdefault(k, v)
    return out


def merge_funnels(funnels: list[list[dict]]) -> list[dict]:
    """The blocks' funnels summed filter by filter."""
    out: list[dict] = []
    for funnel in funnels:
        for i, e in enumerate(funnel):
            if i == len(out):
                out.append({"filter": e["filter"], "in": 0, "kept": 0, "dropped": {}})
            out[i]["in"] += e["in"]
            out[i]["kept"] += e["kept"]
            for k, v in e["dropped"].items():
                out[i]["dropped"][k] = out[i]["dropped"].get(k, 0) + v
            if e.get("undone"):
                out[i]["undone"] = out[i].get("undone", 0) + e["undone"]
    return out


def write_blocks(ray, out, sources: list, fns: list, plan: tuple[int, list], befores: list[str] | None = None,
                 progress=None) -> list[dict]:
    """Run the filters over `sources` on the workers and write one shard pair a block into the
    VersionWriter `out`'s temp folder; the blocks' summaries in block order."""
    from datagen.ray.shards import cluster_fn, dedup_stages

    n, tail = plan
    lead = [(name, cluster_fn(fn)) for name, fn in fns[:n]]
    stages = dedup_stages(ray, sources, lead)
    task = ray.remote(write_block)
    refs = [task.remote(str(out.tmp), b, src, lead, tail, (befores or [""] * len(sources))[b],
                        *[s[b] for s in stages]) for b, src in enumerate(sources)]
    summaries: list[dict] = [None] * len(refs)  # type: ignore[list-item]
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        s = ray.get(done[0])
        summaries[s["block"]] = s
        if progress is not None:
            progress.update(kept=s["kept"], rejected=sum(s["reasons"].values()))
    return summaries


def publish_blocks(out, manifest: dict, summaries: list[dict]):
    """Publish the shards the workers wrote into `out.tmp` through the VersionWriter's one publish step
    (a "per_shard" content hash; the latest version when it holds the same content: unchanged); the
    card is made from the first CARD_SAMPLE kept records."""
    shards = {kind: [s["names"][kind] for s in summaries] for kind in ("records", "rejected")}
    sha = per_shard_sha([s["digests"]["records"] for s in summaries],
                        [s["digests"]["rejected"] for s in summaries])
    reasons, stages = (sum_counts([s[key] for s in summaries]) for key in ("reasons", "stages"))
    sample: list[Record] = []
    for batch in iter_parquet(out.tmp / f for f in shards["records"]):
        sample += [Record.from_row(r) for r in batch.to_pylist()[:CARD_SAMPLE - len(sample)]]
        if len(sample) >= CARD_SAMPLE:
            break
    files = {f: digest for s in summaries for f, digest in s["files"].items()}
    kept = sum(s["kept"] for s in summaries)
    return out.publish(manifest, PER_SHARD, sha, shards, kept, (reasons, stages), sample, files=files)
