"""VersionWriter: a dataset version written as it streams in, one batch in memory, published
atomically like datagen.dataset.write_version (same manifest, same content hash, same card).

    with VersionWriter("runs", "demo") as w:
        w.add(batch); w.reject(rejections); version = w.commit({"method": "filter"})
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from datagen.dataset import (DatasetVersion, Rejection, _check_name, _publish_version, _rejected_rows,
                             clean_stale_tmp, list_versions, rejected_counts)
from datagen.record import Record
from datagen.shards import REJECTED_SCHEMA, SCHEMA, RowHash, ShardWriter, iter_parquet
from datagen.shards import shard_rows as shard_rows_in_force

CARD_SAMPLE = 2000  # records a streamed version's card is computed from


class VersionWriter:
    """A version written as it streams in: kept records and rejections go to shards batch by batch
    (datagen.shards), the content hash is built row by row, and commit() publishes the folder
    atomically like write_version. Memory holds one batch, whatever the size. Kept ids are not
    checked for duplicates here: the caller streams records already unique (a filtered parent).

        with VersionWriter("runs", "demo") as w:
            w.add(batch); w.reject(rejections); version = w.commit({"method": "filter"})
    """

    def __init__(self, output_dir: str | Path, name: str, shard_rows: int | None = None) -> None:
        _check_name(name)
        self.output_dir, self.name = Path(output_dir), name
        self.base = self.output_dir / name
        self.base.mkdir(parents=True, exist_ok=True)
        clean_stale_tmp(self.base)
        self.tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.base))
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
        self.lanes[lane].write(_rejected_rows(rejections))

    def _join_lanes(self) -> None:
        for lane in sorted(self.lanes):
            files = [self.tmp / f for f in self.lanes[lane].close()]
            for batch in iter_parquet(files):
                self.writers["rejected"].write(batch.to_pylist())
            for f in files:
                f.unlink()

    def commit(self, manifest: dict, card_records: list[Record] | None = None) -> DatasetVersion:
        """Finish the shards and publish the next version (or find the latest equal to it: unchanged)."""
        self._join_lanes()
        shards = {kind: w.close() for kind, w in self.writers.items()}
        self.hash.separator()
        self.hash.update(row for batch in iter_parquet(self.tmp / f for f in shards["rejected"])
                         for row in batch.to_pylist())
        sha = self.hash.hexdigest()
        latest = list_versions(self.output_dir, self.name)[-1:]
        if latest and latest[0].manifest().get("content_sha256") == sha:
            self.abort()
            return DatasetVersion(latest[0].path, unchanged=True)
        sharded = any(len(v) > 1 for v in shards.values())
        try:
            return _publish_version(self.tmp, self.base, manifest, sha, shards if sharded else {},
                                    self.writers["records"].rows, self.counts,
                                    self.sample if card_records is None else card_records)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        for w in [*self.writers.values(), *self.lanes.values()]:
            w.abort()
        shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            self.base.rmdir()  # only if this writer made it and nothing else is in it
        except OSError:
            pass
