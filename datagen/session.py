"""One run session: the teacher (backend, response cache, budget), the run context a method or a
filter sees, the live progress, the executor it was handed (datagen/executor.py; LocalExecutor here
unless told otherwise), and the manifest's teacher section. `generate`, `filter`, `eval` and `select`
build it here and nowhere else; a Ray generation worker (datagen/ray/generate.py)
builds its own local one from the same config.

    with open_session(cfg, run_id="3f2a...", progress=Progress()) as s:
        records = method.run(seeds, s.teacher, method_cfg, s.ctx)
        manifest.update(s.teacher_manifest())
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.backends import TeacherConfig, make_teacher, safe_url
from datagen.cache import BUDGET_ERROR, Budget, CachedTeacher, ResponseCache
from datagen.versions import Rejection
from datagen.errors import DatagenError
from datagen.filtering import build_filters, stream_filters
from datagen.progress import Progress
from datagen.record import Lineage, Record
from datagen.teacher import Sampling, backend_attr
from datagen.templates import TemplateLoader


@dataclass
class SamplingConfig:
    """No defaults for what changes the data: the recipe (or a named preset) must set them."""
    max_tokens: int | None = field(default=None, metadata={"help": "max new tokens per answer (required)", "min": 1})
    temperature: float | None = field(default=None, metadata={"help": "sampling temperature (required)",
                                                              "min": 0.0, "max": 5.0})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling", "min": 0.0, "max": 1.0})


@dataclass
class SessionConfig:
    """The options of a session, shared by `generate` (RunConfig), `filter` (FilterConfig), `select`
    (SelectConfig) and `eval` (EvalConfig): the teacher, its sampling and seed, the prompt folder, the
    response cache, the budgets and the executor. The flags and recipe keys are these field names."""
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    seed: int | None = field(default=None, metadata={
        "help": "RNG seed for every random choice and the teacher's sampling seed (required by generate and select)"})
    templates: str = field(default="", metadata={
        "help": "your prompt folder; its files override the bundled ones (e.g. your own filters/judge.j2)"})
    cache: str = field(default="", metadata={
        "help": "response cache file (empty = <output_dir>/.cache/responses.sqlite)"})
    max_requests: int | None = field(default=None, metadata={
        "help": "stop cleanly after this many teacher requests (eval: per model)", "min": 0})
    max_tokens_total: int | None = field(default=None, metadata={
        "help": "stop cleanly after this many tokens (eval: per model)", "min": 0})
    executor: str = field(default="local", metadata={
        "help": "local | ray (generate and filter: teacher calls and filters on Ray; select and eval run locally)"})
    ray_address: str = field(default="", metadata={"help": "Ray cluster address (empty = start a local Ray)"})


@dataclass
class RunContext:
    """What a method (or a filter that needs a teacher) gets besides seeds, teacher and its config."""
    rng: random.Random
    sampling: Sampling
    templates: TemplateLoader
    run_id: str
    teacher_name: str
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    rejections: list[Rejection] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)  # method's own figures -> manifest "method_stats"
    teacher: Any = None  # the (cached) teacher, for filters that need one (LLM judge)
    undone: dict[str, int] = field(default_factory=dict)  # stage -> work not started because of the budget

    def reject(self, record: Record, reason: str, stage: str, detail: str = "") -> None:
        """Drop a record with its reason; work the budget left undone is counted, never a rejection."""
        if BUDGET_ERROR in (reason, (detail or "").split(":")[0]):
            self.undone[stage] = self.undone.get(stage, 0) + 1
            return
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


class LocalExecutor:
    """Everything in this process: the configured backend, the filters as built, the method on the
    driver, the parent streamed batch by batch into the writer (the seam: datagen/executor.py)."""
    name = "local"

    def teacher_backend(self, teacher_cfg: TeacherConfig):
        return make_teacher(teacher_cfg)

    def distribute(self, fns: list) -> list:
        return fns

    def generate(self, cfg, method_cfg, run_id: str, progress) -> None:
        return None

    def filter_version(self, fns: list, parent, out, progress, batch: int):
        funnel = stream_filters(fns, parent.iter_records(batch), out.add,
                                lambda lane, rejections: out.reject(rejections, lane), progress)
        return funnel, out.commit


def make_sampling(cfg, what: str = "this run") -> Sampling:
    s = cfg.sampling
    if s.max_tokens is None or s.temperature is None:
        raise DatagenError(f"{what} needs sampling.max_tokens and sampling.temperature (--max-tokens, "
                           "--temperature or the recipe's sampling section): they change the output")
    return Sampling(max_tokens=s.max_tokens, temperature=s.temperature, top_p=s.top_p, seed=cfg.seed)


class Session:
    """Built by open_session(); closed once (cache, backend, progress)."""

    def __init__(self, cfg, output_dir: Path, run_id: str, backend=None, progress: Progress | None = None,
                 purpose: str | None = "this run", executor=None) -> None:
        self.cfg = cfg
        self.progress = progress or Progress()
        self.executor = executor or LocalExecutor()
        self.templates = TemplateLoader(cfg.templates or None)
        self.output_dir = output_dir
        self.extra_backends: list = []
        self.backend = self.cache = self.teacher = self.ctx = None
        if purpose is not None:  # None: no filter or step needs a teacher
            sampling = make_sampling(cfg, purpose)
            self.backend = backend or self.executor.teacher_backend(cfg.teacher)
            self.cache = ResponseCache(cfg.cache or output_dir / ".cache" / "responses.sqlite")
            self.teacher = CachedTeacher(self.backend, self.cache, self.budget(), self.progress)
            self.ctx = RunContext(rng=random.Random(cfg.seed or 0), sampling=sampling, templates=self.templates,
                                  run_id=run_id, teacher_name=self.teacher.name, progress=self.progress,
                                  teacher=self.teacher)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def model(self, teacher_cfg: TeacherConfig, backend=None) -> CachedTeacher:
        """Another model answering through this session's cache, budget and progress (eval's
        students and base): its cache entries are keyed by its own name."""
        if self.cache is None:
            self.cache = ResponseCache(self.cfg.cache or self.output_dir / ".cache" / "responses.sqlite")
        inner = backend or make_teacher(teacher_cfg)
        self.extra_backends.append(inner)
        return CachedTeacher(inner, self.cache, self.budget(), self.progress)

    def budget(self) -> Budget:
        batch = getattr(getattr(self.cfg, "teacher", None), "concurrency", 8)
        return Budget(self.cfg.max_requests, self.cfg.max_tokens_total, batch)

    def release_backend(self) -> None:
        """Free what the backend holds (Ray actors' CPUs) once generation is done."""
        if self.backend is not None and hasattr(self.backend, "close"):
            self.backend.close()

    def close(self) -> None:
        for b in self.extra_backends:
            if hasattr(b, "close"):
                b.close()
        self.progress.close()
        if self.cache is not None:
            self.cache.close()

    def filters(self, specs: list[dict]) -> list:
        """Built, bound and distributed (as the executor runs them) filters, in order."""
        return self.executor.distribute(build_filters(specs, self.ctx))

    def teacher_manifest(self) -> dict:
        """The manifest's teacher section: templates, sampling, teacher, its usage and any budget stop."""
        if self.teacher is None:
            return {}
        return teacher_section(self.cfg.teacher, self.teacher.name, self.ctx.sampling, self.templates.used,
                               self.teacher.stats.to_dict(), self.teacher.stopped,
                               backend_attr(self.backend, "engine_info"))


def teacher_section(t: TeacherConfig, name: str, sampling: Sampling, templates: dict, stats: dict,
                    stopped: str | None, engine: dict | None = None) -> dict:
    """The manifest's teacher section (a session's, or the Ray actors' summed, datagen/ray/generate.py).
    `engine`: how an in-process backend computes (embedded: build flags, weights, workers, threads, batch)."""
    return {**({"engine": engine} if engine else {}),
            "templates": dict(sorted(templates.items())),
            "sampling": dataclasses.asdict(sampling),
            "teacher": {"name": name, "backend": t.backend, "model": t.model,
                        "base_url": safe_url(t.base_url) if t.base_url else ""},
            "teacher_stats": stats,
            "stopped": "budget" if stopped else None,
            "stopped_detail": stopped}


def open_session(cfg, output_dir: str | Path, run_id: str, backend=None, progress: Progress | None = None,
                 purpose: str | None = "this run", executor=None) -> Session:
    """cfg: a SessionConfig (RunConfig, FilterConfig, SelectConfig, EvalConfig).
    `purpose` names what needs the teacher in error messages; None opens no teacher at all.
    `executor`: datagen.executor.make_executor(cfg) where the config chooses one; else LocalExecutor."""
    return Session(cfg, Path(output_dir), run_id, backend, progress, purpose, executor)
