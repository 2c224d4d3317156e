"""The constraint kinds: each a pure checker `fn(answer, **args) -> bool`, listed in KINDS at the end.

The taxonomy follows IFEval (Zhou et al. 2023, arXiv:2311.07911, Table 1); the code and the exact
rules are ours. Checkers never raise on odd text: arguments are validated before they are called
(datagen.evaluation.constraints.validate).

    KINDS["no_commas"].checker("No commas here.") -> True
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable

REQUIRED = object()  # an Arg default meaning "must be given"
RELATIONS = ("at_least", "at_most", "exactly")
ARG_TYPES = ("int", "text", "words", "relation", "letter")


@dataclass(frozen=True)
class Arg:
    """One argument: type is one of ARG_TYPES; `min` is the smallest int (or fewest words)."""
    name: str
    type: str
    default: object = REQUIRED
    min: int = 0


@dataclass(frozen=True)
class Kind:
    name: str
    args: tuple[Arg, ...]
    checker: Callable[..., bool]
    description: str


# --- text helpers ---------------------------------------------------------------------------

# \w is unicode-aware, so "café naïve" is two words; "don't" and "well-known" are one each.
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# IFEval separates paragraphs with a *** divider; a blank line is the other everyday separator.
_PARAGRAPH_SPLIT = re.compile(r"\n[ \t]*\n|^[ \t]*\*\*\*[ \t]*$", re.M)
# A period after these does not end a sentence.
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|vs|etc|e\.g|i\.e)\.", re.I)
_SENTENCE_END = re.compile(r"[.!?。！？]+[\"'”’)\]]*(?=\s|$)")
_BULLET = re.compile(r"^[ \t]*[*-][ \t]+(?=\S)", re.M)
_HIGHLIGHT = re.compile(r"\*\*(?!\s)[^\n*]+(?<!\s)\*\*|\*(?!\s)[^\n*]+(?<!\s)\*")
_PLACEHOLDER = re.compile(r"\[([^\[\]\n]+)\](?!\()")  # not a markdown link [text](url)
_TITLE = re.compile(r"<<([^\n<>]+)>>")
_FENCE = re.compile(r"^```[ \t]*(?:json)?[ \t]*\n?(.*?)\n?[ \t]*```$", re.S | re.I)
_SIX_STARS = re.compile(r"(?<!\*)\*{6}(?!\*)")


def words(text: str) -> list[str]:
    """words("Café naïve, don't!") -> ["Café", "naïve", "don't"]"""
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    """sentences("Hi there. Dr. Who came!") -> ["Hi there", " Dr Who came"]; a blank line also
    ends a sentence (a title line has no full stop)."""
    text = _ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), text)
    pieces = [p for block in _BLANK_LINE.split(text) for p in _SENTENCE_END.split(block)]
    return [p for p in pieces if re.search(r"\w", p)]


def paragraphs(text: str) -> list[str]:
    """paragraphs("a\\n\\nb\\n***\\nc") -> ["a", "b", "c"] (empty pieces are ignored)."""
    return [p.strip() for p in _PARAGRAPH_SPLIT.split(text) if p.strip()]


def _squash(text: str) -> str:
    """Case- and whitespace-insensitive form: "  Dear   SIR " -> "dear sir"."""
    return " ".join(text.replace("’", "'").split()).casefold()


def _phrase(phrase: str) -> re.Pattern:
    """A whole-word, case-insensitive pattern: "ice cream" matches "Ice  cream!" not "nice creams"."""
    body = r"\s+".join(re.escape(w) for w in phrase.replace("’", "'").split())
    return re.compile(r"(?<!\w)" + body + r"(?!\w)", re.I)


def count_phrase(text: str, phrase: str) -> int:
    return len(_phrase(phrase).findall(text.replace("’", "'")))


def compare(count: int, relation: str, n: int) -> bool:
    """compare(3, "at_least", 2) -> True"""
    if relation == "at_least":
        return count >= n
    if relation == "at_most":
        return count <= n
    return count == n


_REL = Arg("relation", "relation")
_N = Arg("n", "int")


# --- length -----------------------------------------------------------------------------------

def word_count(answer: str, relation: str, n: int) -> bool:
    return compare(len(words(answer)), relation, n)


def sentence_count(answer: str, relation: str, n: int) -> bool:
    return compare(len(sentences(answer)), relation, n)


def paragraph_count(answer: str, n: int) -> bool:
    return len(paragraphs(answer)) == n


# --- keywords ---------------------------------------------------------------------------------

def include_keywords(answer: str, keywords: tuple[str, ...]) -> bool:
    return all(count_phrase(answer, k) for k in keywords)


def forbidden_words(answer: str, words: tuple[str, ...]) -> bool:
    return not any(count_phrase(answer, w) for w in words)


def keyword_frequency(answer: str, keyword: str, relation: str, n: int) -> bool:
    return compare(count_phrase(answer, keyword), relation, n)


def letter_frequency(answer: str, letter: str, relation: str, n: int) -> bool:
    return compare(answer.casefold().count(letter), relation, n)


def capital_word_frequency(answer: str, relation: str, n: int) -> bool:
    # Single letters ("I", "A") are not emphasis, so they are not counted.
    return compare(sum(1 for w in words(answer) if len(w) >= 2 and w.isupper()), relation, n)


# --- format -----------------------------------------------------------------------------------

def json_format(answer: str) -> bool:
    # A bare number or string is valid JSON, but nobody asking for "JSON format" means that.
    text = answer.strip()
    fenced = _FENCE.match(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return False
    return isinstance(value, (dict, list))


def bullet_points(answer: str, n: int) -> bool:
    return len(_BULLET.findall(answer)) == n


def title(answer: str) -> bool:
    return any(m.strip() for m in _TITLE.findall(answer))


def section_count(answer: str, n: int, splitter: str) -> bool:
    marker = re.compile(r"^[ \t#*_]*" + re.escape(splitter) + r"[ \t]+\d+", re.M | re.I)
    return len(marker.findall(answer)) == n


def placeholder_count(answer: str, n: int) -> bool:
    return sum(1 for p in _PLACEHOLDER.findall(answer) if p.strip()) >= n


def highlight_count(answer: str, n: int) -> bool:
    # Bullet markers ("* item") are removed first so a list is not read as one long highlight.
    return len(_HIGHLIGHT.findall(_BULLET.sub("", answer))) >= n


def postscript(answer: str, marker: str) -> bool:
    # "P.S." also matches "p.s.", "P. S." and "**P.S.**".
    body = "".join(re.escape(c) + (r"[ \t]?" if c == "." else "") for c in marker if not c.isspace())
    return re.search(r"^[ \t*_]*" + body + r"[*_:]*[ \t]*\S", answer, re.M | re.I) is not None


def two_responses(answer: str) -> bool:
    parts = [p.strip() for p in _SIX_STARS.split(answer)]
    return len(parts) == 2 and all(parts) and parts[0] != parts[1]


def answer_from_options(answer: str, options: tuple[str, ...]) -> bool:
    return sum(1 for o in options if count_phrase(answer, o)) == 1


# --- case, wording, punctuation ---------------------------------------------------------------

def lowercase(answer: str) -> bool:
    return not any(c.isupper() for c in answer)


def uppercase(answer: str) -> bool:
    return not any(c.islower() for c in answer)


def no_commas(answer: str) -> bool:
    return "," not in answer and "，" not in answer


def starts_with(answer: str, phrase: str) -> bool:
    return _squash(answer).startswith(_squash(phrase))


def ends_with(answer: str, phrase: str) -> bool:
    return _squash(answer).endswith(_squash(phrase))


def quotation(answer: str) -> bool:
    text = answer.strip()
    wrapped = text[:1] + text[-1:] in ('""', "“”")
    return len(text) > 2 and wrapped and bool(text[1:-1].strip())


def repeat_prompt(answer: str, prompt_to_repeat: str) -> bool:
    said, asked = _squash(answer), _squash(prompt_to_repeat)
    return said.startswith(asked) and bool(said[len(asked):].strip())


# The registry, explicit (one entry a kind): name, arguments, checker, description.
KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("word_count", (_REL, _N), word_count,
         "number of words compared with n"),
    Kind("sentence_count", (_REL, _N), sentence_count,
         "number of sentences compared with n"),
    Kind("paragraph_count", (Arg("n", "int", min=1),), paragraph_count,
         "exactly n paragraphs, separated by blank lines or ***"),
    Kind("include_keywords", (Arg("keywords", "words", min=1),), include_keywords,
         "every keyword appears as a whole word (any case)"),
    Kind("forbidden_words", (Arg("words", "words", min=1),), forbidden_words,
         "none of the words appears as a whole word (any case)"),
    Kind("keyword_frequency", (Arg("keyword", "text"), _REL, _N), keyword_frequency,
         "a keyword appears (as a whole word) a number of times compared with n"),
    Kind("letter_frequency", (Arg("letter", "letter"), _REL, _N), letter_frequency,
         "a letter appears (any case) a number of times compared with n"),
    Kind("capital_word_frequency", (_REL, _N), capital_word_frequency,
         "words in ALL CAPITALS (two letters or more) compared with n"),
    Kind("json_format", (), json_format,
         "the whole answer is a JSON object or array (a ```json fence is allowed)"),
    Kind("bullet_points", (Arg("n", "int", min=1),), bullet_points,
         "exactly n markdown bullet points ('* ' or '- ' lines)"),
    Kind("title", (), title,
         "a title wrapped in double angular brackets, <<like this>>"),
    Kind("section_count", (Arg("n", "int", min=1), Arg("splitter", "text", default="SECTION")), section_count,
         "exactly n sections, each starting with the splitter and a number ('SECTION 1')"),
    Kind("placeholder_count", (Arg("n", "int", min=1),), placeholder_count,
         "at least n placeholders in square brackets, [like this]"),
    Kind("highlight_count", (Arg("n", "int", min=1),), highlight_count,
         "at least n markdown-highlighted sections, *like this*"),
    Kind("postscript", (Arg("marker", "text", default="P.S."),), postscript,
         "a line starting with the marker (e.g. P.S.) followed by text"),
    Kind("two_responses", (), two_responses,
         "two different non-empty responses separated by six asterisks ******"),
    Kind("answer_from_options", (Arg("options", "words", min=2),), answer_from_options,
         "exactly one of the options appears in the answer (any case)"),
    Kind("lowercase", (), lowercase,
         "no capital letters anywhere"),
    Kind("uppercase", (), uppercase,
         "no lowercase letters anywhere (all capitals)"),
    Kind("no_commas", (), no_commas,
         "no commas (',' or the full-width '，')"),
    Kind("starts_with", (Arg("phrase", "text"),), starts_with,
         "the answer starts with the phrase (any case, spacing ignored)"),
    Kind("ends_with", (Arg("phrase", "text"),), ends_with,
         "the answer ends with the phrase and nothing after it (any case)"),
    Kind("quotation", (), quotation,
         "the whole answer is wrapped in double quotation marks"),
    Kind("repeat_prompt", (Arg("prompt_to_repeat", "text"),), repeat_prompt,
         "the answer first repeats the request word for word, then answers it"),
]}
