"""What changed between two dataset versions: ids added, ids removed, and records whose
instruction (and input) stayed while the content changed.

    diff_versions(v1, v2) -> {"base": "demo/v0001", "target": "demo/v0002", "added": [...], "removed": [...],
                              "changed": [[old_id, new_id], ...]}
"""
from __future__ import annotations

from datagen.versions.version import DatasetVersion
from datagen.record import normalize


def _keyed(v: DatasetVersion):
    """(id, prompt key) of every record in order, streamed from the id/instruction/input columns."""
    for batch in v.iter_batches():
        for rid, instr, inp in zip(*(batch.column(c).to_pylist() for c in ("id", "instruction", "input"))):
            yield rid, normalize(instr).lower() + "\x1f" + normalize(inp).lower()


def diff_versions(a: DatasetVersion, b: DatasetVersion) -> dict:
    """Streams both versions (sharded or one file): memory holds their ids, not their records."""
    ids_a, ids_b = {rid for rid, _ in _keyed(a)}, {rid for rid, _ in _keyed(b)}
    removed, by_prompt = [], {}
    for rid, key in _keyed(a):
        if rid not in ids_b:
            removed.append(rid)
            by_prompt[key] = rid
    added, changed = [], []
    for rid, key in _keyed(b):
        if rid not in ids_a:
            added.append(rid)
            if key in by_prompt:
                changed.append([by_prompt[key], rid])
    return {"base": a.ref, "target": b.ref, "added": added, "removed": removed, "changed": changed}
