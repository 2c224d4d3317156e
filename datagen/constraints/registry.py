"""The registry of constraint kinds: one entry a kind, with its arguments, checker, description,
split ("train": used to write training prompts; "heldout": never in training, to measure whether
following unseen constraints improves; "eval": checked, never sampled: repeat_prompt needs the request
text, and a 135M teacher writes no other language than English, so response_language would only waste
candidates) and the kinds it conflicts with.

    KINDS["word_count"].checker("one two", relation="exactly", n=2) -> True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from datagen.constraints import checks_ifeval as I
from datagen.constraints import checks_new as N
from datagen.constraints.args import Arg

SPLITS = ("train", "heldout", "eval")


@dataclass(frozen=True)
class Kind:
    name: str
    args: tuple[Arg, ...]
    checker: Callable[..., bool]
    description: str
    split: str = "train"
    conflicts: tuple[str, ...] = ()


_REL = Arg("relation", "relation")
_N = Arg("n", "int")
_N1 = Arg("n", "int", min=1)
# Kinds whose arguments hold words or phrases: a lipogram (avoid_letter) may contradict any of them.
_TEXTUAL = ("include_keywords", "keyword_frequency", "keyword_order", "keyword_in_first_sentence", "starts_with",
            "ends_with", "last_word", "letter_frequency", "answer_from_options", "section_count", "postscript",
            "repeat_prompt", "nth_paragraph_first_word", "response_language")
# Kinds that shape the whole answer: JSON output cannot also have them.
_LAYOUT = ("paragraph_count", "nth_paragraph_first_word", "bullet_points", "title", "section_count",
           "highlight_count", "postscript", "two_responses", "quotation", "starts_with", "ends_with",
           "end_with_question", "numbered_items", "line_count", "last_word", "repeat_prompt", "answer_from_options",
           "keyword_in_first_sentence", "sentence_max_words", "question_count", "hashtag_count", "sentence_count")

KINDS: dict[str, Kind] = {k.name: k for k in [
    # IFEval's kinds (IFEval ids in ifeval_format.py), by the paper's rules
    Kind("word_count", (_REL, _N), I.word_count, "number of words (runs of letters and digits) compared with n",
         conflicts=("unique_word_count",)),
    Kind("sentence_count", (_REL, _N), I.sentence_count, "number of sentences compared with n"),
    Kind("paragraph_count", (_N1, Arg("separator", "choice", default="***", choices=("***", "blank_line"))),
         I.paragraph_count, "exactly n paragraphs, separated by *** dividers (or blank lines)",
         conflicts=("nth_paragraph_first_word", "two_responses", "line_count")),
    Kind("nth_paragraph_first_word", (_N1, Arg("nth", "int", min=1), Arg("first_word", "text")),
         I.nth_paragraph_first_word, "exactly n paragraphs separated by blank lines; paragraph nth starts "
         "with first_word", conflicts=("two_responses", "starts_with", "line_count")),
    Kind("include_keywords", (Arg("keywords", "words", min=1),), I.include_keywords,
         "every keyword appears (any case, also inside a longer word)"),
    Kind("forbidden_words", (Arg("words", "words", min=1),), I.forbidden_words,
         "none of the words appears as a whole word (any case)"),
    Kind("keyword_frequency", (Arg("keyword", "text"), _REL, _N), I.keyword_frequency,
         "a keyword appears (any case, also inside a longer word) a number of times compared with n"),
    Kind("letter_frequency", (Arg("letter", "letter"), _REL, _N), I.letter_frequency,
         "a character appears (any case) a number of times compared with n"),
    Kind("capital_word_frequency", (_REL, _N), I.capital_word_frequency,
         "words in capital letters (one-letter words too) compared with n", conflicts=("lowercase", "uppercase")),
    Kind("response_language", (Arg("language", "text"),), I.response_language,
         "the answer is in the language with this ISO 639-1 code (langdetect)", split="eval",
         conflicts=("lowercase", "uppercase")),
    Kind("json_format", (), I.json_format, "the whole answer is JSON (a ``` or ```json fence is allowed)",
         conflicts=_LAYOUT),
    Kind("bullet_points", (_N1,), I.bullet_points, "exactly n markdown bullet points ('* ' or '- ' lines)",
         conflicts=("numbered_items",)),
    Kind("title", (), I.title, "a title wrapped in double angular brackets, <<like this>>"),
    Kind("section_count", (_N1, Arg("splitter", "text", default="SECTION")), I.section_count,
         "at least n sections, each marked by the splitter and a number ('SECTION 1'; case-sensitive)",
         conflicts=("lowercase", "no_digits")),
    Kind("placeholder_count", (_N,), I.placeholder_count, "at least n placeholders in square brackets, [like this]"),
    Kind("highlight_count", (_N,), I.highlight_count, "at least n markdown-highlighted sections, *like this*"),
    Kind("postscript", (Arg("marker", "text", default="P.S."),), I.postscript,
         "a postscript starting with the marker (e.g. P.S.; any case)"),
    Kind("two_responses", (), I.two_responses, "two different responses separated by six asterisks ******",
         conflicts=("quotation", "repeat_prompt", "line_count", "numbered_items", "bullet_points")),
    Kind("answer_from_options", (Arg("options", "words", min=2),), I.answer_from_options,
         "exactly one of the options appears (case-sensitive)", conflicts=("lowercase", "uppercase")),
    Kind("lowercase", (), I.lowercase, "English, and no capital letters anywhere", conflicts=("uppercase",)),
    Kind("uppercase", (), I.uppercase, "English, and no lowercase letters anywhere (all capitals)",
         conflicts=("section_count",)),
    Kind("no_commas", (), I.no_commas, "no commas (',' or the full-width '，')"),
    Kind("starts_with", (Arg("phrase", "text"),), I.starts_with, "the answer starts with the phrase (any case)",
         conflicts=("quotation", "repeat_prompt")),
    Kind("ends_with", (Arg("phrase", "text"),), I.ends_with,
         "the answer ends with the phrase and nothing after it (any case)",
         conflicts=("quotation", "end_with_question", "last_word", "postscript", "hashtag_count")),
    Kind("quotation", (), I.quotation, "the whole answer is wrapped in double quotation marks",
         conflicts=("title", "repeat_prompt", "numbered_items", "bullet_points", "section_count")),
    Kind("repeat_prompt", (Arg("prompt_to_repeat", "text", default=""),), I.repeat_prompt,
         "the answer first repeats the request word for word (any case; empty = the prompt itself)", split="eval"),
    # datagen's own kinds used for training
    Kind("end_with_question", (), N.end_with_question, "the answer ends with a question mark",
         conflicts=("last_word", "postscript")),
    Kind("numbered_items", (_N1,), N.numbered_items, "exactly n numbered lines ('1. ' or '1) ')",
         conflicts=("no_digits", "line_count")),
    Kind("no_digits", (), N.no_digits, "no digits anywhere (numbers written in words)",
         conflicts=("number_count",)),
    Kind("number_count", (_REL, _N), N.number_count, "numbers written in digits compared with n"),
    Kind("unique_word_count", (_REL, _N), N.unique_word_count, "distinct words (any case) compared with n"),
    Kind("max_word_length", (_N1,), N.max_word_length, "no word longer than n characters",
         conflicts=("include_keywords", "keyword_frequency", "json_format")),
    Kind("sentence_max_words", (_N1,), N.sentence_max_words, "no sentence longer than n words"),
    Kind("keyword_in_first_sentence", (Arg("keyword", "text"),), N.keyword_in_first_sentence,
         "the first sentence contains the keyword (any case)"),
    # datagen's own kinds held out of training
    Kind("line_count", (_N1,), N.line_count, "exactly n non-empty lines", "heldout",
         conflicts=("bullet_points", "section_count", "postscript", "title")),
    Kind("last_word", (Arg("word", "text"),), N.last_word, "the last word of the answer is the given word", "heldout",
         conflicts=("postscript", "hashtag_count")),
    Kind("question_count", (_REL, _N), N.question_count, "sentences ending with '?' compared with n", "heldout"),
    Kind("keyword_order", (Arg("keywords", "words", min=2),), N.keyword_order,
         "all keywords appear (any case), first appearances in the given order", "heldout"),
    Kind("avoid_letter", (Arg("letter", "letter"),), N.avoid_letter, "the letter never appears (any case)",
         "heldout", conflicts=_TEXTUAL),
    Kind("parenthetical_count", (_N1,), N.parenthetical_count, "at least n remarks in (parentheses)", "heldout"),
    Kind("word_repeat_limit", (_N1,), N.word_repeat_limit,
         "no word of four letters or more used more than n times (any case)", "heldout",
         conflicts=("keyword_frequency",)),
    Kind("hashtag_count", (_N1,), N.hashtag_count, "exactly n hashtags (#word)", "heldout",
         conflicts=("end_with_question",)),
]}


def conflicting(a: str, b: str) -> bool:
    """Whether two kinds contradict (either lists the other, or they are the same kind)."""
    return a == b or b in KINDS[a].conflicts or a in KINDS[b].conflicts


TRAIN_KINDS: tuple[str, ...] = tuple(k for k, v in KINDS.items() if v.split == "train")
HELDOUT_KINDS: tuple[str, ...] = tuple(k for k, v in KINDS.items() if v.split == "heldout")
