"""Reading a SOURCE row by row, in bounded memory: JSONL, JSON (a list of objects), Parquet, CSV, a
folder of them, or a folder saved by `datasets` (save_to_disk: Arrow stream files). Each row comes
out as a Row saying where it is and either its dict or why it could not be read.

    list(read_rows(Path("a.jsonl"), "a.jsonl"))
    -> [Row("a.jsonl line 1", {"instruction": ...}), Row("a.jsonl line 2", None, "invalid JSON: ...", "{oops")]
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from datagen.errors import DatagenError

SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".csv", ".arrow")
BATCH = 1024   # rows per Parquet / Arrow batch
RAW_CAP = 1000  # characters of an unreadable row kept in its rejection
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, under errors="surrogateescape"


@dataclass(frozen=True)
class Row:
    where: str           # "tasks.jsonl line 12", "train.parquet row 7"
    data: dict | None    # None when the row could not be read
    error: str = ""      # why not
    raw: str = ""        # the unreadable text, capped


def is_hf_folder(path: Path) -> bool:
    """A folder written by Dataset.save_to_disk (state.json) or DatasetDict.save_to_disk."""
    return path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file())


def _hf_files(path: Path) -> list[Path]:
    if (path / "dataset_dict.json").is_file():
        splits = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8")).get("splits", [])
        return [f for s in splits for f in _hf_files(path / s)]
    state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    return [path / d["filename"] for d in state.get("_data_files", [])]


def source_files(source: str | Path) -> list[Path]:
    """The files to read, in order; a missing source or one with nothing readable is an error."""
    path = Path(source).expanduser()
    if not path.exists():
        raise DatagenError(f"import source not found: {path}")
    if path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            raise DatagenError(f"cannot import {path.name}: import reads {', '.join(SUFFIXES)} files, "
                               "a folder of them or a folder saved by datasets")
        return [path]
    try:
        files = _hf_files(path) if is_hf_folder(path) else sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatagenError(f"cannot read the datasets folder {path}: {type(exc).__name__}: {exc}") from None
    if not files:
        raise DatagenError(f"no {', '.join(SUFFIXES)} files in the folder {path}")
    return files


def source_sha256(files: list[Path], root: Path) -> str:
    """sha256 of a file's bytes; for a folder, of its files' relative names and sha256s in order."""
    shas = []
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        shas.append((f.relative_to(root).as_posix() if root.is_dir() else f.name, h.hexdigest()))
    if len(files) == 1 and not root.is_dir():
        return shas[0][1]
    return hashlib.sha256("".join(f"{n}\0{s}\n" for n, s in shas).encode()).hexdigest()


def read_rows(path: Path, label: str) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(path, label)
    if suffix == ".json":
        return _json(path, label)
    if suffix == ".csv":
        return _csv(path, label)
    return _columnar(path, label, suffix)


def _object(value, where: str, raw: str) -> Row:
    if isinstance(value, dict):
        return Row(where, value)
    return Row(where, None, f"expected a JSON object, got {type(value).__name__}", raw[:RAW_CAP])


def _jsonl(path: Path, label: str) -> Iterator[Row]:
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{label} line {lineno}"
            raw = line.decode("utf-8", errors="replace").rstrip("\n")
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Row(where, None, f"invalid JSON: {exc.msg} (column {exc.colno})", raw[:RAW_CAP])
                continue
            except UnicodeDecodeError as exc:
                yield Row(where, None, f"not UTF-8: {exc.reason}", raw[:RAW_CAP])
                continue
            except RecursionError:
                yield Row(where, None, "JSON nested too deeply", raw[:RAW_CAP])
                continue
            yield _object(value, where, raw)


def _json(path: Path, label: str) -> Iterator[Row]:
    """A JSON list is read whole (use JSONL for big files); anything else is read as JSON lines."""
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    if not head.startswith(b"["):
        yield from _jsonl(path, label)
        return
    try:
        data = json.loads(path.read_bytes())
    except RecursionError:
        yield Row(label, None, "JSON nested too deeply", "")
        return
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        why = f"invalid JSON at line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else \
            f"not UTF-8: {exc.reason}"
        yield Row(label, None, why, "")
        return
    for i, value in enumerate(data, 1):
        yield _object(value, f"{label} item {i}", json.dumps(value, default=str))


def _csv(path: Path, label: str) -> Iterator[Row]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    # surrogateescape keeps undecodable bytes as lone surrogates, so each such row is named, not mangled
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        try:
            reader = csv.DictReader(f)
            width = len(reader.fieldnames or [])
            for row in reader:
                where = f"{label} line {reader.line_num}"
                if None in row or None in row.values():
                    cells = len(row) - 1 + len(row.get(None) or []) if None in row else \
                        sum(v is not None for v in row.values())
                    yield Row(where, None, f"{cells} fields where the header has {width}",
                              ",".join(str(v) for v in row.values())[:RAW_CAP])
                    continue
                if any(_UNDECODED.search(k or "") or _UNDECODED.search(v) for k, v in row.items()):
                    yield Row(where, None, "not UTF-8", ",".join(row.values()).encode("utf-8", "replace")
                              .decode("utf-8")[:RAW_CAP])
                    continue
                yield Row(where, dict(row))
        except csv.Error as exc:
            yield Row(f"{label} line {reader.line_num + 1}", None, f"unreadable CSV: {exc}")


def _columnar(path: Path, label: str, suffix: str) -> Iterator[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if suffix == ".parquet":
            batches = pq.ParquetFile(path).iter_batches(batch_size=BATCH)
        else:
            try:  # datasets writes the Arrow stream format; a plain Arrow file is read too
                batches = iter(pa.ipc.open_stream(path))
            except pa.ArrowInvalid:
                batches = (b for b in pa.ipc.open_file(path).to_batches())
        n = 0
        for batch in batches:
            for row in batch.to_pylist():
                n += 1
                yield Row(f"{label} row {n}", row)
    except (pa.ArrowException, OSError) as exc:
        yield Row(label, None, f"cannot read: {type(exc).__name__}: {exc}")


def iter_source(files: list[Path], root: Path) -> Iterator[Row]:
    for f in files:
        label = f.relative_to(root).as_posix() if root.is_dir() else f.name
        yield from read_rows(f, label)
