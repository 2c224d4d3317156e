"""Programmatic repair: a teacher's answer rewritten so that it meets a prompt's format constraints, then
verified like any candidate (nothing is kept that the checker does not pass).

A 135M teacher almost never writes an all-lowercase answer, wraps one in quotes or numbers its lines when
asked (pass@8 0% on those kinds), so rejection sampling alone has nothing to keep for them. Rewriting the
answer it did write, by a rule that cannot change its content (case, commas, layout, a prefix or a suffix
the prompt asks for, a cut at a sentence end for an upper word limit), gives a verified example of the
format. This is the programmatic side of constraint back-translation (Qi et al. 2024, arXiv:2410.24175:
constraints added to answers that already meet them) and of AutoIF's verification step (Dong et al. 2024).
Kinds that need new content (keywords, letters, digits, counts of a lower bound) have no repair.

    repair("Hello, World.", [{"kind": "lowercase"}, {"kind": "no_commas"}], random.Random(0)) -> "hello world."
"""
from __future__ import annotations

import json
import random
import re

from datagen.constraints.text import sentences, words

# Own short lines for the suffixes a prompt may ask for (written for datagen).
_QUESTIONS = ("Does that help?", "What do you think?", "Would you like more detail?", "Shall I go on?",
              "Is there anything you would add?")
_POSTSCRIPTS = ("I hope this is useful.", "Feel free to ask for more.", "Thanks for reading.",
                "Let me know if anything is unclear.")


def _sentences(text: str) -> list[str]:
    """The answer's sentences as the checkers count them (datagen/constraints/text.py), on one line."""
    return sentences(" ".join(text.split()))


def _plain(text: str) -> str:
    """The answer without list markers, headings or dividers, as one run of sentences."""
    lines = [re.sub(r"^\s*(?:[-*]|\d+[.)]|#+)\s+", "", ln) for ln in text.splitlines()]
    return " ".join(ln.replace("***", " ").strip() for ln in lines if ln.strip())


def _groups(text: str, n: int) -> list[str] | None:
    """The answer's sentences dealt into n consecutive groups (None when it has fewer than n)."""
    sents = _sentences(_plain(text))
    if len(sents) < n:
        return None
    size, extra = divmod(len(sents), n)
    out, i = [], 0
    for g in range(n):
        take = size + (g < extra)
        out.append(" ".join(sents[i:i + take]))
        i += take
    return out


def _cut(text: str, limit: int) -> str | None:
    """Whole sentences from the start while the word count stays within limit."""
    kept, count = [], 0
    for s in _sentences(text):
        w = len(words(s))  # IFEval's words, as word_count counts them
        if count + w > limit:
            break
        kept.append(s)
        count += w
    return " ".join(kept) or None


def _upper_limit(c: dict) -> int | None:
    if c.get("relation") in ("at_most", "less_than"):
        return c["n"] - (c["relation"] == "less_than")
    return None


def _room(constraints: list[dict]) -> tuple[int, int]:
    """Words and sentences the prefixes and suffixes will add (most a rule can add), kept free by a cut."""
    def count(t: str) -> int:
        return len(words(t))

    most = {"title": 5, "end_with_question": max(map(count, _QUESTIONS)),
            "postscript": max(map(count, _POSTSCRIPTS))}
    edges = [c for c in constraints if c["kind"] in _EDGE]
    added = sum(most.get(c["kind"], 0) + count(c.get("phrase", "") + " " + c.get("marker", "")) for c in edges)
    return added, len(edges)


def _layout(text: str, c: dict, room: tuple[int, int] = (0, 0)) -> str | None:
    """`room`: words and sentences kept free for the prefixes and suffixes added after a cut."""
    kind, n = c["kind"], c.get("n")
    if kind in ("word_count", "sentence_count"):
        limit = _upper_limit(c)
        if limit is None:
            return text
        if kind == "word_count":
            return _cut(text, limit - room[0])
        return " ".join(_sentences(text)[:limit - room[1]]) or None
    groups = _groups(text, n) if n else None
    if groups is None:
        return None
    if kind == "bullet_points":
        return "\n".join("* " + g for g in groups)
    if kind == "numbered_items":
        return "\n".join(f"{i}. {g}" for i, g in enumerate(groups, 1))
    if kind == "paragraph_count":
        return ("\n***\n" if c.get("separator", "***") == "***" else "\n\n").join(groups)
    if kind == "section_count":
        return "\n\n".join(f"{c.get('splitter', 'SECTION')} {i}\n{g}" for i, g in enumerate(groups, 1))
    if kind == "highlight_count":
        return " ".join(f"*{g}*" if i < n else g for i, g in enumerate(_sentences(_plain(text))))
    return text


def _title(text: str) -> str:
    first = _sentences(_plain(text))[:1]
    head = re.findall(r"[A-Za-z']+", first[0])[:5] if first else []
    return "<<" + " ".join(w.capitalize() for w in head) + ">>\n" + text if head else text


def _edge(text: str, c: dict, rng: random.Random) -> str:
    """Prefixes and suffixes: title, starts_with, ends_with, end_with_question, postscript."""
    kind = c["kind"]
    if kind == "title":
        return _title(text)
    if kind == "starts_with":
        return c["phrase"].strip() + " " + text
    if kind == "ends_with":
        return text.rstrip() + " " + c["phrase"].strip()
    if kind == "end_with_question":
        return text.rstrip() + " " + rng.choice(_QUESTIONS)
    if kind == "postscript":
        return text.rstrip() + "\n\n" + c.get("marker", "P.S.") + " " + rng.choice(_POSTSCRIPTS)
    return text


_LAYOUT = ("word_count", "sentence_count", "bullet_points", "numbered_items", "paragraph_count", "section_count",
           "highlight_count")
_EDGE = ("title", "starts_with", "ends_with", "end_with_question", "postscript")
_CHARS = {"lowercase": str.lower, "uppercase": str.upper,
          "no_commas": lambda t: re.sub(r"\s*[,，]\s*", " ", t)}
_WRAP = {"quotation": lambda t: '"' + t.strip().strip('"') + '"',
         "json_format": lambda t: json.dumps({"answer": t.strip()}, ensure_ascii=False)}
REPAIRABLE = frozenset(_LAYOUT + _EDGE + tuple(_CHARS) + tuple(_WRAP))


def _rank(kind: str) -> int:
    return 0 if kind in _LAYOUT else 1 if kind in _EDGE else 2 if kind in _CHARS else 3


def repair(text: str, constraints: list[dict], rng: random.Random) -> str | None:
    """The answer rewritten for the constraints it can be rewritten for (layout, then case and commas after
    the edges are added, then wrapping), or None when one of them cannot be met this way. The caller
    verifies the result: a repair is a proposal, not a pass."""
    order = sorted(constraints, key=lambda c: _rank(c["kind"]))
    room = _room(constraints)
    for c in order:
        kind = c["kind"]
        if kind in _LAYOUT:
            text = _layout(text, c, room)
        elif kind in _EDGE:
            text = _edge(text, c, rng)
        elif kind in _CHARS:
            text = _CHARS[kind](text)
        elif kind in _WRAP:
            text = _WRAP[kind](text)
        if text is None or not text.strip():
            return None
    return text
