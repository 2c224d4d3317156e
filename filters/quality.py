"""Quality heuristics on one record at a time: truncated, empty, mostly symbols, too short/long,
broken code fence, refusal boilerplate, echoed instruction, and Gopher-style repetition.

    Quality()([Record("Say hi", output="As an AI language model, I cannot.")]) -> ["refusal"]

Checks look at the output (or the instruction when a record has no output yet). Each is on by
default; `checks` picks a subset, e.g. Quality(checks=["truncated", "refusal"]). A conversation (a record
with `messages`) is judged turn by turn: every assistant message against the user message before it,
and a drop names the turn ("refusal", "turn 3: I cannot").
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as option  # a filter option is called `field`
from typing import ClassVar

from datagen.record import Record, normalize
from filters.base import Filter
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
# Not in Gopher (it judges documents of 50+ words): a short answer that says the same sentence three
# times ("I am no knight. I am no knight. I am no knight.") is a loop of a small teacher, not an answer.
REPEATED_SENTENCE = 3
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def repetition(text: str, min_words: int = 30) -> str | None:
    """"the cat " * 40 -> "top_2gram_char_frac 0.50 > 0.2"; a normal paragraph -> None.
    Texts under `min_words` words are not judged (Gopher works on documents of 50+ words)."""
    sentences = Counter(normalize(s).lower().strip(" .!?。！？") for s in _SENTENCE_END.split(_FENCE_BLOCK.sub("", text)))
    sentence, count = max(((s, n) for s, n in sentences.items() if len(s.split()) >= 3), key=lambda x: x[1],
                          default=("", 0))
    if count >= REPEATED_SENTENCE:
        return f"sentence repeated {count} times: {sentence[:60]!r}"
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


@dataclass
class Quality(Filter):
    """The checks in order; the first that fails gives the reason. Word counts use
    filters.shingles.words (each CJK character counts as a word)."""
    per_record: ClassVar[bool] = True
    field: str = option(default="output", metadata={"help": "output | instruction | rejected: the text judged"})
    min_words: int = option(default=1, metadata={"help": "fewer words: too_short", "min": 0})
    max_words: int = option(default=4096, metadata={"help": "more words: too_long", "min": 1})
    max_symbol_ratio: float = option(default=0.5, metadata={"help": "share of non-alphanumeric characters above "
                                                                   "which a text is non_alphabetic", "min": 0.0, "max": 1.0})
    min_symbol_chars: int = option(default=10, metadata={"help": "texts shorter than this skip the symbol check",
                                                        "min": 0})
    repetition_min_words: int = option(default=30, metadata={"help": "shorter texts skip the Gopher repetition "
                                                                    "check", "min": 1})
    echo_min_words: int = option(default=4, metadata={"help": "instructions this long echoed inside the output "
                                                             "count as echo", "min": 1})
    extra_refusals: list[str] = option(default_factory=list, metadata={"help": "your own refusal regexes"})
    checks: list[str] = option(default_factory=lambda: list(CHECKS), metadata={"help": ", ".join(CHECKS)})

    def __post_init__(self) -> None:
        unknown = [c for c in self.checks if c not in CHECKS]
        if unknown:
            raise ValueError(f"unknown check(s) {', '.join(unknown)}; valid: {', '.join(CHECKS)}")
        if self.field not in ("output", "instruction", "rejected"):
            raise ValueError(f"field must be output, instruction or rejected, got {self.field!r}")
        if self.min_words > self.max_words:
            raise ValueError(f"min_words {self.min_words} > max_words {self.max_words}")
        self._extra = re.compile("|".join(f"(?:{p})" for p in self.extra_refusals), re.IGNORECASE) \
            if self.extra_refusals else None

    def __call__(self, records: list[Record]) -> list:
        return [self.conversation(r) if r.num_turns else self.one(r) for r in records]

    def conversation(self, r: Record):
        """A record with `messages`: every assistant turn is judged as its own record (instruction = the
        user message before it, finish_reason = meta["finish_reasons"][k-1]); the first failing turn gives
        the reason and the detail names it: ("refusal", "turn 3: I cannot")."""
        if "empty" in self.checks and not normalize(r.instruction):
            return "empty_instruction"
        reasons = list(r.meta.get("finish_reasons") or [])
        n, k, user = r.num_turns, 0, r.instruction
        for m in r.messages:
            if m.get("role") != "assistant":
                user = m.get("content", "") if m.get("role") == "user" else user
                continue
            k += 1
            finish = reasons[k - 1] if k <= len(reasons) else (r.meta.get("finish_reason") if k == n else None)
            verdict = self.one(Record(id=r.id, instruction=user, output=m.get("content", ""),
                                      meta={"finish_reason": finish}))
            if verdict is not None:
                reason, detail = verdict if isinstance(verdict, tuple) else (verdict, "")
                return reason, f"turn {k}: {detail}" if detail else f"turn {k}"
        return None

    def one(self, r: Record):
        if "truncated" in self.checks and r.meta.get("finish_reason") == "length":
            return "truncated"
        if "empty" in self.checks and not normalize(r.instruction):
            return "empty_instruction"
        text = getattr(r, self.field)
        if text is None:
            if self.field != "output":
                return None
            text, field_name = r.instruction, "instruction"  # instruction-only records
        else:
            field_name = self.field
        stripped = text.strip()
        if "empty" in self.checks and not stripped:
            return f"empty_{field_name}"
        if "symbols" in self.checks:
            chars = sum(not c.isspace() for c in _FENCE_BLOCK.sub("", text))
            ratio = symbol_ratio(text)
            if chars >= self.min_symbol_chars and ratio > self.max_symbol_ratio:
                return "non_alphabetic", f"symbol ratio {ratio:.2f} > {self.max_symbol_ratio}"
        if "length" in self.checks:
            n = len(words(text))
            if n < self.min_words:
                return "too_short", f"{n} words < {self.min_words}"
            if n > self.max_words:
                return "too_long", f"{n} words > {self.max_words}"
        if "code_fence" in self.checks and text.count("```") % 2:
            return "broken_code_fence"
        if "refusal" in self.checks and field_name != "instruction":
            m = _REFUSAL.search(stripped) or (self._extra.search(stripped) if self._extra else None)
            if m:
                return "refusal", m.group(0)
        if "echo" in self.checks and field_name != "instruction":
            instr, out = normalize(r.instruction).lower(), normalize(text).lower()
            if out == instr or (len(instr.split()) >= self.echo_min_words and instr in out):
                return "echoed_output"
        if "repetition" in self.checks:
            why = repetition(text, self.repetition_min_words)
            if why:
                return "repetitive", why
        return None


@dataclass
class Length(Filter):
    """Only the empty and length checks of Quality."""
    per_record: ClassVar[bool] = True
    field: str = option(default="output", metadata={"help": "output | instruction | rejected"})
    min_words: int = option(default=1, metadata={"help": "fewer words: too_short", "min": 0})
    max_words: int = option(default=4096, metadata={"help": "more words: too_long", "min": 1})

    def __post_init__(self) -> None:
        self._q = Quality(field=self.field, min_words=self.min_words, max_words=self.max_words,
                          checks=["empty", "length"])

    def __call__(self, records: list[Record]) -> list:
        return self._q(records)


@dataclass
class Refusal(Filter):
    """Only the refusal check of Quality."""
    per_record: ClassVar[bool] = True
    extra_refusals: list[str] = option(default_factory=list, metadata={"help": "your own refusal regexes"})

    def __post_init__(self) -> None:
        self._q = Quality(extra_refusals=self.extra_refusals, checks=["refusal"])

    def __call__(self, records: list[Record]) -> list:
        return self._q(records)


@dataclass
class Truncated(Filter):
    """Only the truncated check: the teacher stopped at max_tokens (finish_reason "length")."""
    per_record: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._q = Quality(checks=["truncated"])

    def __call__(self, records: list[Record]) -> list:
        return self._q(records)
