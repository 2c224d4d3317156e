"""The one writer of dataset versions: VersionWriter streams kept records and rejections into shards,
one batch in memory, builds the "rows" content hash as they pass, and commit() publishes the folder
(datagen.versions.publish). write_version is the same writer fed from lists already in memory.

    with VersionWriter("runs", "demo") as w:
        w.add(batch); w.reject(rejections); version = w.commit({"method": "filter"})
    write_version("runs", "demo", kept, rejected, manifest) -> DatasetVersion(path=runs/demo/v0001)
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

from datagen.errors import DatagenError
from datagen.names import child
from datagen.outfile import make_dir
from datagen.record import Record
from datagen.versions.folders import clean_stale_tmp, make_tmp, release_tmp
from datagen.versions.hashing import ROWS, RowHash
from datagen.versions.publish import publish_version, same_latest
from datagen.versions.shards import REJECTED_SCHEMA, SCHEMA, ShardWriter, iter_parquet
from datagen.versions.shards import shard_rows as shard_rows_in_force
from datagen.versions.version import DatasetVersion, Rejection

CARD_SAMPLE = 2000  # records a streamed version's card is computed from


def rejected_counts(rejected: Iterable[Rejection], reasons: dict | None = None,
                    stages: dict | None = None) -> tuple[dict, dict]:
    """({reason: n}, {stage: n}) of some rejections, added to the dicts given."""
    reasons, stages = reasons if reasons is not None else {}, stages if stages is not None else {}
    for rej in rejected:
        reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
        stages[rej.stage] = stages.get(rej.stage, 0) + 1
    return reasons, stages


class VersionWriter:
    """A version written as it streams in: kept records and rejections go to shards batch by batch
    (datagen.versions.shards), the content hash is built row by row, and commit() publishes the folder
    atomically. Memory holds one batch, whatever the size. Kept ids are not checked for duplicates
    here: the caller streams records already unique (a filtered parent; write_version checks its list).
    Files others wrote into `tmp` (the Ray workers) are published with publish()."""

    def __init__(self, output_dir: str | Path, name: str, shard_rows: int | None = None) -> None:
        self.base = child(output_dir, name, "dataset name")  # datagen.names: the one check of names
        self.output_dir, self.name = Path(output_dir), name
        make_dir(self.base, "--out")
        clean_stale_tmp(self.base)
        self.tmp = make_tmp(self.base)  # locked while this writer lives (datagen.versions.folders)
        limit = shard_rows_in_force(shard_rows)
        self.writers = {"records": ShardWriter(self.tmp, "records", SCHEMA, limit),
                        "rejected": ShardWriter(self.tmp, "rejected", REJECTED_SCHEMA, limit)}
        self.lanes: dict[int, ShardWriter] = {}  # rejections per lane, joined lane after lane at commit
        self.hash = RowHash()
        self.counts: tuple[dict, dict] = ({}, {})
        self.sample: list[Record] = []

    def __enter__(self) -> "VersionWriter":
        return self

    def __exit__(self, *_) -> None:
        if self.tmp.exists():
            self.abort()

    def add(self, records: Iterable[Record]) -> None:
        rows = []
        for r in records:
            rows.append(r.to_row())
            if len(self.sample) < CARD_SAMPLE:
                self.sample.append(r)
        self.hash.update(rows)
        self.writers["records"].write(rows)

    def reject(self, rejections: Iterable[Rejection], lane: int = 0) -> None:
        """Rejections in order within a lane; the version's rejected rows are lane 0's, then lane 1's...
        (a streamed filter run gives each filter its lane, so the order is the filters' order)."""
        rejections = list(rejections)
        rejected_counts(rejections, *self.counts)
        if lane not in self.lanes:
            self.lanes[lane] = ShardWriter(self.tmp, f".lane{lane}", REJECTED_SCHEMA, 1 << 62)
        self.lanes[lane].write(j.to_row() for j in rejections)

    def join_lanes(self) -> None:
        for lane in sorted(self.lanes):
            files = [self.tmp / f for f in self.lanes[lane].close()]
            for batch in iter_parquet(files):
                self.writers["rejected"].write(batch.to_pylist())
            for f in files:
                f.unlink()

    def commit(self, manifest: dict, card_records: list[Record] | None = None) -> DatasetVersion:
        """Finish the shards and publish the next version (or find the latest equal to it: unchanged)."""
        self.join_lanes()
        shards = {kind: w.close() for kind, w in self.writers.items()}
        self.hash.separator()
        self.hash.update(row for batch in iter_parquet(self.tmp / f for f in shards["rejected"])
                         for row in batch.to_pylist())
        sharded = any(len(v) > 1 for v in shards.values())
        return self.publish(manifest, ROWS, self.hash.hexdigest(), shards if sharded else {},
                            self.writers["records"].rows, self.counts,
                            self.sample if card_records is None else card_records)

    def publish(self, manifest: dict, kind: str, sha: str, shards: dict, kept: int, counts: tuple[dict, dict],
                card_records: list[Record], files: dict | None = None) -> DatasetVersion:
        """Publish the finished files in `tmp` as the next version, unless the latest version holds the
        same content (same hash kind and value: then that one, marked unchanged, and `tmp` is removed).
        `kind`: the content hash's kind (datagen.versions.hashing)."""
        same = same_latest(self.output_dir, self.name, kind, sha)
        if same is not None:
            self.abort()
            return same
        try:
            return publish_version(self.tmp, self.base, manifest, kind, sha, shards, kept, counts,
                                   card_records, files)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        for w in [*self.writers.values(), *self.lanes.values()]:
            w.abort()
        shutil.rmtree(self.tmp, ignore_errors=True)
        release_tmp(self.tmp)
        try:
            self.base.rmdir()  # only if this writer made it and nothing else is in it
        except OSError:
            pass


def write_version(output_dir: str | Path, name: str, records: list[Record], rejected: list[Rejection],
                  manifest: dict, shard_rows: int | None = None) -> DatasetVersion:
    """A version of records and rejections in memory, written by VersionWriter (its card from every
    record). A kind of more than `shard_rows` rows (DATAGEN_SHARD_ROWS, SHARD_ROWS) becomes shards."""
    child(output_dir, name, "dataset name")
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise DatagenError("internal: duplicate record ids among kept records (run exact_dup first)")
    with VersionWriter(output_dir, name, shard_rows) as w:
        w.add(records)
        w.reject(rejected)
        return w.commit(manifest, card_records=records)
