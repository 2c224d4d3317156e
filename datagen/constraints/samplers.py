"""Argument samplers: one function a kind, `fn(rng, values) -> args`, drawing from the lists in
prompts/constraints/values.yaml with the caller's seeded random.Random. The ranges keep constraints
satisfiable in a short answer (a few hundred tokens): at most 200 words, at most 8 sentences.

    SAMPLERS["bullet_points"](random.Random(0), values) -> {"n": 5}
"""
from __future__ import annotations

import random
from typing import Callable

Values = dict
Sampler = Callable[[random.Random, Values], dict]


def _counted(rng: random.Random, low: dict[str, range]) -> dict:
    """A relation and a count from that relation's range: _counted(rng, {"at_least": range(2, 4)})."""
    relation = rng.choice(sorted(low))
    return {"relation": relation, "n": rng.choice(low[relation])}


def _none(rng, values) -> dict:
    return {}


def _some(rng: random.Random, items: list, low: int, high: int) -> list:
    return rng.sample(items, rng.randint(low, min(high, len(items))))


def _nth_paragraph(rng, values) -> dict:
    n = rng.randint(2, 4)
    return {"n": n, "nth": rng.randint(1, n), "first_word": rng.choice(values["first_words"])}


SAMPLERS: dict[str, Sampler] = {
    "word_count": lambda rng, v: _counted(rng, {"at_most": range(50, 201, 25), "less_than": range(60, 201, 20),
                                                "at_least": range(30, 121, 15)}),
    "sentence_count": lambda rng, v: _counted(rng, {"at_most": range(3, 9), "less_than": range(4, 9),
                                                    "at_least": range(2, 6), "exactly": range(2, 6)}),
    "paragraph_count": lambda rng, v: {"n": rng.randint(2, 4), "separator": rng.choice(["***", "blank_line"])},
    "nth_paragraph_first_word": _nth_paragraph,
    "include_keywords": lambda rng, v: {"keywords": _some(rng, v["keywords"], 1, 2)},
    "forbidden_words": lambda rng, v: {"words": _some(rng, v["forbidden"], 1, 3)},
    "keyword_frequency": lambda rng, v: {"keyword": rng.choice(v["keywords"]),
                                         **_counted(rng, {"at_least": range(2, 4), "exactly": range(2, 4)})},
    "letter_frequency": lambda rng, v: {"letter": rng.choice(v["letters"]),
                                        **_counted(rng, {"at_least": range(5, 16), "less_than": range(20, 41, 5)})},
    "capital_word_frequency": lambda rng, v: _counted(rng, {"at_least": range(2, 6), "less_than": range(2, 5)}),
    "response_language": lambda rng, v: {"language": rng.choice(v["languages"])},
    "json_format": _none, "title": _none, "two_responses": _none, "lowercase": _none, "uppercase": _none,
    "no_commas": _none, "quotation": _none, "end_with_question": _none, "no_digits": _none,
    "bullet_points": lambda rng, v: {"n": rng.randint(2, 5)},
    "section_count": lambda rng, v: {"n": rng.randint(2, 4), "splitter": rng.choice(v["section_splitters"])},
    "placeholder_count": lambda rng, v: {"n": rng.randint(1, 3)},
    "highlight_count": lambda rng, v: {"n": rng.randint(1, 3)},
    "postscript": lambda rng, v: {"marker": rng.choice(v["postscript_markers"])},
    "answer_from_options": lambda rng, v: {"options": list(rng.choice(v["option_sets"]))},
    "starts_with": lambda rng, v: {"phrase": rng.choice(v["start_phrases"])},
    "ends_with": lambda rng, v: {"phrase": rng.choice(v["end_phrases"])},
    "numbered_items": lambda rng, v: {"n": rng.randint(3, 6)},
    "number_count": lambda rng, v: _counted(rng, {"at_least": range(2, 5), "exactly": range(1, 4)}),
    "unique_word_count": lambda rng, v: _counted(rng, {"at_least": range(30, 61, 10)}),
    "max_word_length": lambda rng, v: {"n": rng.randint(8, 11)},
    "sentence_max_words": lambda rng, v: {"n": rng.randint(12, 20)},
    "keyword_in_first_sentence": lambda rng, v: {"keyword": rng.choice(v["keywords"])},
    "line_count": lambda rng, v: {"n": rng.randint(3, 8)},
    "last_word": lambda rng, v: {"word": rng.choice(v["last_words"])},
    "question_count": lambda rng, v: _counted(rng, {"at_least": range(1, 4), "exactly": range(1, 3)}),
    "keyword_order": lambda rng, v: {"keywords": _some(rng, v["keywords"], 2, 3)},
    "avoid_letter": lambda rng, v: {"letter": rng.choice(v["rare_letters"])},
    "parenthetical_count": lambda rng, v: {"n": rng.randint(1, 3)},
    "word_repeat_limit": lambda rng, v: {"n": rng.randint(2, 3)},
    "hashtag_count": lambda rng, v: {"n": rng.randint(1, 4)},
}
