"""A dataset version written as it streams in: records and rejections go to Parquet in batches, the
content hash is updated row by row, and the folder is published with datagen.dataset's `publish`
(temp dir, atomic rename), so memory holds one batch whatever the size of the import. The version is
the same as one from `write_version`: same schemas, manifest fields and content_sha256.

    with StreamingVersion("runs", "mine") as w:
        w.add(record); w.reject(rejection)
        version = w.commit({"method": "import", ...})
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from datagen import dataset as D
from datagen.card import render_card
from datagen.errors import DatagenError
from datagen.record import Record, canonical_json

CARD_SAMPLE = 2000  # records the card's shape and sample are computed from


class StreamingVersion:
    def __init__(self, output_dir: str | Path, name: str, batch_size: int = 10_000) -> None:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name or ""):
            raise DatagenError(f"invalid dataset name {name!r}: use letters, digits, '.', '_' and '-'")
        self.output_dir, self.name, self.batch_size = Path(output_dir), name, batch_size
        self.base = self.output_dir / name
        self.base.mkdir(parents=True, exist_ok=True)
        D.clean_stale_tmp(self.base)
        self.tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.base))
        self._writers = {"records": pq.ParquetWriter(self.tmp / "records.parquet", D.SCHEMA),
                         "rejected": pq.ParquetWriter(self.tmp / "rejected.parquet", D.REJECTED_SCHEMA)}
        self._buffers: dict[str, list[dict]] = {"records": [], "rejected": []}
        self._hash = hashlib.sha256()
        self.kept = 0
        self.reasons: dict[str, int] = {}
        self.stages: dict[str, int] = {}
        self.sample: list[Record] = []

    def __enter__(self) -> "StreamingVersion":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is not None or self.tmp.exists():
            self.abort()

    def add(self, record: Record) -> None:
        row = record.to_row()
        self._hash.update(canonical_json(row).encode())
        self._hash.update(b"\n")
        self.kept += 1
        if len(self.sample) < CARD_SAMPLE:
            self.sample.append(record)
        self._push("records", row)

    def reject(self, rej: D.Rejection) -> None:
        self._push("rejected", {**rej.record.to_row(), "reason": rej.reason, "stage": rej.stage,
                                "detail": rej.detail})
        self.reasons[rej.reason] = self.reasons.get(rej.reason, 0) + 1
        self.stages[rej.stage] = self.stages.get(rej.stage, 0) + 1

    def _push(self, kind: str, row: dict) -> None:
        buf = self._buffers[kind]
        buf.append(row)
        if len(buf) >= self.batch_size:
            self._flush(kind)

    def _flush(self, kind: str) -> None:
        buf = self._buffers[kind]
        if buf:
            schema = D.SCHEMA if kind == "records" else D.REJECTED_SCHEMA
            self._writers[kind].write_table(pa.Table.from_pylist(buf, schema=schema))
            buf.clear()

    def _content_sha(self) -> str:
        """content_sha256 of datagen.dataset: the records' rows, then the rejections' rows, read back
        batch by batch from the finished rejected.parquet."""
        h = self._hash.copy()
        h.update(b"--rejected--\n")
        for batch in pq.ParquetFile(self.tmp / "rejected.parquet").iter_batches(batch_size=self.batch_size):
            for row in batch.to_pylist():
                h.update(canonical_json(row).encode())
                h.update(b"\n")
        return h.hexdigest()

    def commit(self, manifest: dict) -> D.DatasetVersion:
        """Finish the files and publish the next version (or find the latest equal to it: unchanged)."""
        for kind in self._writers:
            self._flush(kind)
            self._writers[kind].close()
        sha = self._content_sha()
        latest = D.list_versions(self.output_dir, self.name)[-1:]
        if latest and latest[0].manifest().get("content_sha256") == sha:
            self.abort()
            return D.DatasetVersion(latest[0].path, unchanged=True)
        full = dict(manifest)
        full["counts"] = {**(full.get("counts") or {}), "kept": self.kept, "rejected": sum(self.reasons.values()),
                          "dropped": dict(sorted(self.reasons.items())),
                          "dropped_by_stage": dict(sorted(self.stages.items()))}
        full["content_sha256"] = sha
        full["files"] = {f: D._file_sha(self.tmp / f) for f in ("records.parquet", "rejected.parquet")}
        full["created_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        full["git_commit"] = D.git_commit()
        full["name"] = self.name
        os.chmod(self.tmp, 0o755)

        def finish(folder: Path, label: str) -> None:
            full["version"] = label
            (folder / "manifest.json").unlink(missing_ok=True)
            (folder / "README.md").unlink(missing_ok=True)
            (folder / "manifest.json").write_text(json.dumps(full, indent=2, ensure_ascii=False, default=str) + "\n",
                                                  encoding="utf-8")
            (folder / "README.md").write_text(self._card(full), encoding="utf-8")

        final = D.publish(self.tmp, self.base, "v", finish)
        return D.DatasetVersion(final)

    def _card(self, manifest: dict) -> str:
        card = render_card(manifest, self.sample)
        source = manifest.get("source", {}).get("path")
        if source:  # the card names seeds or a parent; an import has neither, but a source
            card = card.replace("from seeds `?`", f"from `{source}`", 1)
        if self.kept > len(self.sample):
            card = card.replace("## Shape\n\n", f"## Shape\n\nOf the first {len(self.sample)} records: ", 1)
        return card

    def abort(self) -> None:
        for w in self._writers.values():
            try:
                w.close()
            except Exception:  # noqa: BLE001 - already closed or broken: the folder goes anyway
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            self.base.rmdir()  # only if this import made it and left nothing in it
        except OSError:
            pass
