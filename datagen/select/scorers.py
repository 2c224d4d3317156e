"""Scores for `datagen select`: one number per record (higher = better; None = could not score),
plus the parts that go to the record's meta.

    length([Record.make("Hi", output="Hello there")]) -> [(2.0, {"select_score": 2.0, "output_words": 2})]
    lexical(...)  -> MTLD of the output;  teacher(..., ctx) -> complexity x quality from the teacher

Cheap ones need no teacher: `length` (the longest answers are a strong selection baseline: Zhao et
al. 2024, "Long Is More for Alignment") and `lexical` (MTLD, McCarthy & Jarvis 2010, a lexical
diversity measure that, unlike the type-token ratio, does not fall with text length). `teacher`
asks the run's teacher for an instruction complexity and a response quality score, each 1-10, with
our own prompts (prompts/select/), and multiplies them, as DEITA combines its complexity and
quality scorers (Liu et al. 2023, "What Makes Good Data for Alignment?", section 2.4).
"""
from __future__ import annotations

import re

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.teacher import Request

SCORERS = ("length", "lexical", "teacher")
MTLD_TTR = 0.72  # the factor threshold of McCarthy & Jarvis (2010)
SCALE = 10
_WORD = re.compile(r"\w+", re.UNICODE)

Scored = tuple[float | None, dict]


def words(text: str | None) -> list[str]:
    return _WORD.findall((text or "").lower())


def length(records: list[Record]) -> list[Scored]:
    out = []
    for r in records:
        n = len(words(r.output))
        out.append((float(n), {"select_score": float(n), "output_words": n}))
    return out


def _mtld_pass(tokens: list[str]) -> float:
    factors, types, count = 0.0, set(), 0
    for w in tokens:
        count += 1
        types.add(w)
        if len(types) / count <= MTLD_TTR:
            factors, types, count = factors + 1, set(), 0
    if count:
        factors += (1 - len(types) / count) / (1 - MTLD_TTR)
    return len(tokens) / factors if factors else float(len(tokens))


def mtld(text: str | None) -> float:
    """Mean length of word runs that keep a type-token ratio above 0.72, forward and backward (a
    last, unfinished run counts as the fraction of the way it got):
    mtld("the cat sat on the mat") -> 10.08; repetitive text scores low."""
    tokens = words(text)
    if not tokens:
        return 0.0
    return round((_mtld_pass(tokens) + _mtld_pass(tokens[::-1])) / 2, 4)


def lexical(records: list[Record]) -> list[Scored]:
    out = []
    for r in records:
        score = mtld(r.output)
        out.append((score, {"select_score": score, "mtld": score}))
    return out


def build_requests(records: list[Record], complexity, quality, sampling) -> list[Request]:
    """Two requests per record, in order: complexity of the instruction, quality of the answer."""
    reqs = []
    for r in records:
        reqs.append(Request(messages=complexity.render(instruction=r.instruction, input=r.input, scale=SCALE),
                            sampling=sampling, key=f"{r.id}:complexity"))
        reqs.append(Request(messages=quality.render(instruction=r.instruction, input=r.input,
                                                    output=r.output or "", scale=SCALE),
                            sampling=sampling, key=f"{r.id}:quality"))
    return reqs


def parse_pair(c_comp, q_comp) -> Scored:
    """Two completions -> (complexity x quality, meta) or (None, meta with the reason)."""
    from filters.judge import parse_score

    meta: dict = {}
    for part, comp in (("complexity", c_comp), ("quality", q_comp)):
        if not comp.ok:
            meta["select_error"] = f"{part}: {comp.error or 'failed'}"
            return None, meta
        score = parse_score(comp.text, SCALE)
        if score is None:
            meta["select_error"] = f"{part}: no score in {comp.text[:120]!r}"
            return None, meta
        meta[f"{part}_score"] = score
    meta["select_score"] = round(meta["complexity_score"] * meta["quality_score"], 4)
    return meta["select_score"], meta


def teacher(records: list[Record], ctx) -> list[Scored]:
    if ctx is None or ctx.teacher is None:
        raise DatagenError("the teacher scorer needs a teacher and sampling (--teacher, --max-tokens, --temperature)")
    complexity = ctx.templates.load("select/complexity")
    quality = ctx.templates.load("select/quality")
    reqs = build_requests(records, complexity, quality, ctx.sampling)
    comps = ctx.teacher.complete(reqs) if reqs else []
    return [parse_pair(comps[2 * i], comps[2 * i + 1]) for i in range(len(records))]


def score(name: str, records: list[Record], ctx=None) -> list[Scored]:
    if name not in SCORERS:
        raise DatagenError(f"unknown scorer {name!r}; choose one of: {', '.join(SCORERS)}")
    if name == "teacher":
        return teacher(records, ctx)
    return length(records) if name == "length" else lexical(records)
