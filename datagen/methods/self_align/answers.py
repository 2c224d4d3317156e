"""SELF-ALIGN stage 2 (Sun et al. 2023, sec. 3.2 and 3.4): the teacher answers each prompt with the
principles and worked exemplars in context and an internal thought, which is parsed off; optional
verbose cloning replaces the brief answer with a detailed one.

    parse_answer("Internal thought: Principle 7 applies.\nAnswer: I don't know.")
    -> ("Principle 7 applies.", "I don't know.", "markers")
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from datagen.methods.self_align.principles import (Exemplar, Principle, cited_principles, parse_exemplars,
                                                   parse_principles, parse_topics, read_data_file)
from datagen.record import Record
from datagen.teacher import Request

METHOD = "self_align"
ANSWER, VERBOSE = "self_align/answer", "self_align/verbose"


@dataclass(frozen=True)
class Assets:
    principles: list[Principle]
    exemplars: list[Exemplar]
    types: list[dict]
    rules: list[str]
    principles_sha: str
    exemplars_sha: str


def load_assets(cfg, ctx) -> Assets:
    """Read the principles, exemplars and topics files through ctx.templates (-> manifest shas)."""
    ptext, psha, pwhere = read_data_file(ctx.templates, cfg.principles, "principles")
    etext, esha, ewhere = read_data_file(ctx.templates, cfg.exemplars, "exemplars")
    ttext, _, twhere = read_data_file(ctx.templates, cfg.topics, "topics")
    principles = parse_principles(ptext, pwhere)
    types, rules = parse_topics(ttext, twhere)
    ctx.stats.update(principles_file=cfg.principles, principles_sha=psha, num_principles=len(principles),
                     exemplars_file=cfg.exemplars, exemplars_sha=esha)
    return Assets(principles, parse_exemplars(etext, ewhere), types, rules, psha, esha)


def build_answer_prompts(prompts: list[Record], template, assets: Assets, sampling, kind: str) -> list[Request]:
    return [Request(messages=template.render(question=p.prompt_text(), principles=assets.principles,
                                             exemplars=assets.exemplars),
                    sampling=sampling, key=f"{kind}:{p.id}") for p in prompts]


_MD = r"[\s*#_>]*"
_THOUGHT = re.compile(rf"^{_MD}(?:internal\s+)?thoughts?{_MD}:{_MD}", re.I | re.M)
_ANSWER_LINE = re.compile(rf"^{_MD}(?:final\s+)?answer{_MD}:{_MD}", re.I | re.M)
_ANSWER_ANY = re.compile(rf"[*#_]*\b(?:final\s+)?answer{_MD}:{_MD}", re.I)
# "Principle 15 (creative) and 3 (helpful): <reply>" on one line: the citation is the thought.
_CITE_LEAD = re.compile(r"^((?:principles?\s+)?\d+\s*\([^)]{1,40}\)(?:\s*(?:,|and)\s*\d+\s*\([^)]{1,40}\))*)\s*:\s*", re.I)
# The model sometimes goes on with a new turn after its answer; cut there.
_NEXT_TURN = re.compile(rf"^{_MD}(?:user|question|query|human|(?:internal\s+)?thoughts?){_MD}:", re.I | re.M)


def parse_answer(text: str) -> tuple[str, str, str]:
    """(thought, answer, how). how: "markers" | "answer_marker_only" | "thought_split" | "citation_split" | "no_markers"
    (the whole text is the answer, thought empty) | "thought_only" (a thought cut off before any answer:
    the answer is empty, so no thought reaches a training record).

        parse_answer("Internal thought: Principle 7 applies.\\nAnswer: I don't know.")
        -> ("Principle 7 applies.", "I don't know.", "markers")
    """
    text = (text or "").strip()
    thought_m = _THOUGHT.match(text)
    body = text[thought_m.end():] if thought_m else text
    ans_m = (_ANSWER_ANY if thought_m else _ANSWER_LINE).search(body)
    if ans_m:
        thought, answer = body[:ans_m.start()].strip(), body[ans_m.end():]
        how = "markers" if thought_m else "answer_marker_only"
    elif thought_m:  # a thought but no answer marker: its first paragraph (or line) is the thought,
        body = body.strip()  # or, on one line, the principle citation before a colon
        sep = "\n\n" if "\n\n" in body else "\n"
        thought, _, answer = body.partition(sep)
        how = "thought_split"
        cite = _CITE_LEAD.match(body)
        if not answer.strip() and cite:
            thought, answer, how = cite.group(1), body[cite.end():], "citation_split"
        if not answer.strip():
            return thought.strip(), "", "thought_only"
    else:
        return "", text, "no_markers"
    cut = _NEXT_TURN.search(answer)
    answer = answer[:cut.start()] if cut else answer
    return thought.strip(), answer.strip(), how


def principle_answers(prompts: list[Record], teacher, ctx, assets: Assets, verbose: bool) -> dict[str, Record]:
    """prompt id -> answer record (prompt + answer only; thought and citations in meta)."""
    template = ctx.templates.load(ANSWER)
    comps = teacher.complete(build_answer_prompts(prompts, template, assets, ctx.sampling, "answer"))
    out: dict[str, Record] = {}
    fallbacks = 0
    for p, comp in zip(prompts, comps):
        lineage = ctx.lineage(METHOD, template, parents=[p.id], operation="principle_answer")
        thought, answer, how = parse_answer(comp.text) if comp.ok else ("", "", "")
        meta = {**prompt_meta(p), "internal_thought": thought,
                "cited_principles": cited_principles(thought, assets.principles), "parse": how,
                "finish_reason": comp.finish_reason, "principles_sha": assets.principles_sha,
                "exemplars_sha": assets.exemplars_sha}
        fallbacks += how != "markers"
        rec = Record.make(p.instruction, p.input, answer, lineage=lineage, meta=meta)
        if not comp.ok:
            ctx.reject(rec, "teacher_error", "teacher", comp.error or "")
        elif not answer:
            ctx.reject(rec, "thought_only" if how == "thought_only" else "empty_output", "parse")
        else:
            out[p.id] = rec
    ctx.stats["parse_fallbacks"] = fallbacks
    return verbose_clone(prompts, out, teacher, ctx) if verbose else out


def verbose_clone(prompts: list[Record], answers: dict[str, Record], teacher, ctx) -> dict[str, Record]:
    """Sec. 3.4: the detailed answer replaces the brief one, which stays in meta["brief_answer"]."""
    template = ctx.templates.load(VERBOSE)
    todo = [p for p in prompts if p.id in answers]
    comps = teacher.complete([Request(messages=template.render(question=p.prompt_text()), sampling=ctx.sampling,
                                      key=f"verbose:{p.id}") for p in todo])
    out = {}
    for p, comp in zip(todo, comps):
        brief = answers[p.id]
        text = comp.text.strip() if comp.ok else ""
        lineage = ctx.lineage(METHOD, template, parents=[p.id, brief.id], operation="verbose_clone")
        rec = Record.make(p.instruction, p.input, text, lineage=lineage,
                          meta={**brief.meta, "brief_answer": brief.output, "finish_reason": comp.finish_reason})
        if not text:
            ctx.reject(rec, "teacher_error" if not comp.ok else "empty_output", "verbose", comp.error or "")
        else:
            out[p.id] = rec
    return out


def prompt_meta(p: Record) -> dict:
    return {k: p.meta[k] for k in ("question_type", "topic") if k in p.meta}


