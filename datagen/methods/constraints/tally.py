"""The teacher's pass rates, overall and per constraint kind, for the manifest's method_stats: pass@1 (the share
of candidates that meet a constraint) and pass@n (the share of prompts where at least one of the n does), the
figures AutoIF-style recipes are judged by. A candidate the content guard dropped counts as failing.

    t = Tally(); t.add(judged, 2); t.summary() -> {"prompts": 1, "pass_at_1": 0.5, "pass_at_n": 1.0, "per_kind": {...}}
"""
from __future__ import annotations

from collections import Counter


class Tally:
    def __init__(self) -> None:
        self.prompts = self.candidates = self.passing = self.any_passing = 0
        self.repaired = 0  # prompts kept through a rule-rewritten answer (method_cfg.repair), not in pass@n
        self.guard: Counter = Counter()
        self.kind_cands: Counter = Counter()   # kind -> candidates asked to meet it
        self.kind_pass: Counter = Counter()    # kind -> candidates that met it
        self.kind_prompts: Counter = Counter()  # kind -> prompts carrying it
        self.kind_any: Counter = Counter()     # kind -> prompts where some candidate met it

    def add(self, judged: list, asked: int) -> None:
        """One prompt's judged candidates; `asked` - len(judged) of its samples were empty."""
        self.prompts += 1
        self.candidates += asked
        self.guard["empty_output"] += asked - len(judged)
        if not judged:
            return
        passed = [j.passed for j in judged]
        self.passing += sum(passed)
        self.any_passing += any(passed)
        kinds = [c["kind"] for c in judged[0].record.meta.get("constraints", [])]
        met = [[False] * len(kinds) if j.guard else list(j.result["strict"]) for j in judged]
        for j in judged:
            if j.guard:
                self.guard[j.guard[0] if isinstance(j.guard, tuple) else j.guard] += 1
        for i, kind in enumerate(kinds):
            self.kind_prompts[kind] += 1
            self.kind_cands[kind] += asked  # an empty sample met nothing
            self.kind_pass[kind] += sum(m[i] for m in met)
            self.kind_any[kind] += any(m[i] for m in met)

    def summary(self) -> dict:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 0.0

        return {"prompts": self.prompts, "candidates": self.candidates, "passing_candidates": self.passing,
                "pass_at_1": ratio(self.passing, self.candidates), "pass_at_n": ratio(self.any_passing, self.prompts),
                "repaired": self.repaired,
                "dropped_by_guard": {k: v for k, v in sorted(self.guard.items()) if v},
                "per_kind": {k: {"prompts": self.kind_prompts[k],
                                 "pass_at_1": ratio(self.kind_pass[k], self.kind_cands[k]),
                                 "pass_at_n": ratio(self.kind_any[k], self.kind_prompts[k])}
                             for k in sorted(self.kind_prompts)}}
