"""The parquet files of a dataset version (schemas, tables) and their shards: `records-00000.parquet`,
`records-00001.parquet`, ... of at most SHARD_ROWS rows each (and the same for `rejected`). A kind that
fits in one shard is written as one file named as before sharding existed (`records.parquet`), so
small versions look exactly as they always did, and a reader takes either layout. (The content hash:
datagen.versions.hashing.)

    w = ShardWriter(tmp, "records", SCHEMA, shard_rows=2); w.write(rows); w.close() -> ["records-00000.parquet", ...]
    iter_parquet([tmp / "records.parquet"], batch_size=1000) -> RecordBatch, RecordBatch, ...
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from datagen.errors import DatagenError

SHARD_ROWS = 100_000  # rows per shard; override with DATAGEN_SHARD_ROWS or write_version(shard_rows=...)
BATCH_ROWS = 10_000  # rows buffered before a row group is written, and rows a reader yields at once

SCHEMA = pa.schema([
    ("id", pa.string()), ("instruction", pa.string()), ("input", pa.string()), ("output", pa.string()),
    ("rejected", pa.string()), ("messages", pa.string()), ("method", pa.string()), ("step", pa.int64()),
    ("lineage", pa.string()), ("meta", pa.string()),
])
REJECTED_SCHEMA = SCHEMA.append(pa.field("reason", pa.string())).append(
    pa.field("stage", pa.string())).append(pa.field("detail", pa.string()))


def shard_rows(override: int | None = None) -> int:
    """The shard bound in force: the argument, else $DATAGEN_SHARD_ROWS, else SHARD_ROWS."""
    value = override if override is not None else os.environ.get("DATAGEN_SHARD_ROWS", SHARD_ROWS)
    try:
        n = int(value)
    except ValueError:
        raise DatagenError(f"DATAGEN_SHARD_ROWS must be a whole number of rows, got {value!r}") from None
    if n < 1:
        raise DatagenError(f"shard rows must be >= 1, got {n}")
    return n


def shard_name(kind: str, index: int) -> str:
    return f"{kind}-{index:05d}.parquet"


class ShardWriter:
    """Rows in, shards out: a new shard is opened every `limit` rows. close() returns the file names
    in order; a single shard is renamed `<kind>.parquet`, and no rows at all give an empty
    `<kind>.parquet` with the schema and no row group (`datasets` refuses a 0-row row group)."""

    def __init__(self, folder: Path, kind: str, schema: pa.Schema, limit: int | None = None,
                 batch_rows: int = BATCH_ROWS) -> None:
        self.folder, self.kind, self.schema = Path(folder), kind, schema
        self.limit, self.batch_rows = shard_rows(limit), min(batch_rows, shard_rows(limit))
        self.names: list[str] = []
        self.buffer: list[dict] = []
        self.in_shard = 0
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.buffer.append(row)
            if self.in_shard + len(self.buffer) >= self.limit or len(self.buffer) >= self.batch_rows:
                self._flush()

    def _flush(self) -> None:
        if not self.buffer:
            return
        if self._writer is None:
            self.names.append(shard_name(self.kind, len(self.names)))
            self._writer = pq.ParquetWriter(self.folder / self.names[-1], self.schema)
        self._writer.write_table(pa.Table.from_pylist(self.buffer, schema=self.schema))
        self.in_shard += len(self.buffer)
        self.rows += len(self.buffer)
        self.buffer = []
        if self.in_shard >= self.limit:
            self._writer.close()
            self._writer, self.in_shard = None, 0

    def close(self) -> list[str]:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        single = f"{self.kind}.parquet"
        if not self.names:
            pq.ParquetWriter(self.folder / single, self.schema).close()
            self.names = [single]
        elif len(self.names) == 1:
            os.rename(self.folder / self.names[0], self.folder / single)
            self.names = [single]
        return list(self.names)

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - the folder is removed anyway
                pass
            self._writer = None


def iter_parquet(paths: Iterable[Path], batch_size: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Record batches of each file in turn, `batch_size` rows at most, never a whole file at once."""
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
            if batch.num_rows:
                yield batch


def records_table(records: list) -> pa.Table:
    rows = [r.to_row() for r in records]
    return pa.Table.from_pylist(rows, schema=SCHEMA) if rows else SCHEMA.empty_table()


def rejected_table(rejections: list) -> pa.Table:
    rows = [j.to_row() for j in rejections]
    return pa.Table.from_pylist(rows, schema=REJECTED_SCHEMA) if rows else REJECTED_SCHEMA.empty_table()


def write_parquet(table: pa.Table, path: Path) -> None:
    """An empty table is written with no row group at all: pq.write_table would write one of 0 rows,
    which `datasets` cannot read ("BatchSize must be greater than 0")."""
    if table.num_rows:
        pq.write_table(table, path)
    else:
        pq.ParquetWriter(path, table.schema).close()
