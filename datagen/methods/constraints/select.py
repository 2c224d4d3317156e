"""Judging a prompt's n candidates against its constraints and choosing what to keep: pure functions, no teacher.

A candidate that is empty, cut off by the token limit, next to wordless, a degenerate repetition or the prompt
echoed back is dropped before verification (filters/constraint_verify.gaming): it must not pass by saying
nothing. The others are verified (strict, as IFEval scores; loose beside it) and
- keep best: the first passing candidate, when the prompt's pass rate (passing / n) reaches min_pass_rate;
- keep pairs: that candidate as chosen against the failing one that met the fewest constraints as rejected;
- keep all: every verified candidate, passing or not, with its results in meta.

    judge(prompt, [cand_ok, cand_bad], 3, 2) -> [Judged(cand_ok, None, {"passed": True, ...}), Judged(cand_bad, ...)]
    choose(judged, "best", 0.0) -> Plan(kept=[cand_ok], pair=None, rejections=[(cand_bad, "constraint_failed", ...)])
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.record import Record
from filters.constraint_verify import gaming, verify

SCORER = "constraints"


@dataclass
class Judged:
    record: Record          # the candidate, its verification in meta (when verified)
    guard: str | tuple | None  # why it was dropped before verification, or None
    result: dict | None     # verify(): strict, loose, fraction, passed

    @property
    def passed(self) -> bool:
        return self.guard is None and bool(self.result and self.result["passed"])


@dataclass
class Plan:
    kept: list[Record] = field(default_factory=list)
    pair: tuple[Record, Record] | None = None
    rejections: list[tuple[Record, str, str]] = field(default_factory=list)


def judge(prompt: Record, cands: list[Record], min_words: int, asked: int | None = None) -> list[Judged]:
    """Guard, then verify, every candidate; the prompt's pass rate (passing / `asked`, the candidates sampled,
    empty ones included) and scores go into each one's meta."""
    out = []
    for c in cands:
        guard = gaming(c.output or "", c.meta.get("finish_reason"), prompt, min_words)
        result = None if guard else verify(prompt, c.output or "")
        out.append(Judged(c, guard, result))
    scores = [None if j.guard else j.result["fraction"] for j in out]
    note = {**prompt.meta, "scorer": SCORER, "candidate_scores": scores,
            "pass_rate": sum(j.passed for j in out) / max(asked or len(out), 1)}
    for j in out:
        extra = {} if j.guard else {"score": j.result["fraction"], "passed": j.result["passed"],
                                    "constraint_results": {"strict": j.result["strict"], "loose": j.result["loose"]}}
        j.record = j.record.replace(meta={**j.record.meta, **note, **extra})
    return out


def repaired(prompt: Record, judged: list[Judged], min_words: int, rng) -> list[Judged]:
    """When no candidate passed: the failing candidates, most constraints met first, rewritten by rule
    (datagen/constraints/repair.py); the first rewrite that passes guard and verification, marked
    meta.repaired, with the teacher's own pass rate kept. [] when none does."""
    from datagen.constraints.repair import repair

    wanted = prompt.meta.get("constraints", [])
    for j in sorted((j for j in judged if j.guard is None), key=lambda j: -j.result["fraction"]):
        text = repair(j.record.output or "", wanted, rng)
        if text is None or text == j.record.output:
            continue
        rec = j.record.replace(output=text, meta={**j.record.meta, "repaired": True})
        (new,) = judge(prompt, [rec], min_words)
        if new.passed:
            new.record = new.record.replace(meta={**new.record.meta, "pass_rate": j.record.meta["pass_rate"],
                                                  "candidate_scores": j.record.meta["candidate_scores"]})
            return [new]
    return []


def failed_kinds(j: Judged) -> str:
    kinds = [c["kind"] for c in j.record.meta.get("constraints", [])]
    return ", ".join(k for k, ok in zip(kinds, j.result["strict"]) if not ok)


UNFINISHED = ("truncated", "repetitive")  # guards a pairs run may use as the rejected side (pair_unfinished)


def _guard_reason(j: Judged) -> tuple[str, str]:
    return j.guard if isinstance(j.guard, tuple) else (j.guard, "")


def unfinished(judged: list[Judged]) -> Judged | None:
    """The first candidate the guard dropped as cut off or looping: the rejected side that teaches a student
    to stop (a verified failing answer at least ended)."""
    return next((j for j in judged if j.guard and _guard_reason(j)[0] in UNFINISHED), None)


def choose(judged: list[Judged], keep: str, min_pass_rate: float, pair_unfinished: bool = False) -> Plan:
    """What a prompt's judged candidates give under `keep`, and every other candidate's rejection.
    `pair_unfinished` (keep pairs): a cut-off or looping candidate, when there is one, is the rejected side."""
    plan = Plan()
    verified = []
    loose_end = unfinished(judged) if keep == "pairs" and pair_unfinished else None
    for j in judged:
        if j.guard:
            if j is not loose_end:
                plan.rejections.append((j.record, *_guard_reason(j)))
        else:
            verified.append(j)
    if keep == "all":
        plan.kept = [j.record for j in verified]
        return plan
    passing = [j for j in verified if j.passed]
    failing = [j for j in verified if not j.passed]
    rate = judged[0].record.meta["pass_rate"] if judged else 0.0
    low = bool(passing) and rate < min_pass_rate
    best = passing[0] if passing and not low else None
    worst = min(failing, key=lambda j: j.result["fraction"]) if failing else None  # first of equals
    if loose_end is not None and best is None:  # no pair forms: it is rejected by its guard after all
        plan.rejections.append((loose_end.record, *_guard_reason(loose_end)))
    elif loose_end is not None:
        worst = loose_end
    if keep == "pairs" and best is not None and worst is not None:
        rejected = worst.record
        if worst is loose_end:  # scored 0 and named by its guard in the pair's meta
            rejected = rejected.replace(meta={**rejected.meta, "score": 0.0, "guard": _guard_reason(worst)[0]})
        plan.pair = (best.record, rejected)
    elif keep == "best" and best is not None:
        plan.kept = [best.record]
    for j in verified:
        if j is best and (plan.kept or plan.pair):
            continue
        if keep == "pairs" and plan.pair and j is worst:
            continue
        plan.rejections.append(rejection(j, keep, low, rate, min_pass_rate, best, worst))
    return plan


def rejection(j: Judged, keep: str, low: bool, rate: float, min_pass_rate: float, best, worst):
    if not j.passed:
        return j.record, "constraint_failed", failed_kinds(j)
    if low:
        return j.record, "low_pass_rate", f"{rate:.2f} < min_pass_rate {min_pass_rate:.2f}"
    if keep == "pairs" and worst is None:
        return j.record, "no_failing_candidate", "every verified candidate passed: no rejected side"
    return j.record, "not_best", "another passing candidate was kept"
