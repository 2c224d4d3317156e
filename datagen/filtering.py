"""Re-filtering: run filters over an existing version and write the next version of the same name.
The new manifest names its parent and holds the full filter config and the per-filter funnel. Its
rejected.parquet holds only this filtering's rejections (the parent's stay in the parent).

    datagen filter --from demo/v0001 --filters exact_dup,minhash,quality --minhash.threshold 0.8
    refilter(FilterConfig(from_version="demo/v0001", filters=["quality"])) -> DatasetVersion(demo/v0002)
"""
from __future__ import annotations

import dataclasses
import inspect
import logging
import random
import typing
from dataclasses import dataclass, field
from pathlib import Path

from datagen import config as C
from datagen.backends import TeacherConfig, make_teacher, public_config, safe_url
from datagen.dataset import DatasetVersion, open_version, write_version
from datagen.errors import DatagenError
from datagen.progress import Progress
from datagen.record import canonical_json, sha256_text
from datagen.run import RunConfig, RunContext, SamplingConfig
from datagen.teacher import Sampling
from datagen.templates import TemplateLoader

log = logging.getLogger("datagen")
TEACHER_FILTERS = ("judge",)  # filters that call the teacher


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
    max_requests: int | None = field(default=None, metadata={"help": "stop judging after this many teacher requests"})
    max_tokens_total: int | None = field(default=None, metadata={"help": "stop judging after this many tokens"})
    executor: str = field(default="local", metadata={"help": "local | ray (per-record filters as map_batches, "
                                                             "dedup in two stages)"})
    ray_address: str = field(default="", metadata={"help": "Ray cluster address (empty = start a local Ray)"})


def coerce_options(name: str, options: dict) -> dict:
    """Flag strings -> the factory's parameter types: {"threshold": "0.8"} -> {"threshold": 0.8}."""
    import filters as F

    make = F.factory(name)
    hints = typing.get_type_hints(make)
    params = inspect.signature(make).parameters
    out = {}
    for k, v in options.items():
        if k not in params or k == "ctx":
            valid = ", ".join(p for p in params if p != "ctx") or "none"
            raise DatagenError(f"filter {name}: unknown option {k!r}; valid: {valid}")
        out[k] = C.coerce(hints[k], v, f"{name}.{k}") if k in hints else v
    return out


def resolve_specs(specs: list, flag_options: dict) -> list[dict]:
    """Recipe/flag specs + `--NAME.OPTION value` flags -> [{"name": ..., **typed options}]."""
    out, named = [], set()
    for spec in specs:
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, dict) or "name" not in spec:
            raise DatagenError(f"a filter is a name or a mapping with 'name', got {spec!r}")
        name = str(spec["name"])
        options = {k: v for k, v in spec.items() if k != "name"}
        options.update(flag_options.get(name, {}))
        out.append({"name": name, **coerce_options(name, options)})
        named.add(name)
    stray = sorted(set(flag_options) - named)
    if stray:
        raise DatagenError(f"options given for filter(s) not in the list: {', '.join(stray)}")
    if not out:
        raise DatagenError("no filters given: use --filters a,b or a recipe with a `filters:` list")
    return out


def load_filter_config(argv: list[str]) -> tuple[FilterConfig, list[dict]]:
    """--config RECIPE fills FilterConfig (a generate recipe works too: its generation keys are
    ignored); `--NAME.OPTION v` flags go to filter NAME; the rest override the recipe."""
    import filters as F
    from datagen.cli import ALIASES

    recipe, argv = C.split_config(argv)
    data: dict = C.load_yaml(recipe) if recipe else {}
    overrides = C.parse_overrides(argv, ALIASES)
    flag_options = {k: overrides.pop(k) for k in list(overrides) if k in F.FILTERS}
    for name, opts in flag_options.items():
        if not isinstance(opts, dict):
            raise DatagenError(f"--{name} needs an option: --{name}.OPTION value")
    generation_only = {f.name for f in dataclasses.fields(RunConfig)} - {f.name for f in dataclasses.fields(FilterConfig)}
    if "method" in data:  # a generate recipe: its `name` is what it generates; the new version keeps the parent's
        generation_only.add("name")
    ignored = sorted(k for k in data if k in generation_only)
    if ignored:
        log.info("filter: ignoring the recipe's generation keys: %s", ", ".join(ignored))
    data = C.merge({k: v for k, v in data.items() if k not in generation_only}, overrides)
    cfg = C.build(FilterConfig, data)
    if not cfg.from_version:
        raise DatagenError("--from VERSION is required (e.g. --from demo/v0001)")
    specs = resolve_specs(cfg.filters, flag_options)
    cfg.filters = specs
    return cfg, specs


def _teacher_context(cfg: FilterConfig, output_dir: Path, progress: Progress, backend=None):
    """A RunContext with a cached teacher, only when a filter needs one (the judge)."""
    from datagen.cache import Budget, CachedTeacher, ResponseCache

    if cfg.sampling.max_tokens is None or cfg.sampling.temperature is None:
        raise DatagenError("the judge filter needs --max-tokens and --temperature (or the recipe's sampling "
                           "section): they change the scores")
    sampling = Sampling(max_tokens=cfg.sampling.max_tokens, temperature=cfg.sampling.temperature,
                        top_p=cfg.sampling.top_p, seed=cfg.seed)
    cache = ResponseCache(cfg.cache or output_dir / ".cache" / "responses.sqlite")
    teacher = CachedTeacher(backend or make_teacher(cfg.teacher), cache, Budget(cfg.max_requests, cfg.max_tokens_total),
                            progress)
    run_id = sha256_text(canonical_json({"filter": C.to_dict(cfg)}))[:12]
    ctx = RunContext(rng=random.Random(cfg.seed or 0), sampling=sampling, templates=TemplateLoader(cfg.templates or None),
                     run_id=run_id, teacher_name=teacher.name, progress=progress, teacher=teacher)
    return ctx, cache


def refilter(cfg: FilterConfig, specs: list | None = None, backend=None, progress: Progress | None = None) -> DatasetVersion:
    """Filter cfg.from_version with `specs` (default cfg.filters) and write the next version."""
    import filters as F

    specs = resolve_specs(specs if specs is not None else cfg.filters, {})
    if cfg.executor not in ("local", "ray"):
        raise DatagenError(f"unknown executor {cfg.executor!r}; choose local or ray")
    if cfg.executor == "ray":
        from datagen.ray_exec import require_ray

        require_ray()
    parent = open_version(cfg.from_version, cfg.output_dir or "runs")
    output_dir = Path(cfg.output_dir) if cfg.output_dir else parent.path.parent.parent
    pm = parent.manifest()
    records = parent.records()
    progress = progress or Progress()
    ctx, cache = None, None
    if any(s["name"] in TEACHER_FILTERS for s in specs):
        ctx, cache = _teacher_context(cfg, output_dir, progress, backend)
    try:
        fns = F.build_filters(specs, ctx)
        if cfg.executor == "ray":
            from datagen.ray_exec import distribute, init_ray

            ray = init_ray(cfg.ray_address)
            fns = [(name, distribute(name, fn, ray)) for name, fn in fns]
        kept, rejected, funnel = F.apply(fns, records, progress)
    finally:
        progress.close()
        if cache is not None:
            cache.close()
    manifest = {
        "method": "filter",
        "parent": parent.ref,
        "parent_content_sha256": pm.get("content_sha256"),
        "config": {**public_config(C.to_dict(cfg)), "filters": specs},
        "counts": {"input": len(records), "parent_rejected": pm.get("counts", {}).get("rejected", 0),
                   "rejected_scope": "this filtering only; the parent's rejections stay in " + parent.ref},
        "funnel": funnel,
    }
    if ctx is not None:
        t = ctx.teacher
        manifest.update(templates=dict(sorted(ctx.templates.used.items())), sampling=dataclasses.asdict(ctx.sampling),
                        teacher={"name": t.name, "backend": cfg.teacher.backend, "model": cfg.teacher.model,
                                 "base_url": safe_url(cfg.teacher.base_url) if cfg.teacher.base_url else ""},
                        teacher_stats=t.stats.to_dict(), stopped=t.stopped)
    return write_version(output_dir, cfg.name or parent.name, kept, rejected, manifest)


def funnel_lines(funnel: list[dict]) -> list[str]:
    lines = [f"  {'filter':12s} {'in':>8s} {'kept':>8s}  dropped"]
    for step in funnel:
        dropped = ", ".join(f"{r} {n}" for r, n in sorted(step["dropped"].items(), key=lambda x: -x[1])) or "-"
        lines.append(f"  {step['filter']:12s} {step['in']:8d} {step['kept']:8d}  {dropped}")
    return lines


def cmd_filter(argv: list[str]) -> int:
    """Filter a version into the next one: `datagen filter --from NAME[/vNNNN] --filters a,b [--a.opt v]`."""
    import filters as F

    if "-h" in argv or "--help" in argv:
        print("usage: datagen filter --from VERSION --filters a,b [--NAME.OPTION value ...] [--config RECIPE]\n\noptions:")
        print("\n".join(C.help_lines(FilterConfig)))
        print("\nfilters and their options:")
        for name in F.FILTERS:
            params = [f"{p.name}={p.default!r}" for p in inspect.signature(F.factory(name)).parameters.values()
                      if p.name != "ctx"]
            print(f"  {name}: {', '.join(params) or '-'}")
        return 0
    cfg, _ = load_filter_config(argv)
    v = refilter(cfg)
    m = v.manifest()
    c = m["counts"]
    print(f"wrote {v.path} (parent {m['parent']})")
    print("\n".join(funnel_lines(m["funnel"])))
    print(f"  kept {c['kept']} of {c['input']}; rejected {c['rejected']} "
          f"(this filtering only; the parent's {c['parent_rejected']} stay in {m['parent']})")
    if m.get("stopped"):
        print(f"  stopped early: {m['stopped']}")
    return 0
