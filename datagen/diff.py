"""What changed between two dataset versions: ids added, ids removed, and records whose
instruction (and input) stayed while the content changed.

    diff_versions(v1, v2) -> {"base": "demo/v0001", "target": "demo/v0002", "added": [...], "removed": [...],
                              "changed": [[old_id, new_id], ...]}
"""
from __future__ import annotations

from datagen.dataset import DatasetVersion, open_version
from datagen.errors import DatagenError
from datagen.record import Record, normalize


def _prompt_key(r: Record) -> str:
    return normalize(r.instruction).lower() + "\x1f" + normalize(r.input).lower()


def diff_versions(a: DatasetVersion, b: DatasetVersion) -> dict:
    ra, rb = a.records(), b.records()
    ids_a, ids_b = {r.id for r in ra}, {r.id for r in rb}
    removed = [r.id for r in ra if r.id not in ids_b]
    added = [r.id for r in rb if r.id not in ids_a]
    by_prompt = {_prompt_key(r): r.id for r in ra if r.id not in ids_b}
    changed = [[by_prompt[_prompt_key(r)], r.id] for r in rb
               if r.id not in ids_a and _prompt_key(r) in by_prompt]
    return {"base": a.ref, "target": b.ref, "added": added, "removed": removed, "changed": changed}


def cmd_diff(argv: list[str]) -> int:
    """Compare two versions: `datagen diff V1 V2 [--out runs] [--summary]`."""
    from datagen.cli import _flags

    pos, o = _flags(argv, {"out": "runs", "summary": False})
    if len(pos) != 2:
        raise DatagenError("usage: datagen diff V1 V2 [--out runs] [--summary]")
    a, b = open_version(pos[0], o["out"]), open_version(pos[1], o["out"])
    d = diff_versions(a, b)
    print(f"{d['base']} -> {d['target']}: {len(d['added'])} added, {len(d['removed'])} removed, "
          f"{len(d['changed'])} changed")
    if not o["summary"]:
        for rid in d["removed"]:
            print(f"- {rid}")
        for rid in d["added"]:
            print(f"+ {rid}")
        for old, new in d["changed"]:
            print(f"~ {old} -> {new}")
    return 0

