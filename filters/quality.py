"""Quality heuristics on one record at a time: truncated, empty, mostly symbols, too short/long,
broken code fence, refusal boilerplate, echoed instruction, and Gopher-style repetition.

    quality()([Record("Say hi", output="As an AI language model, I cannot.")]) -> ["refusal"]

Checks look at the output (or the instruction when a record has no output yet). Each is on by
default; `checks` picks a subset, e.g. quality(checks=["truncated", "refusal"]).
"""
from __future__ import annotations

import re
from collections import Counter

from datagen.record import Record, normalize
from filters.shingles import words

CHECKS = ("truncated", "empty", "symbols", "length", "code_fence", "refusal", "echo", "repetition")

# Boilerplate refusals and AI self-references: anywhere in the text, or (^) at its start.
REFUSALS = (
    r"\bas an ai\b(?: language model| assistant| model)?",
    r"\bas a (?:large )?language model\b",
    r"\bi(?: am|'m) (?:just )?an ai\b",
    r"^(?:i(?: am|'m) )?sorry,? (?:but )?(?:i|as an)\b",
    r"^i (?:cannot|can ?not|can't|won't|am unable to|'m unable to|am not able to|'m not able to)\b",
    r"\bi (?:cannot|can't|am unable to) (?:help|assist|comply|fulfil+) with (?:that|this|your)\b",
    r"\bals (?:ki|ein ki)-?sprachmodell\b", r"\ben tant qu'(?:ia|intelligence artificielle|modèle de langage)\b",
    r"^lo siento,? pero no puedo\b", r"^je suis désolé,? mais je ne peux pas\b",
    r"作为一(?:个|名)?(?:人工智能|ai)(?:语言)?模型", r"^抱歉，?我(?:无法|不能)",
)
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in REFUSALS), re.IGNORECASE)
_FENCE_BLOCK = re.compile(r"```.*?```", re.DOTALL)

# Gopher quality filter (Rae et al. 2021, "Scaling Language Models", App. A, Table A1): drop a text
# when the most frequent 2/3/4-gram covers more than 20/18/16% of its word characters, when
# duplicated 5..10-grams cover more than 15..10%, or when over 30% of its lines are duplicates.
TOP_NGRAM = {2: 0.20, 3: 0.18, 4: 0.16}
DUP_NGRAM = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
DUP_LINES = 0.30


def repetition(text: str, min_words: int = 30) -> str | None:
    """"the cat " * 40 -> "top_2gram_char_frac 0.50 > 0.2"; a normal paragraph -> None.
    Texts under `min_words` words are not judged (Gopher works on documents of 50+ words)."""
    lines = [ln.strip() for ln in _FENCE_BLOCK.sub("", text).splitlines() if ln.strip()]
    if len(lines) >= 4:
        dup = sum(n - 1 for n in Counter(lines).values())
        if dup / len(lines) > DUP_LINES:
            return f"dup_line_frac {dup / len(lines):.2f} > {DUP_LINES}"
    ws = words(text)
    if len(ws) < min_words:
        return None
    total = sum(len(w) for w in ws)
    for n, limit in TOP_NGRAM.items():
        grams = Counter(tuple(ws[i:i + n]) for i in range(len(ws) - n + 1))
        gram, count = grams.most_common(1)[0]
        if count > 1 and count * sum(len(w) for w in gram) / total > limit:
            return f"top_{n}gram_char_frac {count * sum(len(w) for w in gram) / total:.2f} > {limit}"
    for n, limit in DUP_NGRAM.items():
        grams = Counter(tuple(ws[i:i + n]) for i in range(len(ws) - n + 1))
        covered = [False] * len(ws)
        for i in range(len(ws) - n + 1):
            if grams[tuple(ws[i:i + n])] > 1:
                covered[i:i + n] = [True] * n
        frac = sum(len(w) for w, c in zip(ws, covered) if c) / total
        if frac > limit:
            return f"dup_{n}gram_char_frac {frac:.2f} > {limit}"
    return None


def symbol_ratio(text: str) -> float:
    """Share of non-space characters that are neither letters nor digits, outside ``` blocks:
    "!!! ??? ***" -> 1.0, "2 + 2 = 4" -> 0.4. A looser cousin of Gopher's rule that 80% of words
    contain a letter, loose so that arithmetic, code and JSON answers pass."""
    chars = [c for c in _FENCE_BLOCK.sub("", text) if not c.isspace()]
    return sum(not c.isalnum() for c in chars) / len(chars) if chars else 0.0


def quality(field: str = "output", min_words: int = 1, max_words: int = 4096, max_symbol_ratio: float = 0.5,
            min_symbol_chars: int = 10, repetition_min_words: int = 30, echo_min_words: int = 4,
            extra_refusals: tuple[str, ...] | list[str] = (), checks: tuple[str, ...] | list[str] = CHECKS):
    """The checks in order; the first that fails gives the reason. Word counts use
    filters.shingles.words (each CJK character counts as a word)."""
    checks = tuple(checks)
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; valid: {', '.join(CHECKS)}")
    if field not in ("output", "instruction", "rejected"):
        raise ValueError(f"field must be output, instruction or rejected, got {field!r}")
    if min_words > max_words:
        raise ValueError(f"min_words {min_words} > max_words {max_words}")
    extra = re.compile("|".join(f"(?:{p})" for p in extra_refusals), re.IGNORECASE) if extra_refusals else None

    def one(r: Record):
        if "truncated" in checks and r.meta.get("finish_reason") == "length":
            return "truncated"
        if "empty" in checks and not normalize(r.instruction):
            return "empty_instruction"
        text = getattr(r, field)
        if text is None:
            if field != "output":
                return None
            text, field_name = r.instruction, "instruction"  # instruction-only records
        else:
            field_name = field
        stripped = text.strip()
        if "empty" in checks and not stripped:
            return f"empty_{field_name}"
        if "symbols" in checks:
            chars = sum(not c.isspace() for c in _FENCE_BLOCK.sub("", text))
            ratio = symbol_ratio(text)
            if chars >= min_symbol_chars and ratio > max_symbol_ratio:
                return "non_alphabetic", f"symbol ratio {ratio:.2f} > {max_symbol_ratio}"
        if "length" in checks:
            n = len(words(text))
            if n < min_words:
                return "too_short", f"{n} words < {min_words}"
            if n > max_words:
                return "too_long", f"{n} words > {max_words}"
        if "code_fence" in checks and text.count("```") % 2:
            return "broken_code_fence"
        if "refusal" in checks and field_name != "instruction":
            m = _REFUSAL.search(stripped) or (extra.search(stripped) if extra else None)
            if m:
                return "refusal", m.group(0)
        if "echo" in checks and field_name != "instruction":
            instr, out = normalize(r.instruction).lower(), normalize(text).lower()
            if out == instr or (len(instr.split()) >= echo_min_words and instr in out):
                return "echoed_output"
        if "repetition" in checks:
            why = repetition(text, repetition_min_words)
            if why:
                return "repetitive", why
        return None

    return lambda records: [one(r) for r in records]


def length(field: str = "output", min_words: int = 1, max_words: int = 4096):
    """Only the empty and length checks of quality()."""
    return quality(field=field, min_words=min_words, max_words=max_words, checks=("empty", "length"))


def refusal(extra_refusals: tuple[str, ...] | list[str] = ()):
    """Only the refusal check of quality()."""
    return quality(extra_refusals=extra_refusals, checks=("refusal",))


def truncated():
    """Only the truncated check: the teacher stopped at max_tokens (finish_reason "length")."""
    return quality(checks=("truncated",))
