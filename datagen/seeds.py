"""Seed tasks -> Records. Reads, unchanged:
- the public Self-Instruct seed format: JSONL with id, name, instruction, instances: [{input, output}],
  is_classification (our own seeds/tasks.jsonl uses it);
- Alpaca-style instruction/input/output, as a JSON list or JSONL.
Anything else is a clear error naming the file and line.

    load_seeds("seeds/tasks.jsonl") -> [Record(instruction="...", lineage=Lineage(method="seed")), ...]
"""
from __future__ import annotations

import json
from pathlib import Path

from datagen.assets import asset_dir
from datagen.errors import DatagenError
from datagen.jsonl import json_objects, read_text
from datagen.record import Lineage, Record, sha256_text

DEFAULT_SEEDS = "tasks.jsonl"


def default_seeds_path() -> Path:
    return asset_dir("seeds") / DEFAULT_SEEDS


def _rows(path: Path) -> list[tuple[int, dict]]:
    text = read_text(path, "seed file")
    stripped = text.lstrip()
    if not stripped:
        raise DatagenError(f"seed file {path} is empty")
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatagenError(f"seed file {path} line {exc.lineno}: invalid JSON: {exc.msg}") from None
        if not all(isinstance(d, dict) for d in data):
            raise DatagenError(f"seed file {path}: expected a JSON list of objects")
        return [(i + 1, d) for i, d in enumerate(data)]
    return json_objects(text, f"seed file {path}")


def _text(obj: dict, key: str, where: str, required: bool = True) -> str:
    value = obj.get(key, "" if not required else None)
    if value is None or not isinstance(value, str):
        raise DatagenError(f"{where}: field {key!r} must be a string")
    if required and not value.strip():
        raise DatagenError(f"{where}: field {key!r} is empty")
    return value


def load_seeds(path: str | Path | None = None) -> list[Record]:
    path = Path(path) if path else default_seeds_path()
    records = []
    for lineno, obj in _rows(path):
        where = f"seed file {path} line {lineno}"
        if "instances" in obj:
            instr = _text(obj, "instruction", where)
            insts = obj["instances"]
            if not isinstance(insts, list) or not insts or not all(isinstance(i, dict) for i in insts):
                raise DatagenError(f"{where}: 'instances' must be a non-empty list of {{input, output}}")
            first = insts[0]
            meta = {"seed_name": str(obj.get("name", obj.get("id", ""))),
                    "is_classification": bool(obj.get("is_classification", False)),
                    "instances": [{"input": _text(i, "input", where, False),
                                   "output": _text(i, "output", where)} for i in insts]}
            if "kind" in obj:
                meta["kind"] = str(obj["kind"])
            rec = Record.make(instr, first.get("input", ""), first["output"],
                              lineage=Lineage(method="seed"), meta=meta)
        elif "instruction" in obj and "output" in obj:
            meta = {"is_classification": bool(obj.get("is_classification", False))}
            rec = Record.make(_text(obj, "instruction", where), _text(obj, "input", where, False),
                              _text(obj, "output", where), lineage=Lineage(method="seed"), meta=meta)
        else:
            raise DatagenError(f"{where}: not a seed task: expected Self-Instruct fields "
                               "(instruction, instances, is_classification) or Alpaca fields (instruction, input, output)")
        records.append(rec)
    # Same instruction twice in one seed file would make two identical ids: keep the first.
    seen, unique = set(), []
    for r in records:
        if r.id not in seen:
            seen.add(r.id)
            unique.append(r)
    return unique


def seeds_sha(path: str | Path | None = None) -> str:
    path = Path(path) if path else default_seeds_path()
    return sha256_text(read_text(path, "seed file"))


def parent_info(parent, count: int) -> dict:
    """What a manifest says of the version a run started from (--from)."""
    return {"from_version": str(parent.path), "content_sha256": parent.manifest().get("content_sha256"),
            "count": count}


def seed_file_info(path: str, count: int) -> dict:
    return {"path": path or "bundled:seeds/tasks.jsonl", "sha256": seeds_sha(path or None), "count": count}


def load_seed_records(cfg) -> tuple[list[Record], dict, object]:
    """The starting pool of a RunConfig: a dataset version (--from) or a seed file; with what the
    manifest says of it, and the parent version (or None)."""
    if cfg.from_version:
        from datagen.versions import open_version

        parent = open_version(cfg.from_version, cfg.output_dir)
        seeds = parent.records()
        info = parent_info(parent, len(seeds))
    else:
        parent = None
        seeds = load_seeds(cfg.seeds or None)
        info = seed_file_info(cfg.seeds, len(seeds))
    if not seeds:
        raise DatagenError("no seed records to start from")
    return seeds, info, parent
