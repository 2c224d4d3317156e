"""Magpie's query checks and per-request seeds: pure functions.

    query_reason("How do tides work?", "stop", ("<|im_end|>",)) -> None
    query_reason("", "stop", ()) -> "empty_query"
    query_reason("Explain why the sky", "length", ()) -> "truncated_query"
    query_reason("Hi<|im_start|>assistant", "stop", ()) -> ("template_leak", "<|im_start|>")
"""
from __future__ import annotations

from datagen.methods.magpie.chat_template import leaks_template
from datagen.record import normalize

MIN_CHARS = 3  # "Hi" is no task; Magpie's own filters drop very short queries too (Xu et al. 2024, sec. 2.2)


def parse_query(text: str, end_of_turn: str) -> str:
    """The query as the teacher wrote it, cut at the end-of-turn text if the backend left it in."""
    text = text or ""
    if end_of_turn and end_of_turn in text:
        text = text.split(end_of_turn, 1)[0]
    return text.strip()


def query_reason(query: str, finish_reason: str | None, markers: tuple[str, ...] = ()):
    """None keeps the query; otherwise a reason, or (reason, detail) for a template leak.
    Order: empty, then template leak (a leaking query is often also cut short), then truncated."""
    if len(normalize(query)) < MIN_CHARS or not any(ch.isalnum() for ch in query):
        return "empty_query"
    leak = leaks_template(query, markers)
    if leak:
        return "template_leak", leak
    if finish_reason == "length":  # the query ran into max_tokens before its end-of-turn token
        return "truncated_query"
    return None


def split_reason(verdict) -> tuple[str | None, str]:
    """query_reason's verdict -> (reason or None, detail)."""
    if isinstance(verdict, tuple):
        return verdict[0], verdict[1]
    return verdict, ""


def derive_seed(base: int | None, turn: int, i: int, answer: bool = False) -> int | None:
    """One reproducible seed per request: (0, turn 1, conversation 7) -> 100007; answers + 50000."""
    return None if base is None else base + turn * 100_000 + (50_000 if answer else 0) + i
