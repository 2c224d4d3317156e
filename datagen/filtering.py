"""The engine side of filters: building them from specs (typed, range-checked options, a filter
that needs a teacher bound to the session context) and applying them in order with a funnel.

    build_filters(["exact_dup", {"name": "quality", "min_words": 3}]) -> [("exact_dup", ExactDup()), ...]
    apply_filters(built, records) -> (kept, rejections, funnel)
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from datagen import config as C
from datagen.cache import BUDGET_ERROR
from datagen.dataset import Rejection
from datagen.errors import DatagenError
from datagen.record import Record


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
        survivors, dropped, undone = [], {}, 0
        notes = fn.annotations() if hasattr(fn, "annotations") else {}
        for rec, v in zip(kept, verdicts):
            if rec.id in notes:
                rec = dataclasses.replace(rec, meta={**rec.meta, **notes[rec.id]})  # same id
            sv = split_verdict(v)
            if sv is None:
                survivors.append(rec)
            elif BUDGET_ERROR in (sv[0], sv[1].split(":")[0]):  # not judged: the budget ran out first
                undone += 1
            else:
                rejected.append(Rejection(rec, sv[0], f"filter:{name}", sv[1]))
                dropped[sv[0]] = dropped.get(sv[0], 0) + 1
        funnel.append({"filter": name, "in": len(kept), "kept": len(survivors), "dropped": dropped,
                       **({"undone": undone} if undone else {})})
        if progress is not None:
            progress.update(rejected=len(kept) - len(survivors))
        kept = survivors
    return kept, rejected, funnel
