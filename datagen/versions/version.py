"""DatasetVersion: an immutable directory `<output_dir>/<name>/vNNNN/` with records.parquet,
rejected.parquet (each row with `reason`, `stage`, `detail`), manifest.json and a README.md card.
A version of more than SHARD_ROWS records (datagen.versions.shards) holds `records-00000.parquet`, ...
and `rejected-00000.parquet`, ... instead, listed in order under the manifest's "shards" and each with
its sha256 under "files"; readers take both layouts (`iter_batches`, `iter_records`, `records()`).
Writing one: datagen.versions.writer; its content hash: datagen.versions.hashing.

    open_version("runs/demo") -> the latest version of "demo"
    for batch in version.iter_records(10_000): ...   # one batch in memory
    verify_version(version) -> {file: sha256}, or a DatagenError naming the damaged file
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from datagen.errors import DatagenError
from datagen.names import plain_file_name
from datagen.record import Record
from datagen.versions.folders import numbered
from datagen.versions.hashing import HASH_KINDS, PER_SHARD, RowHash, file_sha, hash_kind, per_shard_sha, row_digest
from datagen.versions.shards import BATCH_ROWS, iter_parquet


@dataclass(frozen=True)
class Rejection:
    """A dropped record and why: reason is snake_case ("near_duplicate"), stage names the step
    that dropped it ("filter:minhash", "parse", "teacher"), detail is free text (e.g. the id of
    the record it duplicates)."""
    record: Record
    reason: str
    stage: str
    detail: str = ""

    def to_row(self) -> dict:
        """The record's row with reason, stage and detail: a row of rejected.parquet."""
        return {**self.record.to_row(), "reason": self.reason, "stage": self.stage, "detail": self.detail}


@dataclass(frozen=True)
class DatasetVersion:
    path: Path
    # True when a write found the latest version already holding this content: nothing new was written
    unchanged: bool = field(default=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.parent.name

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def manifest(self) -> dict:
        """manifest.json, once it is an object whose file entries are plain names inside this folder
        (datagen.names): a `../` or absolute entry is a damaged manifest, never followed."""
        try:
            m = json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))
        except RecursionError:
            raise self.damaged("manifest.json", "unreadable (nested too deeply)") from None
        except OSError as exc:
            raise self.damaged("manifest.json", f"unreadable ({exc.strerror})") from None
        except ValueError:
            raise self.damaged("manifest.json", "unreadable (not valid JSON)") from None
        if not isinstance(m, dict):
            raise self.damaged("manifest.json", f"is a JSON {type(m).__name__}, not an object")
        files, shards = m.get("files", {}), m.get("shards", {})
        if not isinstance(files, dict) or not isinstance(shards, dict) \
                or not all(isinstance(v, list) for v in shards.values()):
            raise self.damaged("manifest.json", "has a 'files' or 'shards' entry of the wrong type")
        bad = [f for f in [*files, *(f for v in shards.values() for f in v)] if not plain_file_name(f)]
        if bad:
            raise self.damaged("manifest.json", f"names a file outside the version ({str(bad[0])[:80]!r})")
        return m

    def damaged(self, file: str, why: str) -> DatagenError:
        return DatagenError(f"dataset version {self.ref} is damaged: {file} {why}; restore the folder "
                            f"{self.path} from a copy, or delete it and make it again (the response cache "
                            "makes a rerun cheap)")

    def checked(self, file: str) -> Path:
        """The path of `file` once its bytes match the manifest's sha256 (`datagen verify` checks all)."""
        if not plain_file_name(file):
            raise self.damaged("manifest.json", f"names a file outside the version ({str(file)[:80]!r})")
        path = self.path / file
        expected = self.manifest().get("files", {}).get(file)
        if not path.is_file():
            raise self.damaged(file, "is missing")
        if expected is not None:
            found = _verified_sha(path)
            if found != expected:
                raise self.damaged(file, f"does not match its manifest (sha256 {found[:12]}..., "
                                         f"manifest {expected[:12]}...)")
        return path

    def files(self, kind: str = "records") -> list[str]:
        """The parquet files of `kind` (records | rejected) in order: the manifest's shards, or the one
        `<kind>.parquet` of a version written before sharding (or small enough for one file)."""
        return list(self.manifest().get("shards", {}).get(kind) or [f"{kind}.parquet"])

    def iter_batches(self, kind: str = "records", batch_size: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        """pyarrow RecordBatches of `kind` over every shard in order, each file checked against its sha256
        before it is read; memory holds one batch."""
        for file in self.files(kind):
            path = self.checked(file)
            try:
                yield from iter_parquet([path], batch_size)
            except (pa.ArrowException, OSError) as exc:
                raise self.damaged(file, "cannot be read as parquet") from None

    def iter_records(self, batch_size: int = BATCH_ROWS) -> Iterator[list[Record]]:
        """The kept records in order, a list of at most batch_size at a time."""
        for batch in self.iter_batches("records", batch_size):
            yield [Record.from_row(r) for r in batch.to_pylist()]

    def iter_rejected(self, batch_size: int = BATCH_ROWS) -> Iterator[list[Rejection]]:
        for batch in self.iter_batches("rejected", batch_size):
            yield [Rejection(Record.from_row(r), r["reason"], r["stage"], r.get("detail") or "")
                   for r in batch.to_pylist()]

    def num_records(self, kind: str = "records") -> int:
        return sum(pq.ParquetFile(self.checked(f)).metadata.num_rows for f in self.files(kind))

    def records(self) -> list[Record]:
        return [r for batch in self.iter_records() for r in batch]

    def rejected(self) -> list[Rejection]:
        return [j for batch in self.iter_rejected() for j in batch]


_VERIFIED: dict[tuple, str] = {}  # (path, mtime, size) -> sha256: a file is hashed once per change


def _verified_sha(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _VERIFIED:
        _VERIFIED[key] = file_sha(path)
    return _VERIFIED[key]


def verify_version(version: DatasetVersion) -> dict[str, str]:
    """Every file the manifest lists against its sha256, and the rows against content_sha256:
    {file: sha256} when all match, else a DatagenError naming the damaged file."""
    files = version.manifest().get("files", {})
    for name in files:
        version.checked(name)
    m = version.manifest()
    if "content_sha256" in m and recompute_content_sha(version) != m["content_sha256"]:
        raise version.damaged("records", "do not match the manifest's content_sha256")
    return dict(files)


def recompute_content_sha(version: DatasetVersion) -> str:
    """content_sha256 of a version read batch by batch, of the kind its manifest names
    (datagen.versions.hashing): over its rows in order, or over each shard's row digest."""
    kind = hash_kind(version.manifest())
    if kind not in HASH_KINDS:
        raise version.damaged("manifest.json", f"names an unknown content_hash kind {kind!r}")
    if kind == PER_SHARD:
        return per_shard_sha(*[[row_digest(r for b in iter_parquet([version.checked(f)]) for r in b.to_pylist())
                                for f in version.files(part)]
                               for part in ("records", "rejected")])
    h = RowHash()
    for batch in version.iter_batches("records"):
        h.update(batch.to_pylist())
    h.separator()
    for batch in version.iter_batches("rejected"):
        h.update(batch.to_pylist())
    return h.hexdigest()


def list_versions(output_dir: str | Path, name: str) -> list[DatasetVersion]:
    """Complete versions only (those with a manifest), oldest first; temp dirs are never listed."""
    return [DatasetVersion(p) for _, p in numbered(Path(output_dir) / name) if (p / "manifest.json").is_file()]


def _checked_version(v: DatasetVersion) -> DatasetVersion:
    """Opening a version checks its files against the manifest: a damaged one is named at once."""
    for name in v.manifest().get("files", {}):
        v.checked(name)
    return v


def open_version(ref: str | Path, output_dir: str | Path = "runs") -> DatasetVersion:
    """Accepts a version directory, `<dir>/<name>` (latest), `name/v0003` or `name` under output_dir."""
    candidates = [Path(ref), Path(output_dir) / ref]
    for p in candidates:
        if (p / "manifest.json").is_file():
            return _checked_version(DatasetVersion(p))
        if p.is_dir():
            versions = list_versions(p.parent, p.name)
            if versions:
                return _checked_version(versions[-1])
    raise DatagenError(f"dataset version not found: {ref} (looked in {', '.join(str(c) for c in candidates)})")
