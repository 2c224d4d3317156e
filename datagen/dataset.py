"""DatasetVersion: an immutable directory `<output_dir>/<name>/vNNNN/` with records.parquet,
rejected.parquet (each row with `reason`, `stage`, `detail`), manifest.json and a README.md card.

It is written to a temp dir beside its final place and renamed in one step, so a version is
never half-visible, and no version is ever edited in place.

    write_version("runs", "demo", kept, rejected, manifest) -> DatasetVersion(path=runs/demo/v0001)
    open_version("runs/demo") -> the latest version of "demo"
"""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from datagen.card import render_card
from datagen.errors import DatagenError
from datagen.record import Record, canonical_json

SCHEMA = pa.schema([
    ("id", pa.string()), ("instruction", pa.string()), ("input", pa.string()), ("output", pa.string()),
    ("rejected", pa.string()), ("messages", pa.string()), ("method", pa.string()), ("step", pa.int64()),
    ("lineage", pa.string()), ("meta", pa.string()),
])
REJECTED_SCHEMA = SCHEMA.append(pa.field("reason", pa.string())).append(
    pa.field("stage", pa.string())).append(pa.field("detail", pa.string()))


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

    def _read(self, file: str) -> list[dict]:
        try:
            return pq.read_table(self.checked(file)).to_pylist()
        except (pa.ArrowException, OSError) as exc:
            raise self.damaged(file, f"cannot be read ({type(exc).__name__})") from None

    def records(self) -> list[Record]:
        return [Record.from_row(r) for r in self._read("records.parquet")]

    def rejected(self) -> list[Rejection]:
        rows = self._read("rejected.parquet")
        return [Rejection(Record.from_row(r), r["reason"], r["stage"], r.get("detail") or "") for r in rows]


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
    if "content_sha256" in m and content_sha256(version.records(), version.rejected()) != m["content_sha256"]:
        raise version.damaged("records", "do not match the manifest's content_sha256")
    return dict(files)


def _table(records: list[Record]) -> pa.Table:
    rows = [r.to_row() for r in records]
    return pa.Table.from_pylist(rows, schema=SCHEMA) if rows else SCHEMA.empty_table()


def _rejected_table(rejections: list[Rejection]) -> pa.Table:
    rows = []
    for rej in rejections:
        row = rej.record.to_row()
        row.update(reason=rej.reason, stage=rej.stage, detail=rej.detail)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=REJECTED_SCHEMA) if rows else REJECTED_SCHEMA.empty_table()


def _write_parquet(table: pa.Table, path: Path) -> None:
    """An empty table is written with no row group at all: pq.write_table would write one of 0 rows,
    which `datasets` cannot read ("BatchSize must be greater than 0")."""
    if table.num_rows:
        pq.write_table(table, path)
    else:
        pq.ParquetWriter(path, table.schema).close()


def content_sha256(records: list[Record], rejected: list[Rejection]) -> str:
    """Hash of the data itself (not of file bytes or timestamps): equal for two runs that made
    the same records with the same lineage and the same rejections."""
    h = hashlib.sha256()
    for r in records:
        h.update(canonical_json({k: v for k, v in r.to_row().items()}).encode())
        h.update(b"\n")
    h.update(b"--rejected--\n")
    for rej in rejected:
        h.update(canonical_json({**rej.record.to_row(), "reason": rej.reason, "stage": rej.stage,
                                 "detail": rej.detail}).encode())
        h.update(b"\n")
    return h.hexdigest()


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _numbered(base: Path, prefix: str = "v") -> list[tuple[int, Path]]:
    """Every <prefix>NNNN directory under base (vNNNN versions, eNNNN evals), complete or not, in order."""
    if not base.is_dir():
        return []
    pattern = re.compile(rf"{re.escape(prefix)}(\d{{4,}})")
    return sorted((int(m.group(1)), p) for p in base.iterdir() if (m := pattern.fullmatch(p.name)) and p.is_dir())


def list_versions(output_dir: str | Path, name: str) -> list[DatasetVersion]:
    """Complete versions only (those with a manifest), oldest first; temp dirs are never listed."""
    return [DatasetVersion(p) for _, p in _numbered(Path(output_dir) / name) if (p / "manifest.json").is_file()]


STALE_TMP_SECONDS = 3600


def clean_stale_tmp(base: Path, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove `.tmp-*` dirs left by a writer killed mid-write (kill -9 skips its cleanup). Only
    old ones: a fresh one may belong to a writer that is still running."""
    removed = []
    now = time.time()
    for p in base.glob(".tmp-*") if base.is_dir() else []:
        try:
            if p.is_dir() and now - p.stat().st_mtime > older_than:
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        except OSError:
            continue
    return removed


def publish(tmp: Path, base: Path, prefix: str, finish) -> Path:
    """Rename the finished folder `tmp` onto the next free <prefix>NNNN under `base` and return it.
    `finish(tmp, label)` writes what names the number (the manifest) before each attempt. Rename is
    atomic, so the folder is either absent or complete (a kill -9 leaves at most a .tmp-* dir), and
    it fails if another writer took that number first, in which case the next one is tried."""
    while True:
        numbered = _numbered(base, prefix)
        final = base / f"{prefix}{(numbered[-1][0] + 1 if numbered else 1):04d}"
        finish(tmp, final.name)
        for f in tmp.iterdir():
            os.chmod(f, 0o444)  # immutable by convention and by mode
        try:
            os.rename(tmp, final)
            return final
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            for f in tmp.iterdir():
                os.chmod(f, 0o644)


def write_version(output_dir: str | Path, name: str, records: list[Record], rejected: list[Rejection],
                  manifest: dict) -> DatasetVersion:
    """Write a new version atomically and return it. `manifest` is completed here with version,
    counts, file and content hashes, created_at and the git commit."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name or ""):
        raise DatagenError(f"invalid dataset name {name!r}: use letters, digits, '.', '_' and '-'")
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise DatagenError("internal: duplicate record ids among kept records (run exact_dup first)")
    base = Path(output_dir) / name
    base.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(base)
    sha = content_sha256(records, rejected)
    latest = list_versions(output_dir, name)[-1:]
    if latest and latest[0].manifest().get("content_sha256") == sha:  # an unchanged rerun: no copy of it
        return DatasetVersion(latest[0].path, unchanged=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
    try:
        _write_parquet(_table(records), tmp / "records.parquet")
        _write_parquet(_rejected_table(rejected), tmp / "rejected.parquet")
        reasons: dict[str, int] = {}
        stages: dict[str, int] = {}
        for rej in rejected:
            reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
            stages[rej.stage] = stages.get(rej.stage, 0) + 1
        full = dict(manifest)
        full["counts"] = dict(full.get("counts") or {})
        full["counts"].update(kept=len(records), rejected=len(rejected),
                              dropped=dict(sorted(reasons.items())), dropped_by_stage=dict(sorted(stages.items())))
        full["content_sha256"] = sha
        full["files"] = {f: _file_sha(tmp / f) for f in ("records.parquet", "rejected.parquet")}
        full["created_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        full["git_commit"] = git_commit()
        full["name"] = name
        os.chmod(tmp, 0o755)  # mkdtemp makes it owner-only; a dataset is for everyone to read

        def finish(folder: Path, label: str) -> None:
            full["version"] = label
            for f in ("manifest.json", "README.md"):
                (folder / f).unlink(missing_ok=True)
            (folder / "manifest.json").write_text(json.dumps(full, indent=2, ensure_ascii=False, default=str) + "\n",
                                                  encoding="utf-8")
            (folder / "README.md").write_text(render_card(full, records), encoding="utf-8")

        final = publish(tmp, base, "v", finish)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return DatasetVersion(final)


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
