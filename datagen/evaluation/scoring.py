"""Scoring answers on an eval set, and the summary figures with their intervals.

IFEval (Zhou et al. 2023, sec. 2.2) reports four accuracies: prompt-level (all constraints of a
prompt followed) and instruction-level (each constraint on its own), each strict (the answer as it
is) and loose (the answer after removing markdown, a first or a last line). Every figure here
carries a 95% percentile-bootstrap interval over prompts (or constraints, or held-out rows).

    score_answers(prompts, answers) -> [{"checks": [...], "strict": True, "loose": True}, ...]
"""
from __future__ import annotations

from collections import defaultdict

from datagen.constraints import score
from datagen.evaluation.stats import mean_ci, win_rate_summary


def score_answers(prompts, answers: list[str]) -> list[dict]:
    """Per prompt: each constraint's strict/loose pass, and whether all passed."""
    out = []
    for p, answer in zip(prompts, answers):
        s = score(list(p.constraints), answer, p.prompt)
        checks = [{"kind": c.kind, "args": {k: v for k, v in c.to_dict().items() if k != "kind"},
                   "strict": st, "loose": lo} for c, st, lo in zip(p.constraints, s["strict"], s["loose"])]
        out.append({"checks": checks, "strict": all(s["strict"]), "loose": all(s["loose"])})
    return out


def if_summary(scored: list[dict], seed: int, resamples: int) -> dict:
    """The four IFEval accuracies with intervals, and accuracy per constraint kind."""
    checks = [c for s in scored for c in s["checks"]]

    def ci(values):
        return mean_ci([float(v) for v in values], resamples=resamples, seed=seed)

    per_kind: dict[str, list] = defaultdict(list)
    for c in checks:
        per_kind[c["kind"]].append(c)
    return {
        "prompt_strict": ci(s["strict"] for s in scored),
        "prompt_loose": ci(s["loose"] for s in scored),
        "instruction_strict": ci(c["strict"] for c in checks),
        "instruction_loose": ci(c["loose"] for c in checks),
        "per_kind": {k: {"n": len(v), "strict": sum(c["strict"] for c in v) / len(v),
                         "loose": sum(c["loose"] for c in v) / len(v)} for k, v in sorted(per_kind.items())},
    }


def answer_summary(answers: list[str], finish: list[str | None]) -> dict:
    return {"n": len(answers), "empty": sum(not a.strip() for a in answers),
            "truncated": sum(f == "length" for f in finish), "errors": sum(f is None for f in finish),
            "mean_words": sum(len(a.split()) for a in answers) / len(answers) if answers else None}


def pair_summary(a: str, b: str, kind: str, results: list[dict], seed: int, resamples: int) -> dict:
    """Win/tie/loss of `a` against `b` with the win rate's interval and why ties happened."""
    from datagen.evaluation.pairwise import reason_counts

    return {"a": a, "b": b, "kind": kind, **win_rate_summary([r["outcome"] for r in results], seed, resamples),
            "reasons": reason_counts(results)}


def loss_summary(result: dict, seed: int, resamples: int) -> dict:
    """Held-out loss: mean token loss per row, its interval over rows, and which rows."""
    return {"version": result["version"], **mean_ci(result["per_row"], resamples=resamples, seed=seed),
            "ids": result["ids"]}
