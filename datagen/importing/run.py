"""`datagen import`: any instruction dataset -> an ordinary version (lineage method `import`; the
source's path, sha256 and format in the manifest), read as a stream. A row that cannot be read or
does not fit the format is a `malformed` rejection naming its line or row and why; a row equal to an
earlier one is an `exact_duplicate` rejection (a version holds each id once).

    import_source(ImportConfig(source="alpaca.json", name="mine")) -> (DatasetVersion(runs/mine/v0001), info)
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from datagen import config as C
from datagen.versions import DatasetVersion, Rejection
from datagen.versions import VersionWriter
from datagen.errors import DatagenError
from datagen.names import check_name
from datagen.importing.detect import SAMPLE, apply_map, check_map, detect, parse_map
from datagen.importing.formats import FORMATS, RowError, fields_of
from datagen.importing.sources import Row, is_hf_folder, iter_source, source_files, source_sha256
from datagen.record import Lineage, Record, canonical_json, sha256_text

IMPORT_FORMATS = ("auto", *FORMATS, "hf")
SAMPLE_ROWS_MAX = 10 * SAMPLE  # rows read (good or bad) while looking for SAMPLE good ones
BATCH = 1000  # records handed to the writer at once


@dataclass
class ImportConfig:
    source: str = field(default="", metadata={"help": "a JSON, JSONL, Parquet or CSV file, a folder of them, or a "
                                                      "folder saved by datasets", "positional": True, "required": True})
    name: str = field(default="", metadata={"help": "dataset name of the new version (required)"})
    format: str = field(default="auto", metadata={"help": "auto | " + " | ".join(IMPORT_FORMATS[1:]) +
                                                          " (hf: a datasets folder; its rows' format is detected)"})
    map: str = field(default="", metadata={"help": "other column names: TARGET=COLUMN,..., e.g. "
                                                   "instruction=question,output=answer"})
    output_dir: str = field(default="runs", metadata={"help": "where versions live"})


def _sample(rows) -> list[Row]:
    """The first rows, up to SAMPLE readable ones (or SAMPLE_ROWS_MAX rows in all)."""
    out, good = [], 0
    for row in rows:
        out.append(row)
        good += row.data is not None
        if good >= SAMPLE or len(out) >= SAMPLE_ROWS_MAX:
            break
    return out


def lone_surrogate(value, depth: int = 0) -> str | None:
    """The first text in a row that is not valid Unicode (a lone surrogate), else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return value[exc.start:exc.end].encode("utf-8", "backslashreplace").decode()
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = lone_surrogate(k, depth + 1) or lone_surrogate(v, depth + 1) if depth < 50 else None
        if found is not None:
            return found
    return None


def _malformed(row: Row, why: str, lineage: Lineage) -> Rejection:
    raw = row.raw or (canonical_json(row.data)[:1000] if row.data is not None else "")
    raw = raw.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be stored: it becomes '?'
    rec = Record.make(raw or row.where, lineage=lineage, meta={"source": row.where})
    return Rejection(rec, "malformed", "import", f"{row.where}: {why}")


def resolve_format(cfg: ImportConfig, source: Path, good: list[dict]) -> tuple[str, str]:
    """(row format, how it was chosen)."""
    hf = is_hf_folder(source)
    if cfg.format == "hf" and not hf:
        raise DatagenError(f"--format hf reads a folder saved by datasets (save_to_disk); {source} is not one")
    if cfg.format not in ("auto", "hf"):
        return cfg.format, "as given"
    fmt, why = detect(good, str(source))
    return fmt, f"detected: {why}" + (" in a datasets folder" if hf else "")


def import_source(cfg: ImportConfig) -> tuple[DatasetVersion, dict]:
    if not cfg.name:
        raise DatagenError("--name NAME is required: the dataset name of the new version")
    check_name(cfg.name, "dataset name")
    if cfg.format not in IMPORT_FORMATS:
        raise DatagenError(f"unknown import format {cfg.format!r}; choose one of: {', '.join(IMPORT_FORMATS)}")
    mapping = parse_map(cfg.map)
    source = Path(cfg.source).expanduser()
    files = source_files(source)
    rows = iter_source(files, source)
    sample = _sample(rows)
    if not sample:
        raise DatagenError(f"{source} is empty: no rows to import")
    good = [r.data for r in sample if r.data is not None]
    if not good:
        first = sample[0]
        raise DatagenError(f"no row of {source} could be read (first: {first.where}: {first.error}); nothing imported")
    check_map(mapping, good, str(source))
    fmt, how = resolve_format(cfg, source, [apply_map(d, mapping) for d in good])
    sha = source_sha256(files, source)
    run_id = sha256_text(canonical_json({"source": sha, "format": fmt, "map": mapping}))[:12]
    lineage = Lineage(method="import", run_id=run_id, operation=fmt)
    with VersionWriter(cfg.output_dir, cfg.name) as out:
        counts, malformed = _stream(itertools.chain(sample, rows), fmt, mapping, lineage, out)
        if counts["rows"] == counts["malformed"] + counts["exact_duplicate"]:
            raise DatagenError(f"no row of {source} could be imported as {fmt} ({counts['malformed']} malformed; "
                               f"first: {malformed[0] if malformed else '-'}); nothing written")
        manifest = {
            "method": "import",
            "run_id": run_id,
            "parent": None,
            "source": {"path": str(source), "sha256": sha, "files": len(files), "format": fmt, "chosen": how,
                       "map": mapping},
            "config": C.to_dict(cfg),
            "counts": {"generated": counts["rows"], "input": counts["rows"]},
        }
        version = out.commit(manifest)
    return version, {"format": fmt, "how": how, "counts": counts, "malformed": malformed}


def _stream(rows, fmt: str, mapping: dict, lineage: Lineage, out: VersionWriter) -> tuple[dict, list[str]]:
    """Every row into `out` as a record or a rejection, in batches; the counts and the first malformed."""
    counts = {"rows": 0, "malformed": 0, "exact_duplicate": 0}
    malformed: list[str] = []
    seen: set[bytes] = set()  # 16 bytes of each kept id: the one part of memory that grows with the rows
    kept: list[Record] = []
    rejected: list[Rejection] = []
    for row in rows:
        counts["rows"] += 1
        rec, rej = _one(row, fmt, mapping, lineage, seen)
        if rej is not None:
            counts[rej.reason] += 1
            rejected.append(rej)
            if rej.reason == "malformed" and len(malformed) < 20:
                malformed.append(rej.detail)
        else:
            kept.append(rec)
        if len(kept) >= BATCH or len(rejected) >= BATCH:
            out.add(kept)
            out.reject(rejected)
            kept, rejected = [], []
    out.add(kept)
    out.reject(rejected)
    return counts, malformed


def _one(row: Row, fmt: str, mapping: dict, lineage: Lineage, seen: set) -> tuple[Record | None, Rejection | None]:
    """One row -> (its record, None) or (None, its rejection)."""
    if row.data is None:
        return None, _malformed(row, row.error, lineage)
    bad = lone_surrogate(row.data)
    if bad is not None:  # JSON's "\ud800" or a CSV's undecodable byte: one row rejected, not the import
        return None, _malformed(row, f"text with a lone surrogate ({bad!r}): not valid Unicode", lineage)
    try:
        f = fields_of(fmt, apply_map(row.data, mapping))
    except RowError as exc:
        return None, _malformed(row, str(exc), lineage)
    meta = {**f.pop("meta"), "source": row.where}
    rec = Record.make(f.pop("instruction"), f.pop("input"), f.pop("output"), lineage=lineage, meta=meta, **f)
    key = bytes.fromhex(rec.id)[:16]
    if key in seen:
        return None, Rejection(rec, "exact_duplicate", "import", rec.id)
    seen.add(key)
    return rec, None
