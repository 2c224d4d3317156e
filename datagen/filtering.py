"""The engine side of filters: building them from specs (typed, range-checked options, a filter
that needs a teacher bound to the session context) and applying them in order with a funnel.

    build_filters(["exact_dup", {"name": "quality", "min_words": 3}]) -> [("exact_dup", ExactDup()), ...]
    apply_filters(built, records) -> (kept, rejections, funnel)
    stream_filters(built, version.iter_records(), on_kept=writer.add, on_rejected=writer.reject) -> funnel

stream_filters holds one batch plus the filters' own state (dedup indexes): per-record filters are a
pure map over batches, exact and MinHash dedup (keep=first) keep their index between batches. A
filter that must see every record at once (smallest_id, novelty, semantic, a Ray-distributed one)
gets the survivors gathered in a list, it and the filters after it then run as apply_filters does.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Sequence

from datagen import config as C
from datagen.cache import BUDGET_ERROR
from datagen.versions import Rejection
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
    kept = list(records)
    rejected: list[Rejection] = []
    funnel = []
    for name, fn in filters:
        entry = {"filter": name, "in": 0, "kept": 0, "dropped": {}}
        kept = run_filter(name, fn, fn, kept, entry, rejected.append)
        funnel.append(tidy_entry(entry))
        if progress is not None:
            progress.update(rejected=entry["in"] - entry["kept"])
    return kept, rejected, funnel


def tidy_entry(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "undone" or v}


def run_filter(name: str, fn, call, batch: list[Record], entry: dict, reject) -> list[Record]:
    """One filter over one batch: the survivors; counts go to the funnel `entry`, drops to reject()."""
    from filters.base import split_verdict

    verdicts = call(batch)
    if len(verdicts) != len(batch):
        raise RuntimeError(f"filter {name} returned {len(verdicts)} verdicts for {len(batch)} records")
    survivors = []
    notes = fn.annotations() if hasattr(fn, "annotations") else {}
    for rec, v in zip(batch, verdicts):
        if rec.id in notes:
            rec = dataclasses.replace(rec, meta={**rec.meta, **notes[rec.id]})  # same id
        sv = split_verdict(v)
        if sv is None:
            survivors.append(rec)
        elif BUDGET_ERROR in (sv[0], sv[1].split(":")[0]):  # not judged: the budget ran out first
            entry["undone"] = entry.get("undone", 0) + 1
        else:
            reject(Rejection(rec, sv[0], f"filter:{name}", sv[1]))
            entry["dropped"][sv[0]] = entry["dropped"].get(sv[0], 0) + 1
    entry["in"] += len(batch)
    entry["kept"] += len(survivors)
    return survivors


def stream_filters(filters: Sequence[tuple[str, object]], batches: Iterable[list[Record]],
                   on_kept: Callable[[list[Record]], None], on_rejected: Callable[[int, list[Rejection]], None],
                   progress=None) -> list[dict]:
    """apply_filters over a stream of batches: the same kept records, rejections and funnel, handed
    to on_kept(records) / on_rejected(lane, rejections) batch by batch. The lane is the filter's
    place in the list: rejections read lane after lane are in apply_filters' order (VersionWriter
    lanes). Returns the funnel."""
    steps = []
    for name, fn in filters:
        step = fn.stream() if hasattr(fn, "stream") else None
        if step is None:
            break
        steps.append((name, fn, step))
    rest = list(filters[len(steps):])
    entries = [{"filter": name, "in": 0, "kept": 0, "dropped": {}} for name, _, _ in steps]
    gathered: list[Record] = []
    for batch in batches:
        for lane, ((name, fn, step), entry) in enumerate(zip(steps, entries)):
            dropped: list[Rejection] = []
            before = len(batch)
            batch = run_filter(name, fn, step, batch, entry, dropped.append)
            on_rejected(lane, dropped)
            if progress is not None:
                progress.update(rejected=before - len(batch))
        if rest:
            gathered += batch
        elif batch:
            on_kept(batch)
    funnel = [tidy_entry(e) for e in entries]
    if rest:
        kept, rejected, tail = apply_filters(rest, gathered, progress)
        on_rejected(len(steps), rejected)
        on_kept(kept)
        funnel += tail
    return funnel
