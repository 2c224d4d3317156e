"""The content hash of a version (manifest "content_sha256") and the kind of it (manifest
"content_hash"): a hash of the data itself, never of file bytes or timestamps.

    "rows"      (every version written on one machine, and every version without the field): sha256
                over each kept row's canonical JSON and a newline, then `--rejected--\\n`, then each
                rejected row's, in order. Independent of shards: a version written as one file or as
                shards of any size has the same hash, so an unchanged rerun is found whatever DATAGEN_SHARD_ROWS.
    "per_shard" (versions the Ray workers write, datagen/ray/write.py): each worker hashes its own shard
                the "rows" way (row_digest), and the version's hash is sha256 over those digests in shard
                order. The driver never reads a row, but the hash depends on where the shards end, so it
                equals another version's only when both were cut into the same blocks.
`datagen verify` recomputes either kind (DatasetVersion.recompute_content_sha), and the unchanged-rerun
check (datagen.versions.publish.same_latest) calls two versions equal only when kind and hash both match.

    content_sha256(records, rejections) -> "9f2c..."   # the "rows" hash of lists in memory
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

from datagen.record import canonical_json

ROWS = "rows"
PER_SHARD = "per_shard"
HASH_KINDS = (ROWS, PER_SHARD)


def hash_kind(manifest: dict) -> str:
    """The kind of a manifest's content_sha256; versions written before kinds were named are "rows"."""
    return manifest.get("content_hash", ROWS)


class RowHash:
    """The "rows" hash built row by row: the kept rows, then separator(), then the rejected rows."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def update(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.h.update(canonical_json(row).encode())
            self.h.update(b"\n")

    def separator(self) -> None:
        self.h.update(b"--rejected--\n")

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def content_sha256(records: Iterable, rejections: Iterable) -> str:
    """The "rows" hash of Records and Rejections in memory: equal for two runs that made the same
    records with the same lineage and the same rejections."""
    h = RowHash()
    h.update(r.to_row() for r in records)
    h.separator()
    h.update(j.to_row() for j in rejections)
    return h.hexdigest()


def row_digest(rows: Iterable[dict]) -> str:
    """RowHash of some rows alone (one shard's, for per_shard_sha)."""
    h = RowHash()
    h.update(rows)
    return h.hexdigest()


def per_shard_sha(records: list[str], rejected: list[str]) -> str:
    """The "per_shard" hash: the shards' row digests in order."""
    h = hashlib.sha256()
    for d in records:
        h.update(d.encode() + b"\n")
    h.update(b"--rejected--\n")
    for d in rejected:
        h.update(d.encode() + b"\n")
    return h.hexdigest()


def file_sha(path: Path) -> str:
    """sha256 of a file's bytes (manifest "files"), read 1 MB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
