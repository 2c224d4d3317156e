"""Checkers of the kinds IFEval defines (Zhou et al. 2023, arXiv:2311.07911, Table 1), by the rules its
paper and reference evaluation state; the code is ours. Each is `fn(answer, **args) -> bool` and never
raises on odd text (arguments are validated first). `starts_with` is datagen's own kind.

    no_commas("No commas here.") -> True
"""
from __future__ import annotations

import json
import re

from datagen.constraints.args import compare
from datagen.constraints.text import language_of, sentences, split_paragraphs_blank, split_paragraphs_stars, \
    tokens, words


def _casefold_count(text: str, phrase: str) -> int:
    """Occurrences of a phrase anywhere, any case (IFEval matches keywords as substrings)."""
    return len(re.findall(re.escape(phrase), text, re.I))


# --- length -----------------------------------------------------------------------------------

def word_count(answer: str, relation: str, n: int) -> bool:
    return compare(len(words(answer)), relation, n)


def sentence_count(answer: str, relation: str, n: int) -> bool:
    return compare(len(sentences(answer)), relation, n)


def paragraph_count(answer: str, n: int, separator: str = "***") -> bool:
    found = split_paragraphs_stars(answer) if separator == "***" else split_paragraphs_blank(answer)
    return found is not None and len(found) == n


def nth_paragraph_first_word(answer: str, n: int, nth: int, first_word: str) -> bool:
    # Paragraphs split on blank lines; the first word loses leading quotes and stops at punctuation.
    paras = split_paragraphs_blank(answer)
    if len(paras) != n or nth > len(paras):
        return False
    word = paras[nth - 1].split()[0].lstrip("'\"")
    return re.split(r"[.,?!'\"]", word, maxsplit=1)[0].lower() == first_word.lower()


# --- keywords ---------------------------------------------------------------------------------

def include_keywords(answer: str, keywords: tuple[str, ...]) -> bool:
    return all(_casefold_count(answer, k) for k in keywords)


def forbidden_words(answer: str, words: tuple[str, ...]) -> bool:
    # IFEval matches forbidden words as whole words (any case), unlike the keywords above.
    return not any(re.search(r"\b" + re.escape(w) + r"\b", answer, re.I) for w in words)


def keyword_frequency(answer: str, keyword: str, relation: str, n: int) -> bool:
    return compare(_casefold_count(answer, keyword), relation, n)


def letter_frequency(answer: str, letter: str, relation: str, n: int) -> bool:
    return compare(answer.lower().count(letter.lower()), relation, n)


def capital_word_frequency(answer: str, relation: str, n: int) -> bool:
    # A token counts when all its cased letters are capitals: "I" and "A" count, as in the paper's NLTK rule.
    return compare(sum(1 for t in tokens(answer) if t.isupper()), relation, n)


def response_language(answer: str, language: str) -> bool:
    # The reference evaluation counts text with no detectable language as following the instruction.
    found = language_of(answer)
    return found is None or found == language


# --- format -----------------------------------------------------------------------------------

def json_format(answer: str) -> bool:
    # One optional ``` or ```json fence around the answer; any JSON value, as in the reference.
    text = answer.strip()
    text = re.sub(r"^```(?:json)?", "", text, flags=re.I)
    text = re.sub(r"```$", "", text).strip()
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def bullet_points(answer: str, n: int) -> bool:
    # Markdown bullets: a line starting with "*" (not "**") or "-", after optional spaces.
    found = re.findall(r"^\s*\*[^*].*$", answer, re.M) + re.findall(r"^\s*-.*$", answer, re.M)
    return len(found) == n


def title(answer: str) -> bool:
    return any(m.strip("<>").strip() for m in re.findall(r"<<[^\n]+>>", answer))


def section_count(answer: str, n: int, splitter: str = "SECTION") -> bool:
    # At least n sections; the splitter and a number mark each, anywhere, case-sensitive.
    return len(re.split(r"\s?" + re.escape(splitter) + r"\s?\d+\s?", answer)) - 1 >= n


def placeholder_count(answer: str, n: int) -> bool:
    return len(re.findall(r"\[.*?\]", answer)) >= n


def highlight_count(answer: str, n: int) -> bool:
    # *text* and **text** on one line with something inside count; a "**" alone does not.
    singles = [m for m in re.findall(r"\*[^\n*]*\*", answer) if m.strip("*").strip()]
    doubles = [m for m in re.findall(r"\*\*[^\n*]*\*\*", answer) if m[2:-2].strip()]
    return len(singles) + len(doubles) >= n


def postscript(answer: str, marker: str = "P.S.") -> bool:
    # "P.S." matches "p.s." and "P. S."; the reference looks for the marker anywhere in the answer.
    body = "".join(re.escape(c) + (r"\s?" if c == "." else "") for c in marker.lower() if not c.isspace())
    return re.search(r"\s*" + body + r".*$", answer.lower(), re.M) is not None


def two_responses(answer: str) -> bool:
    parts = answer.split("******")
    kept = []
    for i, part in enumerate(parts):
        if part.strip():
            kept.append(part.strip())
        elif 0 < i < len(parts) - 1:
            return False
    return len(kept) == 2 and kept[0] != kept[1]


def answer_from_options(answer: str, options: tuple[str, ...]) -> bool:
    # Case-sensitive, as in IFEval; an option counts when no word character is glued to either end,
    # and exactly one distinct option may appear ("Answer with one of the following options").
    seen = [o for o in options if re.search(r"(?<!\w)" + re.escape(o) + r"(?!\w)", answer)]
    return len(set(seen)) == 1


# --- case, wording, punctuation ---------------------------------------------------------------

def lowercase(answer: str) -> bool:
    return answer.islower() and language_of(answer) in (None, "en")


def uppercase(answer: str) -> bool:
    return answer.isupper() and language_of(answer) in (None, "en")


def no_commas(answer: str) -> bool:
    return "," not in answer and "，" not in answer


def starts_with(answer: str, phrase: str) -> bool:
    return answer.strip().lower().startswith(phrase.strip().lower())


def ends_with(answer: str, phrase: str) -> bool:
    return answer.strip().lower().endswith(phrase.strip().lower())


def quotation(answer: str) -> bool:
    text = answer.strip()
    return len(text) > 1 and text[:1] + text[-1:] in ('""', "“”")


def repeat_prompt(answer: str, prompt_to_repeat: str) -> bool:
    return answer.strip().lower().startswith(prompt_to_repeat.strip().lower())
