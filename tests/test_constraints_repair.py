"""Rule repair of answers (datagen/constraints/repair.py): every repairable kind, alone and combined with
another, gives a text its checker passes; what a rule cannot do (too few sentences for n items) is None,
and a repair keeps the answer's words."""
import random

import pytest

from datagen.constraints import Constraint, check
from datagen.constraints.repair import REPAIRABLE, repair

TEXT = ("Lakes are calm, deep and cold in winter. Fish live in them all year. People swim there in summer! "
        "Is the water clean? Mostly it is, and rangers test it every week.")
CASES = [
    {"kind": "lowercase"}, {"kind": "uppercase"}, {"kind": "no_commas"}, {"kind": "quotation"},
    {"kind": "json_format"}, {"kind": "title"}, {"kind": "starts_with", "phrase": "Here is my answer"},
    {"kind": "ends_with", "phrase": "Any other questions?"}, {"kind": "end_with_question"},
    {"kind": "postscript", "marker": "P.P.S"}, {"kind": "bullet_points", "n": 3}, {"kind": "numbered_items", "n": 4},
    {"kind": "paragraph_count", "n": 2, "separator": "***"}, {"kind": "paragraph_count", "n": 3, "separator": "blank_line"},
    {"kind": "section_count", "n": 2, "splitter": "Part"}, {"kind": "highlight_count", "n": 2},
    {"kind": "word_count", "relation": "less_than", "n": 20}, {"kind": "sentence_count", "relation": "at_most", "n": 2},
]


def passes(text, cs):
    return all(check(Constraint.from_dict(c), text) for c in cs)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c["kind"])
def test_each_repairable_kind_alone_passes_after_repair(c):
    assert not passes(TEXT, [c]) or c["kind"] in ("sentence_count",)
    out = repair(TEXT, [c], random.Random(0))
    assert out is not None and passes(out, [c])
    assert c["kind"] in REPAIRABLE


@pytest.mark.parametrize("pair", [
    [{"kind": "lowercase"}, {"kind": "title"}], [{"kind": "uppercase"}, {"kind": "postscript", "marker": "P.S."}],
    [{"kind": "bullet_points", "n": 2}, {"kind": "no_commas"}], [{"kind": "numbered_items", "n": 3}, {"kind": "lowercase"}],
    [{"kind": "starts_with", "phrase": "Well"}, {"kind": "end_with_question"}],
    [{"kind": "no_commas"}, {"kind": "json_format"}],
], ids=lambda p: "+".join(c["kind"] for c in p))
def test_combined_repairs_pass_every_constraint(pair):
    out = repair(TEXT, pair, random.Random(1))
    assert out is not None and passes(out, pair)


def test_what_a_rule_cannot_do_is_none_and_kinds_without_a_rule_are_left_to_the_verifier():
    assert repair("One sentence only.", [{"kind": "bullet_points", "n": 3}], random.Random(0)) is None
    out = repair(TEXT, [{"kind": "include_keywords", "keywords": ["zebra"]}], random.Random(0))
    assert out == TEXT and not passes(out, [{"kind": "include_keywords", "keywords": ["zebra"]}])


def test_layout_repairs_keep_the_answers_words():
    out = repair(TEXT, [{"kind": "numbered_items", "n": 5}], random.Random(0))
    strip = lambda t: [w.strip("*.,!?\"") for w in t.split() if not w.rstrip(".").isdigit()]  # noqa: E731
    assert strip(out) == strip(TEXT)


def test_a_cut_leaves_room_for_the_suffix_added_after_it():
    cs = [{"kind": "word_count", "relation": "at_most", "n": 30}, {"kind": "postscript", "marker": "P.S."},
          {"kind": "starts_with", "phrase": "In short"}]
    out = repair(TEXT, cs, random.Random(0))
    assert out is not None and passes(out, cs)
