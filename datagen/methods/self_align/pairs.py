"""Preference pairs for SELF-ALIGN: Record(instruction=prompt, output=chosen, rejected=rejected), with
lineage.parents = (prompt id, chosen answer id, rejected answer id) and per-side template/sha/score in
meta["chosen"] / meta["rejected"]. Three sources (`pairs:` in the method config):

- principles: principle-guided answer (chosen) against the plain answer without principles (rejected);
- judge: n sampled principle-guided answers scored one by one with a rubric, best against worst, ties
  dropped (UltraFeedback, Cui et al. 2023, rates each completion separately);
- revise: the plain draft is critiqued against one principle drawn with ctx.rng and revised; revision
  chosen, draft rejected (Constitutional AI, Bai et al. 2022, sec. 3.1).

Pairs whose two sides are equal after normalisation are dropped ("identical_pair").

    make_pairs("principles", prompts, teacher, cfg, ctx, assets) -> [Record(prompt, output=chosen, rejected=plain)]
"""
from __future__ import annotations

import dataclasses
import re

from datagen.methods.self_align.answers import (ANSWER, METHOD, build_answer_prompts, parse_answer,
                                                principle_answers, prompt_meta)
from datagen.methods.self_align.principles import cited_principles
from datagen.record import Record, normalize
from datagen.teacher import Request

PLAIN, JUDGE = "self_align/plain_answer", "self_align/judge"
CRITIQUE, REVISE = "self_align/critique", "self_align/revise"


def make_pairs(source: str, prompts: list[Record], teacher, cfg, ctx, assets) -> list[Record]:
    build = {"principles": principle_pairs, "judge": judge_pairs, "revise": revise_pairs}[source]
    pairs = build(prompts, teacher, cfg, ctx, assets)
    ctx.stats.update(pair_source=source, pairs=len(pairs))
    return pairs


def side(rec: Record, **extra) -> dict:
    """Per-side metadata of a pair: side(rec, score=7) -> {"id": ..., "template": ..., "template_sha": ..., "score": 7}"""
    return {"id": rec.id, "template": rec.lineage.template, "template_sha": rec.lineage.template_sha,
            "operation": rec.lineage.operation, **extra}


def make_pair(prompt: Record, sides: tuple[Record, Record], ctx, source: str, meta: dict | None = None,
              scores: tuple | None = None) -> Record | None:
    """One pair record from (chosen, rejected), or None (and a rejection "identical_pair") when the
    sides are equal; `scores` (chosen, rejected) go into each side's meta."""
    chosen, rejected = sides
    chosen_meta, rejected_meta = ({"score": scores[0]}, {"score": scores[1]}) if scores else ({}, {})
    lineage = dataclasses.replace(ctx.lineage(METHOD, parents=[prompt.id, chosen.id, rejected.id],
                                              operation=f"pairs:{source}"),
                                  template=chosen.lineage.template, template_sha=chosen.lineage.template_sha)
    full_meta = {**prompt_meta(prompt), "pair_source": source, **(meta or {}),
                 "chosen": side(chosen, **chosen_meta), "rejected": side(rejected, **rejected_meta)}
    pair = Record.make(prompt.instruction, prompt.input, chosen.output, rejected=rejected.output,
                       lineage=lineage, meta=full_meta)
    if normalize(chosen.output).lower() == normalize(rejected.output).lower():
        ctx.reject(pair, "identical_pair", "pairs")
        return None
    return pair


def plain_answers(prompts: list[Record], teacher, ctx, kind: str = "plain") -> dict[str, Record]:
    """The same prompts answered without principles or exemplars: prompt id -> answer record."""
    template = ctx.templates.load(PLAIN)
    comps = teacher.complete([Request(messages=template.render(question=p.prompt_text()), sampling=ctx.sampling,
                                      key=f"{kind}:{p.id}") for p in prompts])
    out = {}
    for p, comp in zip(prompts, comps):
        text = comp.text.strip() if comp.ok else ""
        rec = Record.make(p.instruction, p.input, text, meta={"finish_reason": comp.finish_reason},
                          lineage=ctx.lineage(METHOD, template, parents=[p.id], operation=f"{kind}_answer"))
        if not text:
            ctx.reject(rec, "empty_output" if comp.ok else "teacher_error", kind, comp.error or "")
        else:
            out[p.id] = rec
    return out


def principle_pairs(prompts, teacher, cfg, ctx, assets) -> list[Record]:
    chosen = principle_answers(prompts, teacher, ctx, assets, cfg.verbose)
    rejected = plain_answers([p for p in prompts if p.id in chosen], teacher, ctx)
    pairs = [make_pair(p, (chosen[p.id], rejected[p.id]), ctx, "principles",
                       meta={k: chosen[p.id].meta[k] for k in ("internal_thought", "cited_principles")})
             for p in prompts if p.id in chosen and p.id in rejected]
    return [r for r in pairs if r is not None]


_SCORE = (re.compile(r"\bscore\s*(?:is|of|=|:)?\s*\**\s*(\d{1,2})\b", re.I),
          re.compile(r"\b(\d{1,2})\s*(?:/\s*10|out of 10)\b", re.I),
          re.compile(r"\b(\d{1,2})\b"))


def parse_score(text: str) -> int | None:
    """The judge's 1-10 score: parse_score("Score: 8. Clear and correct.") -> 8; no number in 1..10 -> None."""
    for pattern in _SCORE:
        m = pattern.search(text or "")
        if m:
            n = int(m.group(1))
            return n if 1 <= n <= 10 else None
    return None


def mean_score(texts: list[str]) -> float | None:
    """Mean of the readable scores, rounded to 2 places: mean_score(["Score: 8", "7", "??"]) -> 7.5; none readable -> None."""
    scores = [s for s in map(parse_score, texts) if s is not None]
    return round(sum(scores) / len(scores), 2) if scores else None


def judge_pairs(prompts, teacher, cfg, ctx, assets) -> list[Record]:
    answer_tpl, judge_tpl = ctx.templates.load(ANSWER), ctx.templates.load(JUDGE)
    sampling = ctx.sampling.replace(n=cfg.num_samples)
    comps = teacher.complete(build_answer_prompts(prompts, answer_tpl, assets, sampling, "sample"))
    samples: list[tuple[Record, list[Record]]] = []
    for p, comp in zip(prompts, comps):
        lineage = ctx.lineage(METHOD, answer_tpl, parents=[p.id], operation="sampled_answer", sampling=sampling)
        if not comp.ok:
            ctx.reject(p, "teacher_error", "teacher", comp.error or "")
            continue
        cands = []
        for k, choice in enumerate(comp.choices):
            thought, answer, how = parse_answer(choice.text)
            if answer:
                cands.append(Record.make(p.instruction, p.input, answer, lineage=lineage, meta={
                    "sample": k, "internal_thought": thought, "parse": how, "finish_reason": choice.finish_reason,
                    "cited_principles": cited_principles(thought, assets.principles)}))
        samples.append((p, cands))
    judge_sampling = ctx.sampling.replace(max_tokens=cfg.judge_max_tokens, temperature=cfg.judge_temperature,
                                          n=cfg.judge_samples)
    requests = [Request(messages=judge_tpl.render(question=p.prompt_text(), answer=c.output),
                        sampling=judge_sampling, key=f"judge:{p.id}:{c.meta['sample']}")
                for p, cands in samples for c in cands]
    verdicts = iter(teacher.complete(requests))
    pairs = []
    for p, cands in samples:
        scored = [(mean_score([ch.text for ch in v.choices]) if v.ok else None, c) for c, v in zip(cands, verdicts)]
        scored = [(s, c) for s, c in scored if s is not None]
        if len(scored) < 2:
            ctx.reject(cands[0] if cands else p, "too_few_scored", "judge", f"{len(scored)} of {len(cands)} scored")
            continue
        best = max(scored, key=lambda sc: sc[0])  # first of equals: stable for a given seed
        worst = min(scored, key=lambda sc: sc[0])
        meta = {"judge_scores": [s for s, _ in scored], "judge_template_sha": judge_tpl.sha}
        if best[0] == worst[0]:
            tied = Record.make(p.instruction, p.input, best[1].output, rejected=worst[1].output, meta=meta,
                               lineage=ctx.lineage(METHOD, judge_tpl, parents=[p.id], operation="pairs:judge"))
            ctx.reject(tied, "tied_scores", "judge", f"all scored {best[0]}")
            continue
        pair = make_pair(p, (best[1], worst[1]), ctx, "judge", meta=meta, scores=(best[0], worst[0]))
        if pair is not None:
            pairs.append(pair)
    return pairs


_REVISION_LEAD = re.compile(r"^[\s*#]*(?:revised|improved|rewritten|new)?\s*(?:draft\s+)?(?:answer|revision)"
                            r"[\s*]*:[\s*]*", re.I)


def parse_revision(text: str) -> str:
    """parse_revision("Revised answer: **Water boils at 100 C.**") -> "**Water boils at 100 C.**" (lead label dropped)."""
    return _REVISION_LEAD.sub("", (text or "").strip(), count=1).strip().strip('"“”').strip()


def revise_pairs(prompts, teacher, cfg, ctx, assets) -> list[Record]:
    critique_tpl, revise_tpl = ctx.templates.load(CRITIQUE), ctx.templates.load(REVISE)
    drafts = plain_answers(prompts, teacher, ctx, kind="draft")
    todo = [p for p in prompts if p.id in drafts]
    principles = {p.id: ctx.rng.choice(assets.principles) for p in todo}  # one drawn per prompt, in order
    crit = teacher.complete([Request(messages=critique_tpl.render(
        question=p.prompt_text(), draft=drafts[p.id].output, principle=principles[p.id]),
        sampling=ctx.sampling, key=f"critique:{p.id}") for p in todo])
    critiques = {p.id: c.text.strip() for p, c in zip(todo, crit) if c.ok and c.text.strip()}
    for p, c in zip(todo, crit):
        if p.id not in critiques:
            ctx.reject(drafts[p.id], "teacher_error" if not c.ok else "empty_critique", "critique", c.error or "")
    todo = [p for p in todo if p.id in critiques]
    revs = teacher.complete([Request(messages=revise_tpl.render(
        question=p.prompt_text(), draft=drafts[p.id].output, principle=principles[p.id], critique=critiques[p.id]),
        sampling=ctx.sampling, key=f"revise:{p.id}") for p in todo])
    pairs = []
    for p, comp in zip(todo, revs):
        pr = principles[p.id]
        revision = parse_revision(comp.text) if comp.ok else ""
        rec = Record.make(p.instruction, p.input, revision, meta={"finish_reason": comp.finish_reason},
                          lineage=ctx.lineage(METHOD, revise_tpl, parents=[p.id, drafts[p.id].id], operation="revision"))
        if not revision:
            ctx.reject(rec, "teacher_error" if not comp.ok else "empty_output", "revise", comp.error or "")
            continue
        pair = make_pair(p, (rec, drafts[p.id]), ctx, "revise", meta={
            "principle": pr.number, "principle_name": pr.name, "critique": critiques[p.id],
            "critique_template_sha": critique_tpl.sha})
        if pair is not None:
            pairs.append(pair)
    return pairs
