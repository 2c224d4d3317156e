"""The engine side of filters: building them from specs (typed, range-checked options), applying
them in order with a funnel, and re-filtering a version into the next one of the same name. The
new manifest names its parent and holds the full filter config and the per-filter funnel; its
rejected.parquet holds only this filtering's rejections (the parent's stay in the parent).

    build_filters(["exact_dup", {"name": "quality", "min_words": 3}]) -> [("exact_dup", ExactDup()), ...]
    refilter(FilterConfig(from_version="demo/v0001", filters=["quality"])) -> DatasetVersion(demo/v0002)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from datagen import config as C
from datagen.backends import TeacherConfig, public_config
from datagen.dataset import DatasetVersion, Rejection, open_version, write_version
from datagen.errors import DatagenError
from datagen.progress import Progress
from datagen.record import Record, canonical_json, sha256_text
from datagen.session import SamplingConfig, check_executor, open_session


@dataclass
class FilterConfig:
    from_version: str = field(default="", metadata={"help": "version to filter: NAME, NAME/vNNNN or a directory (required)"})
    filters: list = field(default_factory=list, metadata={"help": "filters in order: names or {name: ..., options}; "
                                                                  "options also as --NAME.OPTION value"})
    name: str = field(default="", metadata={"help": "dataset name of the new version (empty = the parent's)"})
    output_dir: str = field(default="", metadata={"help": "where versions live (empty = the parent's folder)"})
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    seed: int | None = field(default=None, metadata={"help": "sampling seed passed to the judge's requests"})
    templates: str = field(default="", metadata={"help": "your prompt folder (e.g. your own filters/judge.j2)"})
    cache: str = field(default="", metadata={"help": "response cache (empty = <output_dir>/.cache/responses.sqlite)"})
    max_requests: int | None = field(default=None, metadata={"help": "stop judging after this many teacher requests",
                                                             "min": 0})
    max_tokens_total: int | None = field(default=None, metadata={"help": "stop judging after this many tokens",
                                                                 "min": 0})
    executor: str = field(default="local", metadata={"help": "local | ray (per-record filters as map_batches, "
                                                             "dedup in two stages)"})
    ray_address: str = field(default="", metadata={"help": "Ray cluster address (empty = start a local Ray)"})


def spec_of(spec) -> tuple[str, dict]:
    """A filter spec is a name or a mapping with 'name': "quality" -> ("quality", {})."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict) and "name" in spec:
        return str(spec["name"]), {k: v for k, v in spec.items() if k != "name"}
    raise DatagenError(f"a filter is a name or a mapping with 'name', got {spec!r}")


def make_filter(name: str, options: dict):
    """The filter `name` with typed, range-checked options; bad options are one-line errors."""
    import filters as F

    return C.build(F.filter_class(name), options, f"{name}.")


def resolve_specs(specs: list, flag_options: dict | None = None) -> list[dict]:
    """Recipe/flag specs + `--NAME.OPTION value` flags -> [{"name": ..., **typed options}]."""
    flag_options = flag_options or {}
    out, named = [], set()
    for spec in specs:
        name, options = spec_of(spec)
        options.update(flag_options.get(name, {}))
        built = make_filter(name, options)
        out.append({"name": name, **{k: C.to_dict(getattr(built, k)) for k in options}})
        named.add(name)
    stray = sorted(set(flag_options) - named)
    if stray:
        raise DatagenError(f"options given for filter(s) not in the list: {', '.join(stray)}")
    if not out:
        raise DatagenError("no filters given: use --filters a,b or a recipe with a `filters:` list")
    return out


def needs_teacher(specs: list) -> bool:
    import filters as F

    return any(F.filter_class(spec_of(s)[0]).needs_teacher for s in specs)


def build_filters(specs, ctx=None) -> list:
    """specs in order -> [(name, filter)]; a filter that needs a teacher is bound to `ctx` now, so a
    missing teacher fails before any work."""
    out = []
    for spec in specs or []:
        name, options = spec_of(spec)
        fn = make_filter(name, options)
        if fn.needs_teacher:
            fn.bind(ctx)
        out.append((name, fn))
    return out


def apply_filters(filters: Sequence[tuple[str, object]], records: list[Record],
                  progress=None) -> tuple[list[Record], list[Rejection], list[dict]]:
    """Run filters in order; each sees only what the previous ones kept. Returns the kept records,
    the rejections, and the funnel: one entry per filter with in/kept/dropped-by-reason. A filter's
    annotations() are merged into the meta of the records it keeps and rejects (ids do not change).

        apply_filters([("length", Length())], records) -> (kept, [Rejection(r, "too_short", "filter:length")], funnel)
    """
    from filters.base import split_verdict

    kept = list(records)
    rejected: list[Rejection] = []
    funnel = []
    for name, fn in filters:
        verdicts = fn(kept)
        if len(verdicts) != len(kept):
            raise RuntimeError(f"filter {name} returned {len(verdicts)} verdicts for {len(kept)} records")
        survivors, dropped = [], {}
        notes = fn.annotations() if hasattr(fn, "annotations") else {}
        for rec, v in zip(kept, verdicts):
            if rec.id in notes:
                rec = dataclasses.replace(rec, meta={**rec.meta, **notes[rec.id]})  # same id
            sv = split_verdict(v)
            if sv is None:
                survivors.append(rec)
            else:
                rejected.append(Rejection(rec, sv[0], f"filter:{name}", sv[1]))
                dropped[sv[0]] = dropped.get(sv[0], 0) + 1
        funnel.append({"filter": name, "in": len(kept), "kept": len(survivors), "dropped": dropped})
        if progress is not None:
            progress.update(rejected=len(kept) - len(survivors))
        kept = survivors
    return kept, rejected, funnel


def refilter(cfg: FilterConfig, specs: list | None = None, backend=None, progress: Progress | None = None) -> DatasetVersion:
    """Filter cfg.from_version with `specs` (default cfg.filters) and write the next version."""
    specs = resolve_specs(specs if specs is not None else cfg.filters)
    check_executor(cfg.executor)
    parent = open_version(cfg.from_version, cfg.output_dir or "runs")
    output_dir = Path(cfg.output_dir) if cfg.output_dir else parent.path.parent.parent
    pm = parent.manifest()
    records = parent.records()
    run_id = sha256_text(canonical_json({"filter": C.to_dict(cfg)}))[:12]
    with open_session(cfg, output_dir, run_id, backend, progress, with_teacher=needs_teacher(specs),
                      what="the judge filter") as session:
        kept, rejected, funnel = apply_filters(session.filters(specs), records, session.progress)
    manifest = {
        "method": "filter",
        "parent": parent.ref,
        "parent_content_sha256": pm.get("content_sha256"),
        "config": {**public_config(C.to_dict(cfg)), "filters": specs},
        "counts": {"input": len(records), "parent_rejected": pm.get("counts", {}).get("rejected", 0),
                   "rejected_scope": "this filtering only; the parent's rejections stay in " + parent.ref},
        "funnel": funnel,
        **session.teacher_manifest(),
    }
    return write_version(output_dir, cfg.name or parent.name, kept, rejected, manifest)
