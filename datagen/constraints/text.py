"""Text units the checkers count: words, tokens, sentences, paragraphs, and the answer's language.

The rules follow IFEval (Zhou et al. 2023, arXiv:2311.07911). Its reference evaluation counts words as
runs of word characters, tokenizes with NLTK (the Punkt sentence model, then the Treebank word rules)
for sentences and capital words, and identifies the language with langdetect. The Punkt English model
is a data file we cannot ship or download, so `sentences()` and `tokens()` are our own code written
to the same rules (a sentence ends at . ! or ? before a space, not after a known abbreviation or an
initial, nor after a number or ellipsis when a lowercase word follows; a newline alone ends nothing).
Counts can differ from NLTK's on rare text (an abbreviation outside our list ends a sentence here).

    words("don't stop") -> ["don", "t", "stop"]; sentences("Dr. Who came. He left.") -> 2 items
"""
from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
# Abbreviations whose period does not end a sentence (lowercased, without the final period).
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e a.m p.m u.s u.k no approx dept est fig inc ltd co corp "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft gen gov sen rep rev vol cf al".split())
_END = re.compile(r"[.!?]+[\"')\]}’”]*$")


def words(text: str) -> list[str]:
    """Runs of word characters, as IFEval counts words: words("café, don't") -> ["café", "don", "t"]"""
    return _WORD.findall(text)


def _ends_sentence(tok: str, nxt: str | None) -> bool:
    """Whether the whitespace-separated token `tok` ends a sentence, given the token after it."""
    if not _END.search(tok):
        return False
    core = re.sub(r"[\"')\]}’”]+$", "", tok)
    if core.endswith(("?", "!")):
        return True
    stem = core.rstrip(".").lstrip("\"'([{‘“").lower()
    lower_next = nxt is not None and nxt.lstrip("\"'([{‘“")[:1].islower()
    if core.endswith("..") or stem.isdigit():  # ellipsis, "3." : a break unless a lowercase word follows
        return not lower_next
    if stem in ABBREVIATIONS or (len(stem) == 1 and stem.isalpha()) or re.fullmatch(r"(?:\w\.)+\w", stem):
        return False  # "Dr.", the initial "J.", "U.S."
    return True


def sentences(text: str) -> list[str]:
    """Sentences as a Punkt-style splitter finds them (see the module note).

        sentences("Hi there. Dr. Who came!\\nTitle\\nNext one") -> ["Hi there.", "Dr. Who came!", "Title\\nNext one"]
    """
    pieces = list(re.finditer(r"\S+", text))
    out, start = [], 0
    for i, m in enumerate(pieces):
        nxt = pieces[i + 1].group(0) if i + 1 < len(pieces) else None
        if _ends_sentence(m.group(0), nxt):
            out.append(text[start:m.end()].strip())
            start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


_TREEBANK = [  # (pattern, replacement) applied in order to one sentence, as the Treebank rules split
    (re.compile(r'^\s*"|(?<=[\s(\[{<])"'), ' " '),
    (re.compile(r"([;@#$%&?!])"), r" \1 "),
    (re.compile(r"([:,])(?!\d)"), r" \1 "),
    (re.compile(r"\.\.\."), " ... "),
    (re.compile(r"([\]\[(){}<>])"), r" \1 "),
    (re.compile(r"--"), " -- "),
    (re.compile(r"([^.])(\.)([\]\)}>\"']*)\s*$"), r"\1 \2\3 "),
    (re.compile(r'"'), ' " '),
    (re.compile(r"([^' ])('[sSmMdD]|')(?=\s|$)"), r"\1 \2"),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T)(?=\s|$)"), r"\1 \2"),
]


def tokens(text: str) -> list[str]:
    """Word tokens in the Treebank style, sentence by sentence: punctuation and clitics split off,
    hyphenated words and inner periods kept.

        tokens("I DON'T know U.S. law, OK?") -> ["I", "DO", "N'T", "know", "U.S.", "law", ",", "OK", "?"]
    """
    out = []
    for sent in sentences(text):
        for pattern, repl in _TREEBANK:
            sent = pattern.sub(repl, sent)
        out.extend(sent.split())
    return out


def split_paragraphs_stars(text: str) -> list[str] | None:
    """IFEval's paragraphs: pieces between *** dividers; empty pieces at either end are ignored, an
    empty one in the middle makes the answer malformed (None).

        split_paragraphs_stars("a\\n***\\nb") -> ["a", "b"]; split_paragraphs_stars("a *** *** b") -> None
    """
    pieces = re.split(r"\s?\*\*\*\s?", text)
    out = []
    for i, p in enumerate(pieces):
        if p.strip():
            out.append(p.strip())
        elif 0 < i < len(pieces) - 1:
            return None
    return out


def split_paragraphs_blank(text: str) -> list[str]:
    """Paragraphs separated by blank lines: split_paragraphs_blank("a\\n\\nb\\n\\n\\nc") -> ["a", "b", "c"]"""
    return [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def language_of(text: str) -> str | None:
    """langdetect's ISO 639-1 code for the text ("en"), or None when it finds no language features.
    langdetect samples at random: the seed is fixed so the same text always gets the same answer."""
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        return detect(text)
    except LangDetectException:
        return None
