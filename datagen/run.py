"""One generation run: seeds -> method -> filters -> DatasetVersion, in one local process.

    run(RunConfig(...)) -> DatasetVersion(path=runs/self_instruct/v0001)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from datagen import config as C
from datagen.backends import public_config, without_transport
from datagen.versions import DatasetVersion, write_version
from datagen.errors import DatagenError
from datagen.executor import make_executor
from datagen.filtering import apply_filters
from datagen.methods import METHODS
from datagen.names import check_name
from datagen.progress import Progress
from datagen.record import canonical_json, sha256_text
from datagen.seeds import load_seed_records
from datagen.session import SessionConfig, open_session

log = logging.getLogger("datagen")


@dataclass
class RunConfig(SessionConfig):
    name: str = field(default="", metadata={"help": "dataset name (empty = the method): versions go to <output_dir>/<name>/vNNNN"})
    method: str = field(default="self_instruct", metadata={"help": "a method of `datagen methods`: "
                                                                   + " | ".join(METHODS)})
    method_cfg: dict = field(default_factory=dict, metadata={
        "help": "the method's options (`datagen generate --method M --help` lists them)"})
    seeds: str = field(default="", metadata={"help": "seed task file (empty = bundled seeds/tasks.jsonl)"})
    from_version: str = field(default="", metadata={"help": "start from a dataset version instead of seeds"})
    filters: list = field(default_factory=list, metadata={"help": "filters in order: names or {name: ..., options}"})
    output_dir: str = field(default="runs", metadata={"help": "where dataset versions are written"})
    ray_workers: int = field(default=2, metadata={"help": "teacher actors on Ray (vllm: one per GPU)", "min": 1})
    allow_empty: bool = field(default=False, metadata={"help": "write a version even when nothing is kept"})

    def check(self) -> None:
        missing = [k for k, v in (("sampling.max_tokens", self.sampling.max_tokens),
                                  ("sampling.temperature", self.sampling.temperature),
                                  ("seed", self.seed)) if v is None]
        if missing:
            raise DatagenError(f"{', '.join(missing)} must be set explicitly (in the recipe or as a flag): "
                               "they change the data")
        if self.method not in METHODS:
            raise DatagenError(f"unknown method {self.method!r}; choose one of: {', '.join(METHODS)}")
        if self.name:  # before any teacher call: a bad --name is named at once
            check_name(self.name, "dataset name")


def resolve_method_cfg(cfg: RunConfig):
    """The method's typed Config; the options given (`--method_cfg.n 8` arrives as "8") are written back
    into cfg.method_cfg typed, so the manifest's config records 8, as from YAML."""
    method_cfg = C.build(METHODS[cfg.method].Config, cfg.method_cfg, "method_cfg.")
    typed = C.to_dict(method_cfg)
    cfg.method_cfg = {k: typed.get(k, v) for k, v in cfg.method_cfg.items()}
    return method_cfg


def run_id_of(cfg: RunConfig, method_cfg=None) -> str:
    """Deterministic: the same config gives the same run id, so two identical runs give identical
    records (lineage included). Output locations and the executor do not count, and the method options count as
    resolved (`--method_cfg.limit 2` from the CLI and `limit: 2` in YAML are the same run)."""
    d = C.to_dict(cfg)
    for k in ("name", "output_dir", "cache", "max_requests", "max_tokens_total", "executor", "ray_address",
              "ray_workers", "allow_empty"):  # where and how it runs does not change the data
        d.pop(k, None)
    if isinstance(d.get("teacher"), dict):
        d["teacher"] = without_transport(d["teacher"])
    if method_cfg is not None:
        d["method_cfg"] = C.to_dict(method_cfg)
        for k in UNSET_NOT_IN_RUN_ID:
            if d["method_cfg"].get(k) in ("", None):
                d["method_cfg"].pop(k, None)
    return sha256_text(canonical_json(d))[:12]


# Method options that count in the run id only when set: runs made before they existed (without
# them) keep their run ids, so their records stay byte for byte the same.
UNSET_NOT_IN_RUN_ID = ("personas", "n", "scorer", "verifier", "reward_model", "keep", "judge_max_tokens")


def check_not_empty(kept: list, teacher_section: dict, undone: dict, allow_empty: bool, teacher) -> None:
    """A budget stop before anything was kept writes no version (it would become "latest" with nothing
    in it) unless asked for with --allow_empty. A run that kept nothing for other reasons is written:
    its rejections say why."""
    if kept or allow_empty or not teacher_section.get("stopped"):
        return
    done = teacher.stats.requests + teacher.stats.cache_hits if teacher is not None else 0
    raise DatagenError(f"the budget stopped the run before any record was kept ({done} answers are in the "
                       f"cache, {sum(undone.values())} steps undone): no version written; rerun with a larger "
                       "--max-requests / --max-tokens-total to continue from the cache, or pass --allow_empty")


def run(cfg: RunConfig, progress: Progress | None = None, backend=None) -> DatasetVersion:
    """`backend` replaces the configured teacher (tests pass a FakeTeacher)."""
    cfg.check()
    executor = make_executor(cfg)
    method = METHODS[cfg.method]
    method_cfg = resolve_method_cfg(cfg)
    if backend is None:  # the executor's workers make and write the version when they can (Ray)
        version = executor.generate(cfg, method_cfg, run_id_of(cfg, method_cfg), progress)
        if version is not None:
            return version
    seeds, seeds_info, parent = load_seed_records(cfg)
    with open_session(cfg, cfg.output_dir, run_id_of(cfg, method_cfg), backend, progress,
                      executor=executor) as session:
        ctx = session.ctx
        filter_fns = session.filters(list(cfg.filters))
        log.info("run %s: %s", ctx.run_id, public_config(C.non_defaults(cfg)))
        try:
            records = method.run(seeds, session.teacher, method_cfg, ctx)
        finally:
            session.release_backend()
        generated = len(records) + len(ctx.rejections)
        kept, filtered, funnel = apply_filters(filter_fns, records, session.progress)
    session.progress.update(kept=len(kept))
    teacher_section = session.teacher_manifest()
    undone = {**ctx.undone, **{f"filter:{f['filter']}": f["undone"] for f in funnel if f.get("undone")}}
    check_not_empty(kept, teacher_section, undone, cfg.allow_empty, session.teacher)
    manifest = {
        "method": cfg.method,
        "run_id": ctx.run_id,
        "parent": parent.ref if parent else None,
        "config": public_config(C.to_dict(cfg)),
        "method_cfg": C.to_dict(method_cfg),
        "seeds": seeds_info,
        "templates": teacher_section.pop("templates"),
        "teacher": teacher_section.pop("teacher"),
        "sampling": teacher_section.pop("sampling"),
        "counts": {"generated": generated, "method_rejected": len(ctx.rejections)},
        "funnel": funnel,
        "method_stats": ctx.stats,
        **teacher_section,
        "undone": undone,
    }
    return write_version(cfg.output_dir, cfg.name, kept, ctx.rejections + filtered, manifest)
