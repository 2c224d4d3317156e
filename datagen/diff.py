"""What changed between two dataset versions: ids added, ids removed, and records whose
instruction (and input) stayed while the content changed.

    diff_versions(v1, v2) -> {"base": "demo/v0001", "target": "demo/v0002", "added": [...], "removed": [...],
                              "changed": [[old_id, new_id], ...]}
"""
from __future__ import annotations

from datagen.dataset import DatasetVersion
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
