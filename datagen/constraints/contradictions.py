"""Constraints that no answer can meet together: a prompt that asks for them is a broken eval row, not a
hard one. Only certain contradictions are named here (the sampler's `conflicts` are wider: they also
keep apart kinds that are merely awkward together).

    contradiction([Constraint("lowercase"), Constraint("uppercase")]) -> "lowercase and uppercase ..."
"""
from __future__ import annotations

import math

from datagen.constraints.constraint import Constraint

EXACT_COUNT = ("paragraph_count", "bullet_points", "numbered_items", "line_count", "hashtag_count")


def _interval(relation: str, n: int) -> tuple[float, float]:
    return {"at_least": (n, math.inf), "at_most": (0, n), "less_than": (0, n - 1), "exactly": (n, n)}[relation]


def _label(c: Constraint) -> str:
    return f"{c.kind} {c.args}"


def contradiction(cs: list[Constraint]) -> str | None:
    """A sentence naming two constraints that contradict, or None."""
    kinds = {c.kind for c in cs}
    if {"lowercase", "uppercase"} <= kinds:
        return "lowercase and uppercase cannot both hold (an answer with letters is one or the other)"
    ranges: dict[tuple, tuple[float, float, Constraint]] = {}
    for c in cs:
        if "relation" in c.args:
            key = (c.kind, c.args.get("keyword"), c.args.get("letter"))
            lo, hi = _interval(c.args["relation"], c.args["n"])
            if key in ranges:
                plo, phi, prev = ranges[key]
                lo, hi = max(lo, plo), min(hi, phi)
                if lo > hi:
                    return f"{_label(prev)} and {_label(c)} ask for counts no answer can have"
            ranges[key] = (lo, hi, c)
    for i, a in enumerate(cs):
        for b in cs[i + 1:]:
            if a.kind == b.kind and a.kind in EXACT_COUNT and a.args != b.args \
                    and a.args.get("separator") == b.args.get("separator"):
                return f"{_label(a)} and {_label(b)} ask for two different exact counts"
            if a.kind == b.kind == "ends_with":
                x, y = a.args["phrase"].lower(), b.args["phrase"].lower()
                if not (x.endswith(y) or y.endswith(x)):
                    return f"{_label(a)} and {_label(b)} ask for two different endings"
            if a.kind == b.kind == "starts_with":
                x, y = a.args["phrase"].lower(), b.args["phrase"].lower()
                if not (x.startswith(y) or y.startswith(x)):
                    return f"{_label(a)} and {_label(b)} ask for two different beginnings"
    return None
