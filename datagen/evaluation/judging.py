"""The pairwise judging of an eval, and its rows in results.parquet.

Pairs: a student against its base, the first student against each other one (two dataset
versions), and a student against the reference outputs of the records its training held out. Each
is judged in both orders (datagen.evaluation.pairwise): a verdict that flips with the order is a tie.

    judge_all(session, cfg, [(student, base, "base")], prompts, answers, {}, {}) -> [("s", "base", "base", [...])]
"""
from __future__ import annotations

import json

from datagen.evaluation.pairwise import judge_pairs


def judge_all(session, cfg, pairs, prompts, answers, ref_answers, held) -> list[tuple[str, str, str, list]]:
    """(a label, b label, kind, per-prompt results) for every pair, through the session's judge."""
    template = session.templates.load(cfg.judge_template)
    sampling = session.ctx.sampling
    out = []
    for a, b, kind in pairs:
        items = [(p.prompt, x.text, y.text) for p, x, y in zip(prompts, answers[a.label], answers[b.label])]
        session.progress.set_total(2 * len(items), desc=f"judge: {a.label} vs {b.label}")
        out.append((a.label, b.label, kind, judge_pairs(items, session.teacher, template, sampling,
                                                        f"{a.label}|{b.label}")))
    if "reference" in cfg.compare:
        for label, comps in ref_answers.items():
            version, records = held[label]
            items = [(r.prompt_text(), c.text, r.output or "") for r, c in zip(records, comps)]
            out.append((label, f"reference@{version}", "reference",
                        judge_pairs(items, session.teacher, template, sampling, f"{label}|reference")))
    if session.teacher is not None and session.teacher.stopped:
        from datagen.errors import DatagenError

        raise DatagenError(f"eval stopped: {session.teacher.stopped} while judging; rerun with a larger budget")
    return out


def _verdicts(results: list[dict], i: int, against: str) -> dict:
    r = results[i]
    return {"against": against, **{k: r[k] for k in ("verdict_ab", "verdict_ba", "parsed_ab", "parsed_ba",
                                                     "outcome", "reason")}}


def result_rows(prompts, answers, scored, judged, ref_answers, held) -> list[dict]:
    """One row per prompt and model (eval set), then per held-out record and student (reference)."""
    rows = []
    for label, comps in answers.items():
        mine = [(b, res) for a, b, kind, res in judged if a == label and kind != "reference"]
        for i, (p, c, s) in enumerate(zip(prompts, comps, scored[label])):
            rows.append({"set": "eval", "prompt_id": p.id, "prompt": p.prompt, "model": label, "answer": c.text,
                         "finish_reason": c.finish_reason, "checks": json.dumps(s["checks"], ensure_ascii=False),
                         "strict": s["strict"], "loose": s["loose"],
                         "judge": json.dumps([_verdicts(res, i, b) for b, res in mine], ensure_ascii=False)})
    for label, comps in ref_answers.items():
        res = next((r for a, _, kind, r in judged if a == label and kind == "reference"), None)
        for i, (r, c) in enumerate(zip(held[label][1], comps)):
            verdicts = [_verdicts(res, i, f"reference@{held[label][0]}")] if res else []
            rows.append({"set": "heldout", "prompt_id": r.id, "prompt": r.prompt_text(), "model": label,
                         "answer": c.text, "finish_reason": c.finish_reason, "checks": "[]", "strict": None,
                         "loose": None, "judge": json.dumps(verdicts, ensure_ascii=False)})
    return rows
