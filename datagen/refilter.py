"""Re-filtering: run filters over an existing version and write the next version of the same name.
The new manifest names its parent and holds the full filter config and the per-filter funnel. Its
rejected.parquet holds only this filtering's rejections (the parent's stay in the parent).
The parent is read batch by batch and the new version written as it goes (stream_filters into a
VersionWriter), so memory holds one batch plus the dedup indexes, never the whole parent.

    refilter(FilterConfig(from_version="demo/v0001", filters=["quality"])) -> DatasetVersion(demo/v0002)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datagen import config as C
from datagen.backends import public_config
from datagen.versions import DatasetVersion, VersionWriter, open_version
from datagen.executor import make_executor
from datagen.names import check_name
from datagen.filtering import needs_teacher, resolve_specs
from datagen.progress import Progress
from datagen.run import check_not_empty
from datagen.record import canonical_json, sha256_text
from datagen.session import SessionConfig, open_session

BATCH = 10_000  # parent records read and filtered at once


@dataclass
class FilterConfig(SessionConfig):
    from_version: str = field(default="", metadata={"help": "version to filter: NAME, NAME/vNNNN or a directory (required)"})
    filters: list = field(default_factory=list, metadata={"help": "filters in order: names or {name: ..., options}; "
                                                                  "options also as --NAME.OPTION value"})
    name: str = field(default="", metadata={"help": "dataset name of the new version (empty = the parent's)"})
    output_dir: str = field(default="", metadata={"help": "where versions live (empty = the parent's folder)"})
    allow_empty: bool = field(default=False, metadata={"help": "write a version even when nothing is kept"})


def refilter(cfg: FilterConfig, specs: list | None = None, backend=None, progress: Progress | None = None) -> DatasetVersion:
    """Filter cfg.from_version with `specs` (default cfg.filters) and write the next version."""
    if cfg.name:  # before any work: a bad --name is named at once
        check_name(cfg.name, "dataset name")
    specs = resolve_specs(specs if specs is not None else cfg.filters)
    executor = make_executor(cfg)
    parent = open_version(cfg.from_version, cfg.output_dir or "runs")
    output_dir = Path(cfg.output_dir) if cfg.output_dir else parent.path.parent.parent
    pm = parent.manifest()
    run_id = sha256_text(canonical_json({"filter": C.to_dict(cfg)}))[:12]
    with VersionWriter(output_dir, cfg.name or parent.name) as out:
        with open_session(cfg, output_dir, run_id, backend, progress,
                          purpose="the judge filter" if needs_teacher(specs) else None, executor=executor) as session:
            funnel, publish = executor.filter_version(session.filters(specs), parent, out, session.progress, BATCH)
        kept = funnel[-1]["kept"] if funnel else 0
        undone = {f"filter:{f['filter']}": f["undone"] for f in funnel if f.get("undone")}
        check_not_empty(kept, session.teacher_manifest(), undone, cfg.allow_empty, session.teacher)
        manifest = {
            "method": "filter",
            "parent": parent.ref,
            "parent_content_sha256": pm.get("content_sha256"),
            "config": {**public_config(C.to_dict(cfg)), "filters": specs},
            "counts": {"input": funnel[0]["in"] if funnel else 0,
                       "parent_rejected": pm.get("counts", {}).get("rejected", 0),
                       "rejected_scope": "this filtering only; the parent's rejections stay in " + parent.ref},
            "funnel": funnel,
            **session.teacher_manifest(),
            "undone": undone,
        }
        return publish(manifest)
