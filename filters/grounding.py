"""Filters that see the source: a record of --method documents keeps the chunk it was written from in
meta["source"]["text"]; these judge the answer against it.

- Support (lexical, no model): the share of the answer's content words that the chunk holds (lightly
  stemmed), and every number the answer states must be in the chunk. An answer that invents a figure,
  a name or a place loses support; "27 days" against a chunk saying 27 keeps it.
- Faithfulness (the teacher as judge, rubric prompts/filters/faithfulness.j2): the judge reads the chunk,
  the question and the answer and scores how well the chunk supports the answer, 1..scale.
- ClosedBook (the teacher without the chunk, prompts/filters/closed_book.j2): if the teacher's own answer
  matches the record's (token F1 >= threshold), the fact is general knowledge, not the document's: the
  record is tagged meta["general_knowledge"] and, with drop, dropped ("general_knowledge").

A record without a source chunk is dropped as "no_source" by each (these filters judge grounded data).

    Support(min_support=0.6)([Record("Leave?", output="40 days.", meta={"source": {"text": "27 days..."}})])
      -> [("unsupported_number", "40")]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from datagen.documents.words import numbers, support, token_f1
from datagen.errors import DatagenError
from datagen.record import Record
from datagen.teacher import Request
from filters.base import Filter
from filters.judge import parse_score


def source_text(r: Record) -> str | None:
    src = r.meta.get("source")
    return src.get("text") if isinstance(src, dict) else None


@dataclass
class Support(Filter):
    """Keep answers whose content words the chunk supports (share >= min_support) and whose numbers
    all occur in the chunk."""
    per_record: ClassVar[bool] = True
    min_support: float = field(default=0.6, metadata={"help": "least share of the answer's content words "
                                                              "found in the chunk", "min": 0.0, "max": 1.0})
    check_numbers: bool = field(default=True, metadata={"help": "every number in the answer must be in the chunk"})

    def __post_init__(self) -> None:
        self._notes: dict[str, dict] = {}

    def annotations(self) -> dict[str, dict]:
        return self._notes

    def verdict(self, r: Record):
        chunk = source_text(r)
        if chunk is None:
            return "no_source"
        share, missing = support(r.output or "", chunk)
        self._notes[r.id] = {"support": round(share, 3)}
        invented = sorted(numbers(r.output or "") - numbers(chunk)) if self.check_numbers else []
        if invented:
            return "unsupported_number", ", ".join(invented[:5])
        if share < self.min_support:
            return "low_support", f"{share:.2f}: not in the chunk: {', '.join(missing[:8])}"
        return None

    def __call__(self, records: list[Record]) -> list:
        self._notes = {}
        return [self.verdict(r) for r in records]


class _TeacherFilter(Filter):
    needs_teacher: ClassVar[bool] = True
    what: ClassVar[str] = ""

    def bind(self, ctx) -> None:
        if ctx is None or getattr(ctx, "teacher", None) is None or getattr(ctx, "sampling", None) is None:
            raise DatagenError(f"the {self.what} filter needs a teacher and sampling (--teacher/--model, "
                               "--max-tokens, --temperature) or to run inside `datagen generate`")
        self._ctx, self._tmpl = ctx, ctx.templates.load(self.template)
        self._sampling = ctx.sampling.replace(**{k: v for k, v in (("max_tokens", self.max_tokens),
                                                                    ("temperature", self.temperature)) if v is not None})

    def annotations(self) -> dict[str, dict]:
        return self._notes

    def ask(self, records: list[Record], render) -> list:
        if getattr(self, "_ctx", None) is None:
            self.bind(None)
        reqs = [Request(messages=render(r), sampling=self._sampling, key=r.id) for r in records]
        return self._ctx.teacher.complete(reqs) if reqs else []


@dataclass
class Faithfulness(_TeacherFilter):
    """Keep answers the judge, reading the chunk, scores >= threshold of scale."""
    what: ClassVar[str] = "faithfulness"
    threshold: float = field(default=4.0, metadata={"help": "lowest score kept", "min": 0.0})
    scale: int = field(default=5, metadata={"help": "scores run 1..scale", "min": 2})
    template: str = field(default="filters/faithfulness", metadata={"help": "rubric template (shows the chunk)"})
    max_tokens: int | None = field(default=None, metadata={"help": "judge's max tokens (empty = the run's)", "min": 1})
    temperature: float | None = field(default=0.0, metadata={"help": "judge's temperature (empty = the run's)",
                                                             "min": 0.0})
    on_error: str = field(default="drop", metadata={"help": "drop | keep records the judge could not score"})

    def __post_init__(self) -> None:
        if self.on_error not in ("drop", "keep"):
            raise ValueError(f"on_error must be drop or keep, got {self.on_error!r}")
        if not 0 <= self.threshold <= self.scale:
            raise ValueError(f"need 0 <= threshold <= scale, got {self.threshold}/{self.scale}")
        self._ctx, self._notes = None, {}

    def __call__(self, records: list[Record]) -> list:
        self._notes, out = {}, [None] * len(records)
        grounded = [i for i, r in enumerate(records) if source_text(r) is not None]
        for i in set(range(len(records))) - set(grounded):
            out[i] = "no_source"
        comps = self.ask([records[i] for i in grounded], lambda r: self._tmpl.render(
            chunk=source_text(r), section=" > ".join(r.meta["source"].get("section") or []),
            question=r.instruction, answer=r.output or "", scale=self.scale))
        for i, comp in zip(grounded, comps):
            score = parse_score(comp.text, self.scale) if comp.ok else None
            if score is None:
                why = ("judge_error", comp.error or "") if not comp.ok else ("judge_unparsed", comp.text[:200])
                out[i] = None if self.on_error == "keep" else why
                continue
            self._notes[records[i].id] = {"faithfulness": score, "faithfulness_scale": self.scale}
            out[i] = None if score >= self.threshold else ("unfaithful", f"{score:g}/{self.scale}")
        return out


@dataclass
class ClosedBook(_TeacherFilter):
    """The teacher answers without the chunk; a match (token F1 >= threshold) tags the record general
    knowledge, and drops it with drop=true."""
    what: ClassVar[str] = "closed_book"
    threshold: float = field(default=0.6, metadata={"help": "token F1 of the closed-book answer against the "
                                                            "record's at which the teacher already knows it",
                                                    "min": 0.0, "max": 1.0})
    drop: bool = field(default=False, metadata={"help": "drop general-knowledge records (else only tag them)"})
    template: str = field(default="filters/closed_book", metadata={"help": "closed-book prompt template"})
    max_tokens: int | None = field(default=None, metadata={"help": "max tokens of the closed-book answer "
                                                                   "(empty = the run's)", "min": 1})
    temperature: float | None = field(default=0.0, metadata={"help": "its temperature (empty = the run's)",
                                                             "min": 0.0})

    def __post_init__(self) -> None:
        self._ctx, self._notes = None, {}

    def __call__(self, records: list[Record]) -> list:
        self._notes, out = {}, [None] * len(records)
        grounded = [i for i, r in enumerate(records) if source_text(r) is not None]
        for i in set(range(len(records))) - set(grounded):
            out[i] = "no_source"
        comps = self.ask([records[i] for i in grounded], lambda r: self._tmpl.render(question=r.instruction))
        for i, comp in zip(grounded, comps):
            if not comp.ok:
                continue  # unknown whether the teacher knows it: kept untagged
            f1 = token_f1(comp.text, records[i].output or "")
            known = f1 >= self.threshold
            self._notes[records[i].id] = {"closed_book_f1": round(f1, 3), "general_knowledge": known}
            if known and self.drop:
                out[i] = ("general_knowledge", f"closed-book F1 {f1:.2f}")
        return out
