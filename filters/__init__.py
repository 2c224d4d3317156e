"""Keep/drop filters. FILTERS maps a name to a factory, given as "module:function" and imported
only when used (so heavy libraries load only for the filters a run names):
FILTERS[name] -> factory(**options) -> Filter.

    build_filters(["exact_dup", {"name": "length", "min_words": 3}]) -> [("exact_dup", fn), ("length", fn)]
"""
from __future__ import annotations

import importlib
import inspect

from datagen.errors import DatagenError
from filters.base import apply

__all__ = ["FILTERS", "apply", "build_filters", "factory"]

FILTERS = {
    "self_instruct": "filters.self_instruct:self_instruct_filter",
    "conflicting_instances": "filters.self_instruct:conflicting_instances",
    "exact_dup": "filters.dedup:exact_dup",
    "minhash": "filters.minhash:minhash",
    "quality": "filters.quality:quality",
    "length": "filters.quality:length",
    "refusal": "filters.quality:refusal",
    "truncated": "filters.quality:truncated",
    "toxicity": "filters.toxicity:toxicity",
    "semantic": "filters.semantic:semantic",
    "judge": "filters.judge:judge",
    "novelty": "filters.novelty:novelty",
}


def factory(name: str):
    if name not in FILTERS:
        raise DatagenError(f"unknown filter {name!r}; choose from: {', '.join(sorted(FILTERS))}")
    module, attr = FILTERS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def build_filters(specs, ctx=None) -> list:
    """specs: names or {"name": ..., **options} dicts, in order. A factory that takes a `ctx`
    parameter (the run context: teacher, templates, sampling, rng) gets it, e.g. the LLM judge."""
    out = []
    for spec in specs or []:
        if isinstance(spec, str):
            name, options = spec, {}
        elif isinstance(spec, dict) and "name" in spec:
            options = {k: v for k, v in spec.items() if k != "name"}
            name = spec["name"]
        else:
            raise DatagenError(f"a filter is a name or a mapping with 'name', got {spec!r}")
        make = factory(name)
        params = inspect.signature(make).parameters
        if "ctx" in params:
            options["ctx"] = ctx
        unknown = sorted(set(options) - set(params))
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            raise DatagenError(f"filter {name}: unknown option(s) {', '.join(unknown)}; "
                               f"valid: {', '.join(p for p in params if p != 'ctx') or 'none'}")
        try:
            out.append((name, make(**options)))
        except (TypeError, ValueError) as exc:
            raise DatagenError(f"filter {name}: {exc}") from None
    return out
