"""Position-debiased pairwise judging: a judge compares two answers to one instruction twice, once
in each order, and only a preference that survives the swap counts.

    judge_pairs([("Add 2+2", "4", "5")], teacher, load_template("eval/pairwise"), sampling, "pw")
    -> [{"verdict_ab": "...Verdict: A", "verdict_ba": "...Verdict: B", "parsed_ab": "first",
         "parsed_ba": "second", "outcome": "win", "reason": "consistent"}]

LLM judges prefer whichever answer they read first (or second) far more often than chance.
Zheng et al. 2023 ("Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", sec. 3.3-3.4) call
this position bias and debias by judging both orders: an answer wins only if it is preferred in
both; a verdict that changes with the order is a tie. We do the same. Outcomes are from the
point of view of answer_a (in `datagen eval`, the student's answer).
"""
from __future__ import annotations

import re
from typing import Sequence

from datagen.teacher import Completion, Request, Sampling, Teacher
from datagen.templates import Template

FIRST, SECOND, TIE = "first", "second", "tie"
REASONS = ("consistent", "order_flip", "judge_tie", "unparsed")
_AMBIGUOUS = "?"  # a verdict line offering several choices ("Verdict: A or B"), as if echoed

# --- parsing a judge's answer -----------------------------------------------------------------
# The template asks for a last line "Verdict: A|B|tie", but small judges drift: "[[A]]" (the
# MT-Bench format), "**B**", "Answer 1 is better", "The second answer", "Both are equally good".
# Two tiers: explicit verdicts (a "Verdict:"-style line, [[X]], or a line that is only a label)
# beat preferences stated in prose, and within a tier the last line that decides wins, since
# judges reason first and conclude last.

_NOUN = r"(?:answer|response|assistant|output|option|candidate|reply)"
# A reference to one of the two answers. A bare letter must be a capital A/B standing alone, so
# the article "a" is never read as answer A; digits need a noun ("Answer 1") outside a verdict.
_REF = (rf"(?:(?i:(?:the\s+)?{_NOUN})\s*\(?[ABab12]\)?(?![\w'])"
        rf"|(?i:(?:the\s+)?(?:first|second)(?:\s+(?:{_NOUN}|one))?)\b"
        r"|(?<![\w'])[AB](?![\w']))")
_KEYWORD = (r"(?i:\b(?:final\s+)?verdict\s*(?:is\s*)?[:=\-\u2013\u2014]?\s*"
            r"|\b(?:final\s+answer|answer|decision|winner|choice|preference|judge?ment|result|conclusion"
            r"|better\s+(?:answer|response)|preferred\s+(?:answer|response))\s*(?:is\s*)?[:=]\s*)")
_VERDICT_KW = re.compile(rf"{_KEYWORD}(?P<v>[^\n]*?)(?={_KEYWORD}|$)")
_BRACKETS = re.compile(r"\[\[\s*(?P<v>[^\[\]\n]{1,20}?)\s*\]\]")
_TIE_VALUE = re.compile(r"(?i)^(?:it'?s\s+)?(?:a\s+)?(?:tie|tied|draw|equal|equally|c)\b"
                        r"|^(?:both|neither)\b")
_REF_VALUE = re.compile(rf"(?i)^(?:the\s+)?(?:{_NOUN}\s*)?\(?(?P<x>[ab12]|first|second)\)?(?![\w'])")
_AMBIGUOUS_REST = re.compile(r"(?i)^\s*(?:/|\bor\b|\band\b|,\s*(?:[ab12]|tie)\b)")
_BARE = re.compile(rf"^(?i:the\s+)?(?:{_REF}|(?i:tie|draw|equal))$")
_PREFER_AFTER = re.compile(
    rf"(?P<r>{_REF})\s+(?i:(?:is|was|seems|appears|looks)\s+)?"
    r"(?i:(?:clearly|slightly|much|far|definitely|significantly|somewhat|overall|a\s+bit|the)\s+)*"
    r"(?P<w>(?i:better|superior|preferable|preferred|stronger|best|winner|wins|worse|inferior|weaker"
    r"|(?:more|less)\s+(?:helpful|accurate|correct|complete|relevant|useful|appropriate)))\b")
_PREFER_BEFORE = re.compile(rf"(?i:\b(?:prefer|choose|pick|select|go\s+with|favou?r|vote\s+for)\s+)(?P<r>{_REF})")
_TIE_PROSE = re.compile(
    r"(?i)\b(?:tie|tied|draw)\b|\bequally\s+(?:good|bad|helpful|correct|strong|accurate|useful|valid|poor|well)\b"
    r"|\bneither\s+(?:\w+\s+)?is\s+better\b|\bno\s+clear\s+(?:winner|preference)\b"
    r"|\b(?:are|is)\s+(?:about\s+|roughly\s+|essentially\s+)?(?:equal|equivalent)\b")
_NEGATIVE = re.compile(r"(?i)^(?:worse|inferior|weaker|less\b)")
_MARKUP = re.compile(r"[*`_]+")


def _side(ref: str) -> str:
    """'Answer 1' / 'the first one' / 'A' -> 'first'; 'Response B' / 'second' -> 'second'."""
    low = ref.lower()
    if "first" in low or "second" in low:
        return FIRST if "first" in low else SECOND
    return FIRST if low.rstrip(") ")[-1:] in ("a", "1") else SECOND


def _other(side: str) -> str:
    return SECOND if side == FIRST else FIRST


def _value(text: str) -> str | None:
    """The verdict a value names: 'A' -> first, 'tie.' -> tie, 'A/B/tie' -> '?' (echoed format)."""
    text = text.strip().lstrip("[(\"'\u201c ").strip()
    if _TIE_VALUE.match(text):
        return TIE
    m = _REF_VALUE.match(text)
    if not m:
        return None
    return _AMBIGUOUS if _AMBIGUOUS_REST.match(text[m.end():]) else _side(m.group("x"))


def _explicit_all(line: str) -> set[str]:
    """Every explicit verdict on one line: 'Verdict: A', '[[B]]', or a line that is only a label."""
    found = {_value(m.group("v")) for m in _VERDICT_KW.finditer(line)}
    found |= {_value(m.group("v")) for m in _BRACKETS.finditer(line)}
    bare = line.strip().strip("[]()\"'\u201c\u201d").rstrip(".!").strip()
    if _BARE.match(bare):
        found.add(TIE if bare.lower() in ("tie", "draw", "equal") else _side(bare))
    found.discard(None)
    return found


def _explicit(line: str) -> str | None:
    """The explicit verdict of one line, or None; a line naming different verdicts (the judge
    echoing 'Verdict: A, Verdict: B or Verdict: tie') decides nothing."""
    found = _explicit_all(line)
    return found.pop() if len(found) == 1 and _AMBIGUOUS not in found else None


def _prose(line: str) -> str | None:
    """The last preference stated in prose on one line: 'A is better than B' -> first,
    'I prefer the second answer' -> second, 'both are equally good' -> tie."""
    found = _explicit_all(line)
    if len(found) > 1 or _AMBIGUOUS in found:
        return None  # an echoed answer format, not a preference: don't read its "tie" as one
    hits: list[tuple[int, str]] = []
    for m in _PREFER_AFTER.finditer(line):
        side = _side(m.group("r"))
        hits.append((m.start(), _other(side) if _NEGATIVE.match(m.group("w")) else side))
    hits += [(m.start(), _side(m.group("r"))) for m in _PREFER_BEFORE.finditer(line)]
    hits += [(m.start(), TIE) for m in _TIE_PROSE.finditer(line)]
    return max(hits)[1] if hits else None


def parse_verdict(text: str | None) -> str | None:
    """A judge's answer -> "first" | "second" | "tie", or None when it states no verdict.

        parse_verdict("A is clearer.\\nVerdict: B") -> "second"
    """
    if not text:
        return None
    lines = [ln for ln in _MARKUP.sub("", text).splitlines() if ln.strip()]
    for tier in (_explicit, _prose):
        for line in reversed(lines):
            verdict = tier(line)
            if verdict is not None:
                return verdict
    return None


# --- combining the two orders -----------------------------------------------------------------

def combine_detail(v_ab: str | None, v_ba: str | None) -> tuple[str, str]:
    """Outcome for answer_a from the verdict with a first (v_ab) and with a second (v_ba), and why.

        combine_detail("first", "second") -> ("win", "consistent")
        combine_detail("first", "first")  -> ("tie", "order_flip")   # it just likes position 1

    A preference must hold in both orders (Zheng et al. 2023); anything else is a tie, with the
    reason kept so a report can tell a biased judge ("order_flip") from a broken one ("unparsed").
    """
    if v_ab is None or v_ba is None:
        return "tie", "unparsed"
    if TIE in (v_ab, v_ba):
        return "tie", "judge_tie"
    if v_ab == FIRST and v_ba == SECOND:
        return "win", "consistent"
    if v_ab == SECOND and v_ba == FIRST:
        return "loss", "consistent"
    return "tie", "order_flip"


def combine(v_ab: str | None, v_ba: str | None) -> str:
    """("first", "second") -> "win"; ("second", "first") -> "loss"; anything else -> "tie"."""
    return combine_detail(v_ab, v_ba)[0]


# --- requests ---------------------------------------------------------------------------------

def build_requests(instruction: str, answer_a: str, answer_b: str, template: Template,
                   sampling: Sampling, key: str) -> tuple[Request, Request]:
    """The judge prompt in both orders: (a first, b second) keyed key:ab, (b first, a second) key:ba.

        build_requests("Hi?", "Hello", "Hey", tpl, s, "7") -> (Request(key="7:ab"), Request(key="7:ba"))
    """
    ab = template.render(instruction=instruction, first=answer_a, second=answer_b)
    ba = template.render(instruction=instruction, first=answer_b, second=answer_a)
    return (Request(messages=tuple(ab), sampling=sampling, key=f"{key}:ab"),
            Request(messages=tuple(ba), sampling=sampling, key=f"{key}:ba"))


def _parsed(comp: Completion) -> str | None:
    """A failed completion has no verdict: it counts as unparsed."""
    return parse_verdict(comp.text) if comp.ok else None


def judge_pairs(items: Sequence[tuple[str, str, str]], teacher: Teacher, template: Template,
                sampling: Sampling, key_prefix: str) -> list[dict]:
    """[(instruction, answer_a, answer_b), ...] -> one result dict per item, in order, from one
    teacher.complete() call of 2 * len(items) requests (ab, ba, ab, ba, ...).

        judge_pairs([("Hi?", "Hello", "Hey")], t, tpl, s, "pw")[0]["outcome"] -> "win"
    """
    requests: list[Request] = []
    for i, (instruction, answer_a, answer_b) in enumerate(items):
        requests.extend(build_requests(instruction, answer_a, answer_b, template, sampling, key=f"{key_prefix}:{i}"))
    completions = teacher.complete(requests) if requests else []
    results = []
    for i in range(len(items)):
        comp_ab, comp_ba = completions[2 * i], completions[2 * i + 1]
        parsed_ab, parsed_ba = _parsed(comp_ab), _parsed(comp_ba)
        outcome, reason = combine_detail(parsed_ab, parsed_ba)
        results.append({"verdict_ab": comp_ab.text, "verdict_ba": comp_ba.text, "parsed_ab": parsed_ab,
                        "parsed_ba": parsed_ba, "outcome": outcome, "reason": reason})
    return results


def reason_counts(results: Sequence[dict]) -> dict:
    """Per-reason counts of judge_pairs results: {"consistent": 3, "order_flip": 1, ...}."""
    counts = dict.fromkeys(REASONS, 0)
    for r in results:
        counts[r["reason"]] += 1
    return counts
