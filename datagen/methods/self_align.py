"""SELF-ALIGN (Sun et al. 2023, "Principle-Driven Self-Alignment of Language Models from Scratch with
Minimal Human Supervision", the Dromedary recipe): topic-guided red-teaming writes the prompts (sec. 3.1),
the teacher answers each with principles and worked exemplars in context and an internal thought
(sec. 3.2), and the training records keep only prompt and answer (principle engraving, sec. 3.3).
Optional verbose cloning (sec. 3.4) and preference pairs (self_align_pairs.py).

    run(seeds, teacher, Config(num_prompts=10), ctx) -> [Record("Is it safe to ...?", output="...")]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.principles import (Exemplar, Principle, cited_principles, leak_spans, leaked, parse_exemplars,
                                parse_principles, parse_topics, read_data_file)
from datagen.record import Record, normalize
from datagen.teacher import Request

METHOD = "self_align"
PAIR_SOURCES = ("none", "principles", "judge", "revise")
RED_TEAM, ANSWER, VERBOSE = "self_align/red_team", "self_align/answer", "self_align/verbose"


@dataclass
class Config:
    principles: str = field(default="self_align/principles.md", metadata={
        "help": "principles file: a path, or a name under prompts/ (Markdown `1. **Name**: text` or YAML)"})
    exemplars: str = field(default="self_align/exemplars.jsonl", metadata={
        "help": "worked exemplars, JSONL {query, thought, answer} per line"})
    topics: str = field(default="self_align/topics.yaml", metadata={
        "help": "question types, topics and generation rules for red-teaming"})
    num_prompts: int = field(default=10, metadata={
        "help": "prompts to red-team (or, with generate_prompts false, to take from the pool; 0 = all)"})
    generate_prompts: bool = field(default=True, metadata={
        "help": "true: write new prompts by topic-guided red-teaming; false: answer the seed/version instructions"})
    num_examples: int = field(default=2, metadata={"help": "seed tasks shown as in-context examples per red-team prompt"})
    question_max_tokens: int = field(default=64, metadata={"help": "max tokens of a red-team reply (one question)"})
    max_rounds: int = field(default=3, metadata={"help": "red-team rounds at most, to replace rejected prompts"})
    novelty_threshold: float = field(default=0.7, metadata={
        "help": "drop a prompt with ROUGE-L >= this against seeds or earlier prompts (Self-Instruct sec. 2.3)"})
    verbose: bool = field(default=False, metadata={
        "help": "verbose cloning: a second pass asks for a detailed answer, which becomes the output"})
    pairs: str = field(default="none", metadata={
        "help": "none (SFT records) | principles | judge | revise (preference pairs)"})
    num_samples: int = field(default=3, metadata={"help": "answers sampled per prompt for pairs: judge"})
    judge_max_tokens: int = field(default=16, metadata={"help": "max tokens of a judge reply (pairs: judge)"})
    judge_samples: int = field(default=3, metadata={
        "help": "judge replies per answer; the score is their mean (a small judge at one sample mostly ties)"})
    judge_temperature: float = field(default=0.7, metadata={"help": "judge sampling temperature (pairs: judge)"})

    def __post_init__(self) -> None:
        check_config(self)  # bad options fail before the teacher is started


@dataclass(frozen=True)
class Assets:
    principles: list[Principle]
    exemplars: list[Exemplar]
    types: list[dict]
    rules: list[str]
    principles_sha: str
    exemplars_sha: str


def load_assets(cfg: Config, ctx) -> Assets:
    """Read the principles, exemplars and topics files through ctx.templates (-> manifest shas)."""
    ptext, psha, pwhere = read_data_file(ctx.templates, cfg.principles, "principles")
    etext, esha, ewhere = read_data_file(ctx.templates, cfg.exemplars, "exemplars")
    ttext, _, twhere = read_data_file(ctx.templates, cfg.topics, "topics")
    principles = parse_principles(ptext, pwhere)
    types, rules = parse_topics(ttext, twhere)
    ctx.stats.update(principles_file=cfg.principles, principles_sha=psha, num_principles=len(principles),
                     exemplars_file=cfg.exemplars, exemplars_sha=esha)
    return Assets(principles, parse_exemplars(etext, ewhere), types, rules, psha, esha)


def check_config(cfg: Config) -> None:
    if cfg.pairs not in PAIR_SOURCES:
        raise DatagenError(f"method_cfg.pairs must be one of {', '.join(PAIR_SOURCES)}, got {cfg.pairs!r}")
    if cfg.verbose and cfg.pairs not in ("none", "principles"):
        raise DatagenError("method_cfg.verbose works with pairs none or principles only")
    if cfg.pairs == "judge" and (cfg.num_samples < 2 or cfg.judge_samples < 1):
        raise DatagenError("method_cfg.num_samples must be >= 2 and judge_samples >= 1 for pairs: judge")
    if cfg.num_prompts < 0 or cfg.num_examples < 0 or cfg.max_rounds < 1:
        raise DatagenError("method_cfg.num_prompts/num_examples must be >= 0 and max_rounds >= 1")


# ---- red-teaming: pure planning, prompt building and parsing -------------------------------------

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


# ---- principle-driven answers: prompt building and parsing ---------------------------------------

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


# ---- the stages ----------------------------------------------------------------------------------

def red_team(seeds: list[Record], teacher, cfg: Config, ctx, assets: Assets) -> list[Record]:
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


def principle_answers(prompts: list[Record], teacher, ctx, assets: Assets, verbose: bool) -> dict[str, Record]:
    """prompt id -> answer record (prompt + answer only; thought and citations in meta)."""
    template = ctx.templates.load(ANSWER)
    comps = teacher.complete(build_answer_prompts(prompts, template, assets, ctx.sampling, "answer"))
    out: dict[str, Record] = {}
    fallbacks = 0
    for p, comp in zip(prompts, comps):
        lineage = ctx.lineage(METHOD, template, parents=[p.id], operation="principle_answer")
        thought, answer, how = parse_answer(comp.text) if comp.ok else ("", "", "")
        meta = {**_prompt_meta(p), "internal_thought": thought,
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


def _prompt_meta(p: Record) -> dict:
    return {k: p.meta[k] for k in ("question_type", "topic") if k in p.meta}


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    from datagen.methods import self_align_pairs as pairs

    assets = load_assets(cfg, ctx)
    if cfg.generate_prompts:
        ctx.progress.set_total(cfg.num_prompts, desc="self_align: red-team")
        prompts = red_team(seeds, teacher, cfg, ctx, assets)
    else:
        prompts = seeds[: cfg.num_prompts] if cfg.num_prompts else list(seeds)
    ctx.progress.set_total(len(prompts), desc=f"self_align: {cfg.pairs if cfg.pairs != 'none' else 'answers'}")
    if cfg.pairs == "none":
        records = list(principle_answers(prompts, teacher, ctx, assets, cfg.verbose).values())
    else:
        records = pairs.make_pairs(cfg.pairs, prompts, teacher, cfg, ctx, assets)
    return engrave(records, assets, ctx)


_CITES = re.compile(r"\b(?:by\s+)?principles?\s+#?\d+", re.I)


def engrave(records: list[Record], assets: Assets, ctx) -> list[Record]:
    """Principle engraving (sec. 3.3): training fields must not repeat a principle ("principle_leak"),
    and answers must not cite one by number, a thought spilt into the answer ("principle_reference").
    Principles, exemplars and thoughts never enter them by construction."""
    spans = leak_spans(assets.principles)
    out = []
    for r in records:
        fields = [r.instruction, r.input, r.output or "", r.rejected or ""]
        fields += [m["content"] for m in r.messages or ()]
        if any(leaked(f, spans) for f in fields):
            ctx.reject(r, "principle_leak", "engrave")
        elif _CITES.search(r.output or "") or _CITES.search(r.rejected or ""):
            ctx.reject(r, "principle_reference", "engrave")
        else:
            out.append(r)
    ctx.stats["records"] = len(out)
    return out
