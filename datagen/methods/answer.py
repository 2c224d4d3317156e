"""Answer: the teacher writes an output for every instruction in the pool (seeds or a version).
The simplest distillation pass, and the way to re-answer a dataset with a stronger teacher.

    run([Record("Name a color.")], teacher, Config(), ctx) -> [Record("Name a color.", output="Blue.")]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.record import Record
from datagen.teacher import Completion, Request

METHOD = "answer"


@dataclass
class Config:
    template: str = field(default="answer/answer", metadata={"help": "prompt template for the answer"})
    limit: int | None = field(default=None, metadata={"min": 1, "help": "answer only the first N instructions"})


def build_prompts(pool: list[Record], template, sampling) -> list[Request]:
    return [Request(messages=template.render(instruction=r.instruction, input=r.input), sampling=sampling,
                    key=r.id) for r in pool]


def parse(text: str) -> str | None:
    """Strip the answer; an empty answer is no answer."""
    text = (text or "").strip()
    return text or None


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    pool = seeds[: cfg.limit] if cfg.limit else seeds
    template = ctx.templates.load(cfg.template)
    ctx.progress.set_total(len(pool), desc="answer")
    completions: list[Completion] = teacher.complete(build_prompts(pool, template, ctx.sampling))
    out = []
    for rec, comp in zip(pool, completions):
        lineage = ctx.lineage(METHOD, template, parents=[rec.id])
        if not comp.ok:
            ctx.reject(rec.replace(lineage=lineage), "teacher_error", "teacher", comp.error or "")
            continue
        answer = parse(comp.text)
        meta = {"finish_reason": comp.finish_reason}
        cand = Record.make(rec.instruction, rec.input, answer or "", lineage=lineage, meta=meta)
        if answer is None:
            ctx.reject(cand, "empty_output", "parse")
        else:
            out.append(cand)
    ctx.stats["answered"] = len(out)
    return out
