"""One generation run: seeds -> method -> filters -> DatasetVersion, in one local process.

    run(RunConfig(...)) -> DatasetVersion(path=runs/self_instruct/v0001)
"""
from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen import config as C
from datagen.backends import TeacherConfig, make_teacher, public_config, safe_url
from datagen.cache import Budget, CachedTeacher, ResponseCache
from datagen.dataset import DatasetVersion, Rejection, open_version, write_version
from datagen.errors import DatagenError
from datagen.methods import METHODS
from datagen.progress import Progress
from datagen.record import Lineage, Record, canonical_json, sha256_text
from datagen.seeds import load_seeds, seeds_sha
from datagen.teacher import Sampling
from datagen.templates import TemplateLoader

log = logging.getLogger("datagen")


@dataclass
class SamplingConfig:
    """No defaults for what changes the data: the recipe (or a named preset) must set them."""
    max_tokens: int | None = field(default=None, metadata={"help": "max new tokens per answer (required)"})
    temperature: float | None = field(default=None, metadata={"help": "sampling temperature (required)"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling"})


@dataclass
class RunConfig:
    name: str = field(default="", metadata={"help": "dataset name (empty = the method): versions go to <output_dir>/<name>/vNNNN"})
    method: str = field(default="self_instruct", metadata={"help": "self_instruct | evol_instruct | self_align"})
    method_cfg: dict = field(default_factory=dict, metadata={"help": "options of the method (see `datagen methods`)"})
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    seed: int | None = field(default=None, metadata={"help": "RNG seed for every random choice (required)"})
    seeds: str = field(default="", metadata={"help": "seed task file (empty = bundled seeds/tasks.jsonl)"})
    from_version: str = field(default="", metadata={"help": "start from a dataset version instead of seeds"})
    templates: str = field(default="", metadata={"help": "your prompt folder; its files override the bundled ones"})
    filters: list = field(default_factory=list, metadata={"help": "filters in order: names or {name: ..., options}"})
    output_dir: str = field(default="runs", metadata={"help": "where dataset versions are written"})
    cache: str = field(default="", metadata={"help": "response cache file (empty = <output_dir>/.cache/responses.sqlite)"})
    max_requests: int | None = field(default=None, metadata={"help": "stop cleanly after this many teacher requests"})
    max_tokens_total: int | None = field(default=None, metadata={"help": "stop cleanly after this many tokens"})
    executor: str = field(default="local", metadata={"help": "local | ray (teacher calls and filters on Ray)"})
    ray_address: str = field(default="", metadata={"help": "Ray cluster address (empty = start a local Ray)"})
    ray_workers: int = field(default=2, metadata={"help": "teacher actors on Ray (vllm: one per GPU)"})

    def check(self) -> None:
        missing = [k for k, v in (("sampling.max_tokens", self.sampling.max_tokens),
                                  ("sampling.temperature", self.sampling.temperature),
                                  ("seed", self.seed)) if v is None]
        if missing:
            raise DatagenError(f"{', '.join(missing)} must be set explicitly (in the recipe or as a flag): "
                               "they change the data")
        if self.executor not in ("local", "ray"):
            raise DatagenError(f"unknown executor {self.executor!r}; choose local or ray")
        if self.method not in METHODS:
            raise DatagenError(f"unknown method {self.method!r}; choose one of: {', '.join(METHODS)}")


@dataclass
class RunContext:
    """What a method needs besides seeds, teacher and its config."""
    rng: random.Random
    sampling: Sampling
    templates: TemplateLoader
    run_id: str
    teacher_name: str
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    rejections: list[Rejection] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)  # method's own figures -> manifest "method_stats"
    teacher: Any = None  # the (cached) teacher, for filters that need one (LLM judge)

    def reject(self, record: Record, reason: str, stage: str, detail: str = "") -> None:
        self.rejections.append(Rejection(record, reason, stage, detail))
        self.progress.update(rejected=1)

    def lineage(self, method: str, template=None, parents=(), step: int = 0, operation: str = "",
                sampling: Sampling | None = None) -> Lineage:
        return Lineage(method=method, parents=tuple(parents), template=getattr(template, "name", template or ""),
                       template_sha=getattr(template, "sha", ""), teacher=self.teacher_name,
                       sampling_sha=(sampling or self.sampling).sha(), run_id=self.run_id, step=step,
                       operation=operation)

    @property
    def stopped(self) -> str | None:
        return getattr(self.teacher, "stopped", None)


def resolve_method_cfg(cfg: RunConfig):
    return C.build(METHODS[cfg.method].Config, cfg.method_cfg, "method_cfg.")


def run_id_of(cfg: RunConfig, method_cfg=None) -> str:
    """Deterministic: the same config gives the same run id, so two identical runs give identical
    records (lineage included). Output locations and the executor do not count, and the method options count as
    resolved (`--method_cfg.limit 2` from the CLI and `limit: 2` in YAML are the same run)."""
    d = C.to_dict(cfg)
    for k in ("name", "output_dir", "cache", "max_requests", "max_tokens_total", "executor", "ray_address",
              "ray_workers"):  # where and how it runs does not change the data
        d.pop(k, None)
    if method_cfg is not None:
        d["method_cfg"] = C.to_dict(method_cfg)
    return sha256_text(canonical_json(d))[:12]


def run(cfg: RunConfig, progress: Progress | None = None, backend=None) -> DatasetVersion:
    """`backend` replaces the configured teacher (tests pass a FakeTeacher)."""
    import filters as F

    cfg.check()
    if cfg.executor == "ray":
        from datagen.ray_exec import require_ray

        require_ray()  # fail in one line before any work when the extra is missing
    method = METHODS[cfg.method]
    method_cfg = resolve_method_cfg(cfg)
    templates = TemplateLoader(cfg.templates or None)
    filter_specs = list(cfg.filters)
    if cfg.from_version:
        parent = open_version(cfg.from_version, cfg.output_dir)
        seeds = parent.records()
        seeds_info = {"from_version": str(parent.path), "content_sha256": parent.manifest().get("content_sha256"),
                      "count": len(seeds)}
    else:
        parent = None
        seeds = load_seeds(cfg.seeds or None)
        seeds_info = {"path": cfg.seeds or "bundled:seeds/tasks.jsonl", "sha256": seeds_sha(cfg.seeds or None),
                      "count": len(seeds)}
    if not seeds:
        raise DatagenError("no seed records to start from")
    sampling = Sampling(max_tokens=cfg.sampling.max_tokens, temperature=cfg.sampling.temperature,
                        top_p=cfg.sampling.top_p, seed=cfg.seed)
    progress = progress or Progress()
    if backend is None and cfg.executor == "ray":
        from datagen.ray_exec import RayTeacher

        backend = RayTeacher(cfg.teacher, workers=cfg.ray_workers, address=cfg.ray_address)
    backend = backend or make_teacher(cfg.teacher)
    cache = ResponseCache(cfg.cache or Path(cfg.output_dir) / ".cache" / "responses.sqlite")
    teacher = CachedTeacher(backend, cache, Budget(cfg.max_requests, cfg.max_tokens_total), progress)
    ctx = RunContext(rng=random.Random(cfg.seed), sampling=sampling, templates=templates,
                     run_id=run_id_of(cfg, method_cfg), teacher_name=teacher.name, progress=progress,
                     teacher=teacher)
    filter_fns = F.build_filters(filter_specs, ctx)
    if cfg.executor == "ray":
        from datagen.ray_exec import distribute, init_ray

        ray = init_ray(cfg.ray_address)
        filter_fns = [(name, distribute(name, fn, ray)) for name, fn in filter_fns]
    log.info("run %s: %s", ctx.run_id, C.non_defaults(cfg))
    try:
        try:
            records = method.run(seeds, teacher, method_cfg, ctx)
        finally:
            if hasattr(backend, "close"):
                backend.close()
        generated = len(records) + len(ctx.rejections)
        kept, filtered, funnel = F.apply(filter_fns, records, progress)
    finally:
        progress.close()
        cache.close()
    progress.update(kept=len(kept))
    manifest = {
        "method": cfg.method,
        "run_id": ctx.run_id,
        "parent": parent.ref if parent else None,
        "config": public_config(C.to_dict(cfg)),
        "method_cfg": C.to_dict(method_cfg),
        "seeds": seeds_info,
        "templates": dict(sorted(templates.used.items())),
        "teacher": {"name": teacher.name, "backend": cfg.teacher.backend, "model": cfg.teacher.model,
                    "base_url": safe_url(cfg.teacher.base_url) if cfg.teacher.base_url else ""},
        "sampling": dataclasses.asdict(sampling),
        "counts": {"generated": generated, "method_rejected": len(ctx.rejections)},
        "funnel": funnel,
        "method_stats": ctx.stats,
        "teacher_stats": teacher.stats.to_dict(),
        "stopped": teacher.stopped,
    }
    return write_version(cfg.output_dir, cfg.name, kept, ctx.rejections + filtered, manifest)
