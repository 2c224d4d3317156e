"""Verifying an answer against the constraints its prompt carries in meta["constraints"] (written by
`--method constraints`), with the one constraint library (datagen/constraints), and the content guard
against answers that would pass a verifier without answering.

    verify(rec, "hi there") -> {"strict": [True, False], "loose": [True, True], "fraction": 0.5, "passed": False}
    constraints_fraction("hi there", rec) -> 0.5   # a verifier: best-of-n scorer, `train grpo --reward constraints`
    gaming("", "stop", rec) -> "empty_output";  gaming(text, "length", rec) -> "truncated"
"""
from __future__ import annotations

from datagen.constraints import Constraint, constraints_of, score
from datagen.record import Record, normalize
from filters.quality import repetition

# A candidate this short says next to nothing: "at most 50 words" or "no commas" pass it for free. The method's
# guard uses it (--method_cfg.min_words); the verifiers judge short answers by their constraints alone.
MIN_WORDS = 3


def required(record: Record) -> list[Constraint]:
    """The record's constraints; a record without any raises (-> verifier_error in a scorer)."""
    cs = constraints_of(record.meta, "the record's meta")
    if not cs:
        raise ValueError("the record has no constraints (meta['constraints']) to check; make prompts with "
                         "--method constraints")
    return cs


def prompt_of(record: Record) -> str:
    """The request without its constraint wording (for kinds such as repeat_prompt)."""
    return (record.meta or {}).get("base_instruction") or record.instruction


def verify(record: Record, answer: str) -> dict:
    """Strict and loose results per constraint, the strict fraction met, and whether all are met."""
    res = score(required(record), answer or "", prompt_of(record))
    n = len(res["strict"])
    return {**res, "fraction": sum(res["strict"]) / n, "passed": all(res["strict"])}


def gaming(answer: str, finish_reason: str | None, record: Record, min_words: int = 0) -> str | tuple | None:
    """Why a candidate must not count as passing (None: it may): empty, cut off by the token limit, next to
    no words, a degenerate repetition (filters/quality.repetition, the Gopher rules) or the prompt echoed
    back (which carries the keywords the prompt asks for)."""
    text = (answer or "").strip()
    if not text:
        return "empty_output"
    if finish_reason == "length":
        return "truncated"
    n = len(text.split())
    if min_words and n < min_words:
        return "too_short", f"{n} words < {min_words}"
    why = repetition(text)
    if why:
        return "repetitive", why
    asked = normalize(record.instruction).lower()
    if asked and asked in normalize(text).lower():
        return "echoed_output"
    return None


def constraints_fraction(answer: str, record: Record) -> float:
    """Share of the prompt's constraints the answer meets (strict); 0.0 for an empty or repetitive answer or
    the prompt echoed back, whatever the checkers say."""
    required(record)
    if gaming(answer, None, record):
        return 0.0
    return verify(record, answer)["fraction"]


def constraints_all(answer: str, record: Record) -> float:
    """1.0 when the answer meets every constraint (strict) and passes the content guard, else 0.0."""
    required(record)  # no constraints: verifier_error, not 0
    if gaming(answer, None, record):
        return 0.0
    return 1.0 if verify(record, answer)["passed"] else 0.0
