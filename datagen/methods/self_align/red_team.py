"""SELF-ALIGN stage 1 (Sun et al. 2023, sec. 3.1): topic-guided red-teaming writes new prompts,
deduplicated (exact, then ROUGE-L novelty) against the seeds and each other.

    parse_question('Question: "Is it safe to eat raw eggs?"') -> "Is it safe to eat raw eggs?"
"""
from __future__ import annotations

import re

from datagen.methods.self_align.answers import METHOD, Assets
from datagen.record import Record, normalize
from datagen.teacher import Request

RED_TEAM = "self_align/red_team"


def plan_red_team(types: list[dict], examples: list[Record], k: int, num_examples: int, rng) -> list[dict]:
    """k (type, topic, examples) picks; types are shuffled once and cycled so k <= len(types) picks
    k different types. plan_red_team(types, seeds, 2, 1, rng) -> [{"qtype": {...}, "topic": "...", "examples": [rec]}, ...]"""
    order = list(types)
    rng.shuffle(order)
    plan = []
    for i in range(k):
        qtype = order[i % len(order)]
        plan.append({"qtype": qtype, "topic": rng.choice(qtype["topics"]),
                     "examples": rng.sample(examples, min(num_examples, len(examples)))})
    return plan


def build_red_team_prompts(plan: list[dict], template, rules: list[str], sampling, round_no: int) -> list[Request]:
    return [Request(messages=template.render(qtype=p["qtype"], topic=p["topic"], rules=rules,
                                             examples=[e.instruction for e in p["examples"]]),
                    sampling=sampling, key=f"red_team:{round_no}:{i}") for i, p in enumerate(plan)]


_LEAD = re.compile(r"^\s*(?:[-*\d.)\s]+\s*)?(?:\*\*)?(?:(?:here\s+is\s+)?(?:an?|the)\s+)?(?:new\s+)?(?:user\s+)?"
                   r"(?:question|q)\s*\d*\s*(?:\*\*)?\s*:[\s*]*", re.I)


def parse_question(text: str, prompt: str = "") -> str | None:
    """The first real line of a red-team reply, without "Question:"/numbering/quotes; lines that only
    introduce ("Here is a question:") or repeat a line of the prompt are skipped.

        parse_question('Question: "Is it safe to eat raw eggs?"\\nAnswer: ...') -> "Is it safe to eat raw eggs?"
    """
    echoed = {normalize(x).lower() for x in prompt.splitlines() if x.strip()}
    for line in (text or "").splitlines():
        line = _LEAD.sub("", line.strip()).strip().strip('"“”').strip()
        line = re.sub(r"^(?:[-*]|\d+[.)])(?:\s+|$)", "", line).strip().strip('"“”').strip()
        if line and not line.endswith(":") and normalize(line).lower() not in echoed:
            return line
    return None


def red_team(seeds: list[Record], teacher, cfg, ctx, assets: Assets) -> list[Record]:
    """Topic-guided prompts, deduplicated (exact, then ROUGE-L novelty) against seeds and each other."""
    template = ctx.templates.load(RED_TEAM)
    seen = {normalize(s.prompt_text()).lower() for s in seeds}
    novelty = _novelty_index(cfg.novelty_threshold, [s.instruction for s in seeds])
    pool: list[Record] = []
    sampling = ctx.sampling.replace(max_tokens=cfg.question_max_tokens)
    for round_no in range(cfg.max_rounds):
        need = cfg.num_prompts - len(pool)
        if need <= 0 or ctx.stopped:
            break
        plan = plan_red_team(assets.types, seeds, need, cfg.num_examples, ctx.rng)
        reqs = build_red_team_prompts(plan, template, assets.rules, sampling, round_no)
        comps = teacher.complete(reqs)
        for p, req, comp in zip(plan, reqs, comps):
            lineage = ctx.lineage(METHOD, template, parents=[e.id for e in p["examples"]], step=round_no,
                                  operation="red_team", sampling=sampling)
            meta = {"question_type": p["qtype"]["name"], "topic": p["topic"], "finish_reason": comp.finish_reason}
            question = parse_question(comp.text, "\n".join(m["content"] for m in req.messages)) if comp.ok else None
            rec = Record.make(question or comp.text or "", lineage=lineage, meta=meta)
            key = normalize(question or "").lower()
            if not comp.ok:
                ctx.reject(rec, "teacher_error", "teacher", comp.error or "")
            elif question is None or len(question.split()) < 3:
                ctx.reject(rec, "empty_prompt", "parse")
            elif key in seen:
                ctx.reject(rec, "duplicate_prompt", "red_team")
            elif novelty is not None and not novelty.add_if_novel(question)[0]:
                ctx.reject(rec, "not_novel", "red_team", f"ROUGE-L >= {cfg.novelty_threshold}")
            else:
                seen.add(key)
                pool.append(rec)
    ctx.stats["prompts"] = len(pool)
    return pool


def _novelty_index(threshold: float, texts: list[str]):
    try:
        from filters.novelty import NoveltyIndex
    except ImportError:  # novelty is optional; exact dedup still runs
        return None
    index = NoveltyIndex(threshold)
    for t in texts:
        index.add(t)
    return index


