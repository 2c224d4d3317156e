"""Words for grounding checks and knowledge scores: SQuAD-style answer normalisation (lower case, no
punctuation, no articles) for exact match and token F1 (Rajpurkar et al. 2016, the official v1.1
evaluation script's definition), content words (no function words) for the lexical support check,
and the numbers an answer states.

    token_f1("The badge costs 15 pounds.", "15 pounds") -> 0.667     exact_match("The Pier.", "pier") -> True
    content_words("Every employee has 27 days of leave.") -> ["every", "employee", "27", "days", "leave"]
"""
from __future__ import annotations

import re
import string
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d\u2014\u2013\u2026")
_WORD = re.compile(r"[^\W_]+(?:[.,'][^\W_]+)*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
# English function words; negations are left out on purpose: "not" changes what a sentence claims.
FUNCTION_WORDS = frozenset("""a an the and or but if then than so as of to in on at by for with from into onto
over under about after before between through during without within is are was were be been being am do does
did done have has had having will would shall should can could may might must it its it's this that these
those there here he she they them their his her we us our you your i me my which who whom whose what when
where why how all any each both either neither some such own same other more most very too also just only
up down out off again further once yes per via while because whether until""".split())


def normalize_answer(text: str) -> str:
    text = (text or "").lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, reference: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(reference)


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def content_words(text: str) -> list[str]:
    """Lower-cased words and numbers, function words left out ("27,000" and "3.5" stay whole)."""
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text or "")) if w not in FUNCTION_WORDS]


def numbers(text: str) -> set[str]:
    """numbers("27 days, 1,500 pounds, 2.5%") -> {"27", "1500", "2.5"}"""
    return {m.group(0).replace(",", "") for m in _NUMBER.finditer(text or "")}


def _stem(word: str) -> str:
    """A light plural/verb-ending strip so "badges" meets "badge": enough for support, not a stemmer."""
    for suffix in ("ies", "s", "ed", "ing"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def support(answer: str, source: str) -> tuple[float, list[str]]:
    """Share of the answer's content words that the source holds (lightly stemmed), and the words it
    does not: support("27 days of leave", "27 days of paid leave a year") -> (1.0, [])."""
    have = {_stem(w) for w in content_words(source)}
    words = content_words(answer)
    if not words:
        return 1.0, []
    missing = [w for w in words if _stem(w) not in have]
    return 1 - len(missing) / len(words), missing
