"""Parsing a grounded question and checking the passage it rests on (pure functions).

    parse_question('Question: How many days of leave?\\nEvidence: "Every employee has 27 days"') ->
        ("How many days of leave?", "Every employee has 27 days")
    find_verbatim("Every employee  has\\n27 days", chunk_text) -> (41, 67)   (whitespace may differ, nothing else)
"""
from __future__ import annotations

import re

_LABEL = re.compile(r"^\W{0,3}(question|evidence|quote|sentence)\W{0,3}\s*:\s*(.*)$", re.IGNORECASE)
_QUOTES = "\"'`\u2018\u2019\u201c\u201d"
_QUOTE_CLASS = "[\"'\u2018\u2019\u201c\u201d]"


def _clean(text: str) -> str:
    """Whitespace collapsed, surrounding quotes and a trailing "..." removed."""
    text = " ".join(text.split())
    while len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text.removesuffix("...").rstrip()


def parse_question(text: str) -> tuple[str, str]:
    """(question, evidence) from the teacher's reply: the text after "Question:" and "Evidence:" (each
    may run over several lines until the next label); without labels, the first line ending in "?"
    is the question. Missing parts are ""."""
    parts: dict[str, list[str]] = {}
    current = None
    for line in (text or "").splitlines():
        m = _LABEL.match(line.strip())
        if m:
            current = "question" if m.group(1).lower() == "question" else "evidence"
            if current in parts:  # a second question: the first one counts
                current = "done"
            parts.setdefault(current, []).append(m.group(2))
        elif current in ("question", "evidence") and line.strip():
            parts[current].append(line.strip())
    question = _clean(" ".join(parts.get("question", [])))
    if not question:
        question = next((_clean(s) for s in (text or "").splitlines() if s.strip().endswith("?")), "")
    return question, _clean(" ".join(parts.get("evidence", [])))


def find_verbatim(evidence: str, text: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """Where `evidence` occurs word for word in text[start:end]: the same words, punctuation and case in
    the same order; only whitespace (line breaks) and the kind of quotation mark may differ. None if not."""
    words = evidence.split()
    if not words:
        return None
    parts = []
    for w in words:
        parts.append("".join(_QUOTE_CLASS if ch in _QUOTES else re.escape(ch) for ch in w))
    m = re.compile(r"\s+".join(parts)).search(text, start, len(text) if end is None else end)
    return (m.start(), m.end()) if m else None


def question_problem(question: str, evidence: str, evidence_span, min_words: int) -> str | None:
    """The reason a parsed question is rejected, or None."""
    if len(question.split()) < 3:
        return "no_question"
    if not evidence:
        return "no_evidence"
    if len(evidence.split()) < min_words:
        return "evidence_too_short"
    if evidence_span is None:
        return "evidence_not_in_chunk"
    return None
