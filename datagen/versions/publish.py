"""The one publish step of a dataset version: a finished temp folder (its parquet files, however they
were written: VersionWriter on one machine, or the Ray workers) gets its manifest and card and is
renamed onto the next free vNNNN (datagen.versions.folders.publish: atomic, never half-visible).

    same_latest(runs, "demo", "rows", sha) -> the latest version when it holds this content, else None
    publish_version(tmp, runs / "demo", manifest, "rows", sha, shards, kept, counts, sample) -> DatasetVersion
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from datagen.record import Record
from datagen.redact import scrub
from datagen.versions.card import render_card
from datagen.versions.folders import git_commit, publish
from datagen.versions.hashing import file_sha, hash_kind
from datagen.versions.version import DatasetVersion, list_versions


def same_latest(output_dir: str | Path, name: str, kind: str, sha: str) -> DatasetVersion | None:
    """The latest version of `name` when its content hash has this kind and value (an unchanged rerun:
    no copy of it is written); None otherwise."""
    latest = list_versions(output_dir, name)[-1:]
    if latest:
        m = latest[0].manifest()
        if hash_kind(m) == kind and m.get("content_sha256") == sha:
            return DatasetVersion(latest[0].path, unchanged=True)
    return None


def publish_version(tmp: Path, base: Path, manifest: dict, kind: str, sha: str, shards: dict, kept: int,
                    counts: tuple[dict, dict], card_records: list[Record], files: dict | None = None) -> DatasetVersion:
    """Complete the manifest of the finished files in `tmp` (counts, content hash and its kind, file
    sha256s, shards, time, git commit) and publish it as the next version of `base`. `files`: the
    sha256s when the workers that wrote the files computed them already."""
    reasons, stages = counts
    full = dict(manifest)
    full["counts"] = dict(full.get("counts") or {})
    full["counts"].update(kept=kept, rejected=sum(reasons.values()),
                          dropped=dict(sorted(reasons.items())), dropped_by_stage=dict(sorted(stages.items())))
    full["content_sha256"] = sha
    full["content_hash"] = kind
    names = [f for part in ("records", "rejected") for f in shards.get(part, [f"{part}.parquet"])]
    full["files"] = {f: (files or {}).get(f) or file_sha(tmp / f) for f in names}
    if shards:
        full["shards"] = shards
    full["created_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    full["git_commit"] = git_commit()
    full["name"] = base.name
    os.chmod(tmp, 0o755)  # mkdtemp makes it owner-only; a dataset is for everyone to read

    def finish(folder: Path, label: str) -> None:
        full["version"] = label
        for f in ("manifest.json", "README.md"):
            (folder / f).unlink(missing_ok=True)
        (folder / "manifest.json").write_text(json.dumps(scrub(full), indent=2, ensure_ascii=False, default=str) + "\n",
                                              encoding="utf-8")
        card = render_card(full, card_records)
        if kept > len(card_records):
            card = card.replace("## Shape\n\n", f"## Shape\n\nOf the first {len(card_records)} records: ", 1)
        (folder / "README.md").write_text(card, encoding="utf-8")

    return DatasetVersion(publish(tmp, base, "v", finish))
