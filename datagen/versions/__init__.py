"""Dataset versions: immutable folders `<runs>/<name>/vNNNN/` (parquet records and rejections, a
manifest, a card), written once, published atomically, read batch by batch.

Public API (import from `datagen.versions`):
    open_version(ref, output_dir="runs") -> DatasetVersion     list_versions(output_dir, name) -> [...]
    DatasetVersion (.manifest(), .iter_records(), .iter_rejected(), .records(), .checked(file), ...)
    Rejection(record, reason, stage, detail)                   verify_version(version) -> {file: sha256}
    VersionWriter(output_dir, name) (.add, .reject, .commit, and .publish for files written elsewhere)
    write_version(output_dir, name, records, rejections, manifest)   # VersionWriter fed from lists
    content_sha256(records, rejections)                        diff_versions(a, b)
    render_tree(version, record_id)                            render_card(manifest, records)
    datagen.versions.export: export(version, fmt, out), FORMATS, row_for, to_messages, check_format

Modules: version.py (open, list, read, verify), writer.py (the one writer), publish.py (the one publish
step: manifest, card, atomic rename; the Ray workers' files go through it too), hashing.py (the content
hash and its two kinds, "rows" and "per_shard": when each is used is written there), shards.py (parquet
schemas and shard files), folders.py (numbered folders published atomically; eval runs use it too),
card.py, export.py, diff.py, tree.py.
"""
from datagen.versions.card import render_card
from datagen.versions.diff import diff_versions
from datagen.versions.hashing import content_sha256
from datagen.versions.tree import render_tree
from datagen.versions.version import DatasetVersion, Rejection, list_versions, open_version, verify_version
from datagen.versions.writer import VersionWriter, write_version

__all__ = ["DatasetVersion", "Rejection", "VersionWriter", "content_sha256", "diff_versions",
           "list_versions", "open_version", "render_card", "render_tree", "verify_version",
           "write_version"]
