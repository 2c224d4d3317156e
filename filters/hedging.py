"""The hedging reward for questions with a reference answer: John Schulman's proposal for rewarding honest
answers ("similar to log loss, or a proper scoring rule"): unhedged correct 1, hedged correct 0.5, an
uninformative "I don't know" 0, hedged wrong -2, wrong -4. A model that is right with probability p gains by
answering outright only when p is high, by hedging when it is middling, and by abstaining when it is low.

Detection is by rules, written here and tested on each case (tests/test_hedging.py):
- correct: the reference (case, spaces and end punctuation aside) is the whole answer or appears in it as a
  whole phrase; a numeric reference matches the answer's last number (as matches_reference).
- hedged: a hedge phrase ("I think", "probably", "maybe", "not sure", ...) or an abstention phrase that still
  goes on to offer an answer.
- "I don't know": an abstention phrase ("I don't know", "I'm not sure", "no idea", ...) and nothing else of
  substance: no hedge towards a guess, and no word left that is neither filler nor a word of the question
  ("I'm not sure what the capital of Peru is." abstains; "I don't know, maybe Lima." guesses).
Known limits: a negated reference ("it is not Lima") counts as correct; a list that names the reference
among others ("Lima or Cusco") counts as correct and hedged only if a hedge word is present.

    hedging("Lima.", Record.make("Capital of Peru?", output="Lima")) -> 1.0
    hedging("I think it is Cusco.", Record.make("Capital of Peru?", output="Lima")) -> -2.0
"""
from __future__ import annotations

import re

from datagen.record import Record, normalize

# Schulman's five rewards.
REWARDS = {"correct": 1.0, "hedged_correct": 0.5, "dont_know": 0.0, "hedged_wrong": -2.0, "wrong": -4.0}

HEDGES = (r"i think", r"i believe", r"i guess", r"i suspect", r"i'?m fairly (?:sure|certain|confident)",
          r"probably", r"possibly", r"perhaps", r"maybe", r"likely", r"might(?: be)?", r"may be", r"could be",
          r"not (?:entirely |completely |totally |100% )?(?:sure|certain)", r"if i (?:remember|recall)",
          r"it seems", r"seems to be", r"appears to be", r"uncertain", r"my best guess", r"i would guess",
          r"to my knowledge", r"as far as i know")
ABSTAINS = (r"i (?:do not|don'?t) know", r"(?:i'?m|i am) not (?:entirely |completely |totally |100% )?(?:sure|certain)",
            r"no idea",
            r"(?:i (?:cannot|can'?t|am unable to)|i'?m unable to) (?:say|answer|tell|know)",
            r"i have no (?:way of knowing|information)", r"unknown to me",
            r"i (?:do not|don'?t) have (?:the|that|enough) (?:answer|information)")
_HEDGE = re.compile(r"\b(?:" + "|".join(HEDGES) + r")\b")
_ABSTAIN = re.compile(r"\b(?:" + "|".join(ABSTAINS) + r")\b")
_WORD = re.compile(r"[a-z0-9']+")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
# Words that carry no answer: an abstention made of them (and the question's words) is uninformative.
FILLER = frozenset("""a an the is are was were be it its it's this that what which who whom whose where when why how
to of in on at for by with about from and or but so sorry answer question know sure really exactly i i'm me my you
your there their here do does did not no any anything say tell can could would afraid unfortunately honestly
information enough have has had am just idea""".split())


def _canon(text: str) -> str:
    return " ".join(_WORD.findall(normalize(text).lower().replace("’", "'")))


def is_correct(answer: str, reference: str) -> bool:
    """The reference is the answer, appears in it as a whole phrase, or (numeric) is its last number."""
    ref, ans = _canon(reference), _canon(answer)
    if not ref:
        raise ValueError("the record has no reference answer (output) to compare with")
    if ans == ref or f" {ref} " in f" {ans} ":
        return True
    if _NUMBER.fullmatch(reference.strip().rstrip(".")):
        found = _NUMBER.findall(answer or "")
        return bool(found) and found[-1].replace(",", ".") == reference.strip().rstrip(".").replace(",", ".")
    return False


def is_hedged(answer: str) -> bool:
    """A hedge phrase, or an abstention phrase, anywhere in the answer."""
    text = normalize(answer).lower().replace("’", "'")
    return bool(_HEDGE.search(text) or _ABSTAIN.search(text))


def is_dont_know(answer: str, question: str = "") -> bool:
    """An abstention with nothing of substance besides it (no hedge towards a guess, no new word)."""
    text = normalize(answer).lower().replace("’", "'")
    if not _ABSTAIN.search(text):
        return False
    rest = _ABSTAIN.sub(" ", text)
    if _HEDGE.search(rest):
        return False
    asked = set(_WORD.findall(normalize(question).lower()))
    return all(w in FILLER or w in asked for w in _WORD.findall(rest))


def classify(answer: str, reference: str, question: str = "") -> str:
    """One of REWARDS' keys. Correctness first: a hedged right answer is `hedged_correct`, never "I don't know"."""
    if is_correct(answer, reference):
        return "hedged_correct" if is_hedged(answer) else "correct"
    if is_dont_know(answer, question):
        return "dont_know"
    return "hedged_wrong" if is_hedged(answer) else "wrong"


def hedging(answer: str, record: Record) -> float:
    """The verifier (filters/verifiers.py): Schulman's reward of the answer against the record's reference.
    A record without a reference raises (-> verifier_error)."""
    return REWARDS[classify(answer or "", record.output or "", record.instruction)]
