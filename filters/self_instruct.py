"""The Self-Instruct filters (Wang et al. 2022, "Self-Instruct", §2.3 "Filtering and postprocessing"
and the released pipeline): drop instructions a text-only model cannot serve or that are malformed,
and instances that contradict each other or say nothing.

Pure functions first (one text or one instance list in, None or a snake_case reason out), then the
registered filters that apply them to a batch of records.

    instruction_reason("Draw a map of Spain.") -> ("unsuitable_keyword", "draw")
    instruction_reason("Name three primary colors.") -> None
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from datagen.record import Record, normalize
from filters.base import Filter

# Wang et al. 2022 §2.3: instructions shorter than 3 words or longer than 150 words are dropped.
MIN_WORDS = 3
MAX_WORDS = 150
# Wang et al. 2022 §2.3: keywords that usually need a modality a language model does not have
# (image, picture, graph, ...); the list follows the released pipeline's blacklist.
KEYWORDS = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
            "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram")


def _keyword_re(keywords) -> re.Pattern:
    alts = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"\b({alts})\b", re.IGNORECASE)


_DEFAULT_KW = _keyword_re(KEYWORDS)


def instruction_reason(text: str, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS,
                       keywords: re.Pattern | None = None):
    """None (keep) or a reason (with detail for keywords). "Hi" -> "instruction_too_short"."""
    text = (text or "").strip()
    n = len(text.split())
    if n < min_words:
        return "instruction_too_short"
    if n > max_words:
        return "instruction_too_long"
    m = (keywords or _DEFAULT_KW).search(text)
    if m:
        return ("unsuitable_keyword", normalize(m.group(1)).lower())
    # Wang et al. 2022 §2.3: instructions starting with punctuation ...
    if not text[0].isalnum():
        return "starts_with_punctuation"
    # ... or with a non-English character are dropped.
    if not text[0].isascii():
        return "starts_with_non_english"
    return None


def instances_reason(instances) -> str | None:
    """None or a reason for a task's (input, output) instances. Wang et al. 2022 §2.3: instances with
    the same input but different outputs are invalid; an empty output carries nothing to learn.
    [("2+2", "4"), ("2+2", "5")] -> "conflicting_instances"; [("x", " ")] -> "empty_output"."""
    by_input: dict[str, str] = {}
    if not instances:
        return "empty_output"
    for inp, out in instances:
        if not normalize(out):
            return "empty_output"
        key = normalize(inp).lower()
        if key in by_input and by_input[key] != normalize(out).lower():
            return "conflicting_instances"
        by_input[key] = normalize(out).lower()
    return None


def copied_output_reason(instances) -> str | None:
    """Not in the paper: our addition for small teachers, which often echo the input as the output.
    [("I made a cake.", "I made a cake.")] -> "output_copies_input"; [("", "Hi")] -> None."""
    for inp, out in instances:
        if normalize(inp) and normalize(inp).lower().strip(".!\"' ") == normalize(out).lower().strip(".!\"' "):
            return "output_copies_input"
    return None


# ---- registered filters (names in filters/__init__.py FILTERS) -------------------------------

@dataclass
class SelfInstructFilter(Filter):
    """Instruction checks plus empty output, per record (usable on any dataset version)."""
    per_record: ClassVar[bool] = True
    min_words: int = field(default=MIN_WORDS, metadata={"help": "shorter instructions are dropped (paper: 3)",
                                                        "min": 0})
    max_words: int = field(default=MAX_WORDS, metadata={"help": "longer instructions are dropped (paper: 150)",
                                                        "min": 1})
    keywords: list[str] | None = field(default=None, metadata={"help": "unsuitable keywords (empty = the "
                                                                       "paper's list)"})

    def __post_init__(self) -> None:
        self._pattern = _keyword_re(self.keywords) if self.keywords else _DEFAULT_KW

    def __call__(self, records: list[Record]) -> list:
        out = []
        for r in records:
            v = instruction_reason(r.instruction, self.min_words, self.max_words, self._pattern)
            if v is None and r.output is not None and not normalize(r.output):
                v = "empty_output"
            out.append(v)
        return out


@dataclass
class ConflictingInstances(Filter):
    """Records sharing instruction and input but not output: all of them are dropped (the detail
    names the first record of the group), since no one output can be trusted."""

    def __call__(self, records: list[Record]) -> list:
        groups: dict[tuple[str, str], list[int]] = {}
        for i, r in enumerate(records):
            groups.setdefault((normalize(r.instruction).lower(), normalize(r.input).lower()), []).append(i)
        out: list = [None] * len(records)
        for idx in groups.values():
            outputs = {normalize(records[i].output).lower() for i in idx}
            if len(outputs) > 1:
                for i in idx:
                    out[i] = ("conflicting_instances", records[idx[0]].id)
        return out
