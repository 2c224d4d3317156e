"""`datagen filter` (a version into the next one) and `datagen filters` (what there is).

    datagen filter --from demo/v0001 --filters exact_dup,minhash,quality --minhash.threshold 0.8
"""
from __future__ import annotations

import dataclasses
import logging

from datagen import config as C
from datagen.cli.flags import help_text, parse_overrides, wants_help
from datagen.cli.generate import ALIASES, stopped_line
from datagen.errors import DatagenError

log = logging.getLogger("datagen")


def load_filter_config(argv: list[str]):
    """--config RECIPE fills FilterConfig (a generate recipe works too: its generation keys are
    ignored); `--NAME.OPTION v` flags go to filter NAME; the rest override the recipe."""
    import filters as F
    from datagen.filtering import resolve_specs
    from datagen.refilter import FilterConfig
    from datagen.run import RunConfig

    recipe, argv = C.split_config(argv)
    data: dict = C.load_yaml(recipe) if recipe else {}
    overrides = parse_overrides(argv, ALIASES, FilterConfig)
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
    cfg.filters = resolve_specs(cfg.filters, flag_options)
    return cfg


def funnel_lines(funnel: list[dict]) -> list[str]:
    lines = [f"  {'filter':12s} {'in':>8s} {'kept':>8s}  dropped"]
    for step in funnel:
        dropped = ", ".join(f"{r} {n}" for r, n in sorted(step["dropped"].items(), key=lambda x: -x[1])) or "-"
        lines.append(f"  {step['filter']:12s} {step['in']:8d} {step['kept']:8d}  {dropped}")
    return lines


def filter_lines() -> list[str]:
    """Each filter: what it declares it needs, then its options with defaults and help."""
    import filters as F

    lines = []
    for name in F.FILTERS:
        cls = F.filter_class(name)
        caps = [c for c in ("per_record", "two_stage", "needs_teacher") if getattr(cls, c)]
        doc = (cls.__doc__ or "").strip().splitlines()
        lines.append(f"  {name} [{', '.join(caps) or 'batch'}]: {doc[0] if doc else ''}")
        lines += ["    " + ln.strip() for ln in C.help_lines(cls, f"{name}.")]
    return lines


def cmd_filter(argv: list[str]) -> int:
    """Filter a version into the next one: `datagen filter --from NAME[/vNNNN] --filters a,b [--a.opt v]`."""
    from datagen.refilter import FilterConfig, refilter

    if wants_help(argv):
        print(help_text(FilterConfig, "datagen filter --from VERSION --filters a,b [--NAME.OPTION value ...] "
                        "[--config RECIPE]", ["", "filters and their options (`datagen filters`):", *filter_lines()]))
        return 0
    v = refilter(load_filter_config(argv))
    m = v.manifest()
    c = m["counts"]
    if v.unchanged:
        print(f"unchanged: the filtered data equals {v.ref}; no new version written")
        return 0
    print(f"wrote {v.path} (parent {m['parent']})")
    print("\n".join(funnel_lines(m["funnel"])))
    print(f"  kept {c['kept']} of {c['input']}; rejected {c['rejected']} "
          f"(this filtering only; the parent's {c['parent_rejected']} stay in {m['parent']})")
    if m.get("stopped"):
        print(stopped_line(m))
    return 0


def cmd_filters(argv: list[str]) -> int:
    """List the filters, what each needs, and their options: `datagen filters`."""
    if wants_help(argv):
        print("usage: datagen filters\n\nlists every filter with its options (use them as --NAME.OPTION value "
              "in `datagen filter`, or as {name: NAME, OPTION: value} in a recipe)")
        return 0
    if argv:
        raise DatagenError(f"unexpected argument: {argv[0]}; usage: datagen filters")
    print("\n".join(filter_lines()))
    return 0
