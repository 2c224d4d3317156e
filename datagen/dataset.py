"""DatasetVersion: an immutable directory `<output_dir>/<name>/vNNNN/` with records.parquet,
rejected.parquet (each row with `reason`, `stage`, `detail`), manifest.json and a README.md card.
A version of more than SHARD_ROWS records (datagen.shards) holds `records-00000.parquet`, ... and
`rejected-00000.parquet`, ... instead, listed in order under the manifest's "shards" and each with
its sha256 under "files"; readers take both layouts (`iter_batches`, `iter_records`, `records()`),
and content_sha256 is over the rows in order, whatever the shards.

It is written to a temp dir beside its final place and renamed in one step (datagen.folders.publish),
so a version is never half-visible, and no version is ever edited in place.

    write_version("runs", "demo", kept, rejected, manifest) -> DatasetVersion(path=runs/demo/v0001)
    with VersionWriter("runs", "demo") as w: ...   # streamed and sharded: datagen/version_writer.py
    open_version("runs/demo") -> the latest version of "demo"
    for batch in version.iter_records(10_000): ...   # one batch in memory
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from datagen.card import render_card
from datagen.folders import (STALE_TMP_SECONDS, _file_sha, _numbered, clean_stale_tmp, git_commit,  # noqa: F401
                             publish)
from datagen.errors import DatagenError
from datagen.record import Record
from datagen.shards import (BATCH_ROWS, REJECTED_SCHEMA, SCHEMA, RowHash, ShardWriter, _rejected_table, _table,  # noqa: F401
                            _write_parquet, content_sha256, iter_parquet, per_shard_sha, row_digest)
from datagen.shards import shard_rows as shard_rows_in_force

__all__ = ["SCHEMA", "REJECTED_SCHEMA", "STALE_TMP_SECONDS", "DatasetVersion", "Rejection",
           "clean_stale_tmp", "content_sha256", "git_commit", "list_versions", "open_version", "publish",
           "verify_version", "write_version"]

@dataclass(frozen=True)
class Rejection:
    """A dropped record and why: reason is snake_case ("near_duplicate"), stage names the step
    that dropped it ("filter:minhash", "parse", "teacher"), detail is free text (e.g. the id of
    the record it duplicates)."""
    record: Record
    reason: str
    stage: str
    detail: str = ""


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
        try:
            return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise self.damaged("manifest.json", f"unreadable ({type(exc).__name__})") from None

    def damaged(self, file: str, why: str) -> DatagenError:
        return DatagenError(f"dataset version {self.ref} is damaged: {file} {why}; restore the folder "
                            f"{self.path} from a copy, or delete it and make it again (the response cache "
                            "makes a rerun cheap)")

    def checked(self, file: str) -> Path:
        """The path of `file` once its bytes match the manifest's sha256 (`datagen verify` checks all)."""
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
                raise self.damaged(file, f"cannot be read ({type(exc).__name__})") from None

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
        _VERIFIED[key] = _file_sha(path)
    return _VERIFIED[key]


def verify_version(version: DatasetVersion) -> dict[str, str]:
    """Every file the manifest lists against its sha256, and the rows against content_sha256:
    {file: sha256} when all match, else a DatagenError naming the damaged file."""
    files = version.manifest().get("files", {})
    for name in files:
        version.checked(name)
    m = version.manifest()
    if "content_sha256" in m and stream_content_sha(version) != m["content_sha256"]:
        raise version.damaged("records", "do not match the manifest's content_sha256")
    return dict(files)


def stream_content_sha(version: DatasetVersion) -> str:
    """content_sha256 of a version read batch by batch (its rows as stored, in order); of a version
    the Ray workers wrote ("content_hash": "per_shard"), over each shard's row digest."""
    if version.manifest().get("content_hash") == "per_shard":
        return per_shard_sha(*[[row_digest(r for b in iter_parquet([version.checked(f)]) for r in b.to_pylist())
                                for f in version.files(kind)]
                               for kind in ("records", "rejected")])
    h = RowHash()
    for batch in version.iter_batches("records"):
        h.update(batch.to_pylist())
    h.separator()
    for batch in version.iter_batches("rejected"):
        h.update(batch.to_pylist())
    return h.hexdigest()


def list_versions(output_dir: str | Path, name: str) -> list[DatasetVersion]:
    """Complete versions only (those with a manifest), oldest first; temp dirs are never listed."""
    return [DatasetVersion(p) for _, p in _numbered(Path(output_dir) / name) if (p / "manifest.json").is_file()]


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name or ""):
        raise DatagenError(f"invalid dataset name {name!r}: use letters, digits, '.', '_' and '-'")


def write_version(output_dir: str | Path, name: str, records: list[Record], rejected: list[Rejection],
                  manifest: dict, shard_rows: int | None = None) -> DatasetVersion:
    """Write a new version atomically and return it. `manifest` is completed here with version,
    counts, file and content hashes, created_at and the git commit. A kind of more than
    `shard_rows` rows (datagen.shards.SHARD_ROWS) is written as shards; fewer, as one file."""
    _check_name(name)
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise DatagenError("internal: duplicate record ids among kept records (run exact_dup first)")
    limit = shard_rows_in_force(shard_rows)
    base = Path(output_dir) / name
    base.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(base)
    sha = content_sha256(records, rejected)
    latest = list_versions(output_dir, name)[-1:]
    if latest and latest[0].manifest().get("content_sha256") == sha:  # an unchanged rerun: no copy of it
        return DatasetVersion(latest[0].path, unchanged=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
    try:
        shards = {}
        if len(records) > limit or len(rejected) > limit:
            shards = {"records": _write_shards(tmp, "records", SCHEMA, limit, (r.to_row() for r in records)),
                      "rejected": _write_shards(tmp, "rejected", REJECTED_SCHEMA, limit, _rejected_rows(rejected))}
        else:  # one file each, written exactly as before sharding existed
            _write_parquet(_table(records), tmp / "records.parquet")
            _write_parquet(_rejected_table(rejected), tmp / "rejected.parquet")
        return _publish_version(tmp, base, manifest, sha, shards, len(records), rejected_counts(rejected), records)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_shards(folder: Path, kind: str, schema: pa.Schema, limit: int, rows: Iterable[dict]) -> list[str]:
    writer = ShardWriter(folder, kind, schema, limit)
    writer.write(rows)
    return writer.close()


def _rejected_rows(rejected: Iterable[Rejection]) -> Iterator[dict]:
    for j in rejected:
        yield {**j.record.to_row(), "reason": j.reason, "stage": j.stage, "detail": j.detail}


def rejected_counts(rejected: Iterable[Rejection], reasons: dict | None = None,
                    stages: dict | None = None) -> tuple[dict, dict]:
    reasons, stages = reasons if reasons is not None else {}, stages if stages is not None else {}
    for rej in rejected:
        reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
        stages[rej.stage] = stages.get(rej.stage, 0) + 1
    return reasons, stages


def _publish_version(tmp: Path, base: Path, manifest: dict, sha: str, shards: dict, kept: int,
                     counts: tuple[dict, dict], card_records: list[Record], files: dict | None = None) -> DatasetVersion:
    """Complete the manifest of the finished files in `tmp` and publish it as the next version
    (`files`: their sha256s when the workers that wrote them computed them already)."""
    reasons, stages = counts
    full = dict(manifest)
    full["counts"] = dict(full.get("counts") or {})
    full["counts"].update(kept=kept, rejected=sum(reasons.values()),
                          dropped=dict(sorted(reasons.items())), dropped_by_stage=dict(sorted(stages.items())))
    full["content_sha256"] = sha
    names = [f for kind in ("records", "rejected") for f in shards.get(kind, [f"{kind}.parquet"])]
    full["files"] = {f: (files or {}).get(f) or _file_sha(tmp / f) for f in names}
    if shards:
        full["shards"] = shards
    full["created_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    full["git_commit"] = git_commit()
    full["name"] = base.name
    os.chmod(tmp, 0o755)  # mkdtemp makes it owner-only; a dataset is for everyone to read

    def finish(folder: Path, label: str) -> None:
        full["version"] = label
        for f in ("manifest.json", "README.md"):
            (folder / f).unlink(missing_ok=True)
        (folder / "manifest.json").write_text(json.dumps(full, indent=2, ensure_ascii=False, default=str) + "\n",
                                              encoding="utf-8")
        card = render_card(full, card_records)
        if kept > len(card_records):
            card = card.replace("## Shape\n\n", f"## Shape\n\nOf the first {len(card_records)} records: ", 1)
        (folder / "README.md").write_text(card, encoding="utf-8")

    return DatasetVersion(publish(tmp, base, "v", finish))


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
