"""Eval results are immutable like dataset versions: `<output_dir>/<name>/eNNNN/` with
results.parquet (one row per prompt and model), summary.json and provenance.json, written to a temp
folder and renamed in one step (datagen.versions.folders.publish).

    write_eval("evals", "ifeval", rows, summary, provenance) -> Path("evals/ifeval/e0001")
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from datagen.versions.folders import clean_stale_tmp, git_commit, make_tmp, numbered, publish, release_tmp
from datagen.versions.hashing import file_sha
from datagen.errors import DatagenError
from datagen.names import child
from datagen.outfile import make_dir
from datagen.redact import scrub

SCHEMA = pa.schema([
    ("set", pa.string()),          # "eval" (the eval set) | "heldout" (a version's held-out records)
    ("prompt_id", pa.string()),
    ("prompt", pa.string()),
    ("model", pa.string()),
    ("answer", pa.string()),
    ("finish_reason", pa.string()),
    ("checks", pa.string()),       # JSON: [{kind, args, strict, loose}]
    ("strict", pa.bool_()),
    ("loose", pa.bool_()),
    ("judge", pa.string()),        # JSON: [{against, verdict_ab, verdict_ba, parsed_ab, parsed_ba, outcome, reason}]
])


def _json(data) -> str:
    return json.dumps(scrub(data), indent=2, ensure_ascii=False, default=str) + "\n"  # no credentials in URLs


def write_eval(output_dir: str | Path, name: str, rows: list[dict], summary: dict, provenance: dict) -> Path:
    base = child(output_dir, name, "eval name")  # datagen.names: the one check of names
    make_dir(base, "--out")
    clean_stale_tmp(base)
    tmp = make_tmp(base)
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp / "results.parquet")
        provenance = {**provenance, "files": {"results.parquet": file_sha(tmp / "results.parquet")},
                      "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                      "git_commit": git_commit(), "name": name}
        os.chmod(tmp, 0o755)

        def finish(folder: Path, label: str) -> None:
            (folder / "summary.json").unlink(missing_ok=True)
            (folder / "provenance.json").unlink(missing_ok=True)
            (folder / "summary.json").write_text(_json({"eval": f"{name}/{label}", **summary}), encoding="utf-8")
            (folder / "provenance.json").write_text(_json({**provenance, "eval": f"{name}/{label}"}),
                                                    encoding="utf-8")

        return publish(tmp, base, "e", finish)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        release_tmp(tmp)
        raise


def list_evals(output_dir: str | Path) -> list[Path]:
    """Every complete eval folder under output_dir, by name then number."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    return [p for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")
            for _, p in numbered(d, "e") if (p / "summary.json").is_file()]


def open_eval(ref: str | Path, output_dir: str | Path = "evals") -> Path:
    """An eval folder, `name/eNNNN`, or `name` (the latest) under output_dir."""
    for p in (Path(ref), Path(output_dir) / ref):
        if (p / "summary.json").is_file():
            return p
        found = [q for _, q in numbered(p, "e") if (q / "summary.json").is_file()] if p.is_dir() else []
        if found:
            return found[-1]
    raise DatagenError(f"eval not found: {ref} (looked in {ref} and {Path(output_dir) / ref})")


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        why = "" if isinstance(data, dict) else f"a JSON {type(data).__name__}, not an object"
    except (OSError, ValueError, RecursionError):
        why = "not readable JSON"
    if why:
        raise DatagenError(f"eval file {path} is damaged ({why}); delete the eval folder and "
                           "run it again (the response cache makes a rerun cheap)")
    return data
