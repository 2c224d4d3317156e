"""The knowledge eval: the questions `--method documents` held out of a version (its rejected rows of
stage "heldout", never trained on), answered closed book (the question alone) by each student and its
base, scored against the reference answer by token F1 and exact match (SQuAD's definitions,
datagen.documents.words) and, where the judge is on, by the judge reading the reference
(prompts/eval/knowledge_judge.j2: correct or not). Students against their base are paired differences
with bootstrap intervals (datagen.evaluation.paired).

    datagen eval --students adapters/handbook/sft-0001 --eval_set knowledge:handbook/v0001
    load_knowledge_set("knowledge:handbook", "runs") -> EvalSet(format="knowledge", prompts=(...))
"""
from __future__ import annotations

import re

from datagen.documents.words import exact_match, token_f1
from datagen.errors import DatagenError
from datagen.evaluation.evalset import EvalPrompt, EvalSet
from datagen.evaluation.paired import paired_binary, paired_diff
from datagen.evaluation.stats import mean_ci
from datagen.teacher import Request

PREFIX = "knowledge:"
_VERDICT = re.compile(r"verdict\W{0,4}(correct|incorrect|wrong|right)", re.IGNORECASE)


def is_knowledge(eval_set: str) -> bool:
    return str(eval_set).startswith(PREFIX)


def load_knowledge_set(spec: str, runs: str) -> EvalSet:
    """The held-out questions of the version `spec` names ("knowledge:NAME[/vNNNN]")."""
    from datagen.versions import open_version

    version = open_version(spec[len(PREFIX):], runs)
    held = [j.record for j in version.rejected() if j.stage == "heldout" and j.reason == "heldout_eval"]
    if not held:
        raise DatagenError(f"{version.ref} holds no held-out questions (they are made by --method documents "
                           "with method_cfg.heldout > 0)")
    prompts = tuple(EvalPrompt(id=r.id[:16], prompt=r.instruction, constraints=(), reference=r.output or "",
                               document=r.meta.get("source", {}).get("path", "")) for r in held)
    return EvalSet(name=f"knowledge-{version.name}", source=version.ref,
                   sha256=version.manifest().get("content_sha256", ""), prompts=prompts, format="knowledge")


def score(prompts, answers: list[str]) -> list[dict]:
    """Per question: token F1 and exact match against the reference (in the shape of score_answers'
    rows: `strict` is exact match, `checks` hold both figures)."""
    out = []
    for p, a in zip(prompts, answers):
        f1, em = token_f1(a, p.reference), exact_match(a, p.reference)
        out.append({"f1": f1, "em": em, "strict": em, "loose": None,
                    "checks": [{"kind": "token_f1", "value": round(f1, 4)}, {"kind": "exact_match", "value": em}]})
    return out


def summary(scored: list[dict], judged: list | None, seed: int, resamples: int) -> dict:
    out = {"token_f1": mean_ci([s["f1"] for s in scored], resamples, seed),
           "exact_match": mean_ci([float(s["em"]) for s in scored], resamples, seed)}
    if judged:
        ok = [float(v) for v in judged if v is not None]
        out["judge_correct"] = {**mean_ci(ok, resamples, seed), "unparsed": sum(v is None for v in judged)}
    return out


def compare(sa: list[dict], sb: list[dict], ja: list | None, jb: list | None, resamples: int, seed: int) -> dict:
    """Model a against model b on the same questions: paired F1 difference, exact match (McNemar), and
    the judge's correct share on the questions both answers were judged."""
    fa, fb = [s["f1"] for s in sa], [s["f1"] for s in sb]
    out = {"token_f1": {"a": sum(fa) / len(fa) if fa else None, "b": sum(fb) / len(fb) if fb else None,
                        **paired_diff(fa, fb, resamples, seed)},
           "exact_match": paired_binary([s["em"] for s in sa], [s["em"] for s in sb], resamples, seed)}
    if ja and jb:
        both = [(x, y) for x, y in zip(ja, jb) if x is not None and y is not None]
        out["judge_correct"] = paired_binary([x for x, _ in both], [y for _, y in both], resamples, seed)
    return out


def parse_verdict(text: str) -> bool | None:
    found = _VERDICT.findall(text or "")
    return None if not found else found[-1].lower() in ("correct", "right")


def judge_answers(session, cfg, prompts, answers: dict) -> dict[str, list]:
    """{label: [True (correct) | False | None (unparsed)]} from the session's judge, which reads the
    question, the reference answer and the model's answer."""
    template = session.templates.load(cfg.knowledge_template)
    out = {}
    for label, comps in answers.items():
        reqs = [Request(messages=template.render(question=p.prompt, reference=p.reference, answer=c.text),
                        sampling=session.ctx.sampling, key=f"{label}:{p.id}") for p, c in zip(prompts, comps)]
        session.progress.set_total(len(reqs), desc=f"judge: {label} vs the references")
        out[label] = [parse_verdict(c.text) if c.ok else None for c in session.teacher.complete(reqs)]
    if session.teacher.stopped:
        raise DatagenError(f"eval stopped: {session.teacher.stopped} while judging; rerun with a larger budget")
    return out


def _pts(d: dict) -> str:
    if not d or d.get("diff") is None:
        return "-"
    lo, hi = d["ci95"]
    ci = f" [{100 * lo:+.1f}, {100 * hi:+.1f}]" if lo is not None else ""
    return f"{100 * d['diff']:+.1f}{ci}" + (f" p={d['p_mcnemar']:.3g}" if "p_mcnemar" in d else "")


def paired_lines(summary_: dict) -> list[str]:
    """One line per paired comparison of a knowledge eval, in points (a - b) with the paired 95% interval."""
    lines = []
    for p in summary_.get("paired", []):
        k = p["token_f1"]
        line = (f"  {p['a']} - {p['b']} (paired, {k['n']} questions): token F1 {_pts(k)}, "
                f"exact match {_pts(p['exact_match'])}")
        if "judge_correct" in p:
            line += f", judged correct {_pts(p['judge_correct'])} ({p['judge_correct']['n']} judged)"
        lines.append(line)
    return lines
