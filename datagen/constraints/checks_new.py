"""Checkers of datagen's kinds beyond IFEval's 25, in the spirit of IFBench (Pyatkin et al. 2025: new
word-level, counting and ordering constraints that models trained on IFEval's templates do not yet
follow). Our own kinds and rules; some are used for training, the rest held out to measure whether
following unseen constraints improves (registry.py says which).

    no_digits("Twelve apples.") -> True
"""
from __future__ import annotations

import re

from datagen.constraints.args import compare
from datagen.constraints.text import sentences, words

_TRAILING = "\"'”’)*_ \t\n"  # closing quotes, brackets and markdown after the last real character


# --- training kinds ---------------------------------------------------------------------------

def end_with_question(answer: str) -> bool:
    return answer.rstrip(_TRAILING).endswith("?")


def numbered_items(answer: str, n: int) -> bool:
    # "1. text" or "2) text" lines, exactly n of them.
    return len(re.findall(r"^\s*\d+[.)][ \t]+\S", answer, re.M)) == n


def no_digits(answer: str) -> bool:
    return not re.search(r"\d", answer)


def number_count(answer: str, relation: str, n: int) -> bool:
    # A number is a run of digits, with inner "." or "," ("3.5", "1,000" are one number each).
    return compare(len(re.findall(r"\d+(?:[.,]\d+)*", answer)), relation, n)


def unique_word_count(answer: str, relation: str, n: int) -> bool:
    return compare(len({w.lower() for w in words(answer)}), relation, n)


def max_word_length(answer: str, n: int) -> bool:
    return all(len(w) <= n for w in words(answer))


def sentence_max_words(answer: str, n: int) -> bool:
    return all(len(words(s)) <= n for s in sentences(answer))


def keyword_in_first_sentence(answer: str, keyword: str) -> bool:
    first = sentences(answer)[:1]
    return bool(first) and keyword.lower() in first[0].lower()


# --- held-out kinds ---------------------------------------------------------------------------

def line_count(answer: str, n: int) -> bool:
    return sum(1 for line in answer.splitlines() if line.strip()) == n


def last_word(answer: str, word: str) -> bool:
    found = words(answer)
    return bool(found) and found[-1].lower() == word.lower()


def question_count(answer: str, relation: str, n: int) -> bool:
    return compare(sum(1 for s in sentences(answer) if s.rstrip(_TRAILING).endswith("?")), relation, n)


def keyword_order(answer: str, keywords: tuple[str, ...]) -> bool:
    # Every keyword appears (any case); their first appearances come in the given order.
    text = answer.lower()
    firsts = [text.find(k.lower()) for k in keywords]
    return all(i >= 0 for i in firsts) and firsts == sorted(firsts)


def avoid_letter(answer: str, letter: str) -> bool:
    return letter.lower() not in answer.lower()


def parenthetical_count(answer: str, n: int) -> bool:
    return sum(1 for m in re.findall(r"\(([^()\n]*)\)", answer) if m.strip()) >= n


def word_repeat_limit(answer: str, n: int) -> bool:
    # No word of four letters or more used more than n times (short function words are free).
    counts: dict[str, int] = {}
    for w in words(answer):
        if len(w) >= 4:
            counts[w.lower()] = counts.get(w.lower(), 0) + 1
    return max(counts.values(), default=0) <= n


def hashtag_count(answer: str, n: int) -> bool:
    return len(re.findall(r"(?<![\w#])#[A-Za-z]\w*", answer)) == n
