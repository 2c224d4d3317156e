"""LLM-as-a-judge filter: the run's teacher grades each record against the rubric in
prompts/filters/judge.j2; records scoring under `threshold` are dropped ("low_judge_score"), and
every parsed score is kept in the record's meta ("judge_score", "judge_scale") through the
filter's `annotations()`, which the engine merges into kept and rejected records alike.

    Judge(threshold=7) bound to a context, ([Record("2+2?", output="5")]) -> [("low_judge_score", "2/10")]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.teacher import Request
from filters.base import Filter

_NUM = r"(\d+(?:\.\d+)?)"
# "Score: 7", "**Rating**: 8/10", "score of 4 out of 5", "Grade = 9"; the last such line wins.
_LABELLED = re.compile(r"(?:score|rating|grade|note|punktzahl|puntuación|评分|分数)\W{0,6}(?:is|of|=)?\s*\**\s*"
                       + _NUM + r"(?:\s*(?:/|out of)\s*(\d+))?", re.IGNORECASE)
_FRACTION = re.compile(_NUM + r"\s*(?:/|out of)\s*(\d+)", re.IGNORECASE)
_BARE = re.compile(r"^\W*" + _NUM + r"\W*$")


def parse_score(text: str, scale: int = 10) -> float | None:
    """The judge's score on the 1..scale range, or None if none is stated clearly.

        parse_score("Clear and correct.\\nScore: 9", 10) -> 9.0
        parse_score("I'd give it 4/5.", 10) -> 8.0      (another denominator is rescaled)
        parse_score("It has 3 bugs.", 10) -> None
    """
    text = text or ""
    found = [m.groups() for m in _LABELLED.finditer(text)]
    if not found:
        found = [m.groups() for m in _FRACTION.finditer(text)]
    if not found:
        bare = _BARE.match(text.strip())
        found = [(bare.group(1), None)] if bare else []
    for value, denom in reversed(found):
        score = float(value)
        if denom:
            d = float(denom)
            if d <= 0 or score > d:
                continue
            score = score * scale / d
        if 0 <= score <= scale:
            return round(score, 2)
    return None


@dataclass
class Judge(Filter):
    """Keep records the teacher scores >= threshold of `scale`. Default 7/10, i.e. "good or better":
    AlpaGasus (Chen et al. 2023, "AlpaGasus: Training a Better Alpaca with Fewer Data") kept Alpaca
    examples rated >= 4.5 of 5 by ChatGPT; a weaker judge warrants a looser cut. on_error: "drop"
    (reasons judge_error / judge_unparsed) or "keep" records the judge could not score."""
    needs_teacher: ClassVar[bool] = True
    threshold: float = field(default=7.0, metadata={"help": "lowest score kept", "min": 0.0})
    scale: int = field(default=10, metadata={"help": "scores run 1..scale", "min": 2})
    template: str = field(default="filters/judge", metadata={"help": "rubric template under prompts/"})
    max_tokens: int | None = field(default=None, metadata={"help": "judge's max tokens (empty = the run's)",
                                                           "min": 1})
    temperature: float | None = field(default=None, metadata={"help": "judge's temperature (empty = the run's)",
                                                              "min": 0.0})
    on_error: str = field(default="drop", metadata={"help": "drop | keep records the judge could not score"})

    def __post_init__(self) -> None:
        if self.on_error not in ("drop", "keep"):
            raise ValueError(f"on_error must be drop or keep, got {self.on_error!r}")
        if self.scale < 2 or not 0 <= self.threshold <= self.scale:
            raise ValueError(f"need scale >= 2 and 0 <= threshold <= scale, got {self.threshold}/{self.scale}")
        self._ctx, self._notes = None, {}

    def bind(self, ctx) -> None:
        if ctx is None or getattr(ctx, "teacher", None) is None:
            raise DatagenError("the judge filter needs a teacher: pass --teacher/--model (and sampling) or run it "
                               "inside `datagen generate`")
        if getattr(ctx, "sampling", None) is None:
            raise DatagenError("the judge filter needs sampling.max_tokens and sampling.temperature (flags "
                               "--max-tokens and --temperature, or the recipe's sampling section)")
        self._ctx = ctx
        self._tmpl = ctx.templates.load(self.template)
        changes = {k: v for k, v in (("max_tokens", self.max_tokens), ("temperature", self.temperature))
                   if v is not None}
        self._sampling = ctx.sampling.replace(**changes)

    def annotations(self) -> dict[str, dict]:
        return self._notes

    def __call__(self, records: list[Record]) -> list:
        if self._ctx is None:
            self.bind(None)  # raises the one-line error
        reqs = [Request(messages=self._tmpl.render(instruction=r.instruction, input=r.input, output=r.output or "",
                                                   scale=self.scale), sampling=self._sampling, key=r.id)
                for r in records]
        self._notes = {}
        out: list = []
        for r, comp in zip(records, self._ctx.teacher.complete(reqs) if reqs else []):
            score = parse_score(comp.text, self.scale) if comp.ok else None
            if score is None:
                why = ("judge_error", comp.error or "") if not comp.ok else ("judge_unparsed", comp.text[:200])
                out.append(None if self.on_error == "keep" else why)
                continue
            self._notes[r.id] = {"judge_score": score, "judge_scale": self.scale}
            out.append(None if score >= self.threshold else ("low_judge_score", f"{score:g}/{self.scale}"))
        return out
