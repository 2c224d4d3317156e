"""Kappa and MT-Bench agreement of `datagen review` against values computed by hand on small fixtures,
with and without ties (the arithmetic is in each test's comment)."""
from __future__ import annotations

import pytest

from datagen.review.agreement import agreement_report, annotator_kappa, cohen_kappa, fleiss_kappa, mtbench_agreement

T = "tie"


def test_cohen_kappa_without_ties():
    # 8 of 10 agree: p_o = 0.8; both say A 6 times, B 4 times: p_e = .6*.6 + .4*.4 = .52
    # kappa = (.8 - .52) / (1 - .52) = .28 / .48 = 0.58333
    a = list("AAAABBBAAB")
    b = list("AABABBAAAB")
    assert cohen_kappa(a, b) == pytest.approx(0.28 / 0.48)


def test_cohen_kappa_with_ties():
    # agree on items 1, 2, 4, 5: p_o = 4/6; a: A2 B2 T2, b: A3 B1 T2: p_e = (2*3 + 2*1 + 2*2) / 36 = 1/3
    # kappa = (2/3 - 1/3) / (2/3) = 0.5
    a = ["A", "B", T, "A", T, "B"]
    b = ["A", "B", "A", "A", T, T]
    assert cohen_kappa(a, b) == pytest.approx(0.5)


def test_kappa_is_none_when_undefined_and_negative_when_worse_than_chance():
    assert cohen_kappa(["A"] * 4, ["A"] * 4) is None  # p_e = 1: 0/0
    assert cohen_kappa([], []) is None
    # always opposite: p_o = 0, p_e = .5 -> -1
    assert cohen_kappa(list("ABAB"), list("BABA")) == pytest.approx(-1.0)


def test_fleiss_kappa_three_raters_with_a_tie_category():
    # P_i: AAA 1, AAB (4+1-3)/6 = 1/3, BBB 1, ABT 0 -> mean 7/12
    # totals A 6, B 5, T 1 of 12: P_e = (36 + 25 + 1) / 144 = 62/144; kappa = (84 - 62) / (144 - 62) = 22/82
    ratings = [["A", "A", "A"], ["A", "A", "B"], ["B", "B", "B"], ["A", "B", T]]
    assert fleiss_kappa(ratings) == pytest.approx(22 / 82)


def test_fleiss_kappa_equals_the_textbook_example():
    # Fleiss (1971) as in Wikipedia's worked example: 10 subjects, 14 raters, 5 categories -> 0.210
    counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
              [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    ratings = [[c for c, n in enumerate(row) for _ in range(n)] for row in counts]
    assert fleiss_kappa(ratings) == pytest.approx(0.210, abs=5e-4)


def test_mtbench_agreement_with_and_without_ties():
    human = {i: {"ann": x} for i, x in enumerate(["A", "B", T, "A", T, "B"])}
    judge = {i: {"judge": x} for i, x in enumerate(["A", "B", "A", "A", T, T])}
    # ties counted: 4 of 6 agree; ties excluded: only items 0, 1, 3 have no tie, all agree -> 3/3
    assert mtbench_agreement(human, judge, ties=True) == {"agreement": pytest.approx(4 / 6), "n": 6}
    assert mtbench_agreement(human, judge, ties=False) == {"agreement": 1.0, "n": 3}


def test_human_human_agreement_counts_each_two_annotators_once():
    votes = {0: {"x": "A", "y": "A", "z": "A"}, 1: {"x": "A", "y": "A", "z": "B"}, 2: {"x": "B", "y": "B", "z": "B"},
             3: {"x": "A", "y": "B", "z": T}}
    # pairs per item: 3; agreeing 3 + 1 + 3 + 0 = 7 of 12. Without ties item 3 keeps only (A, B): 7 of 10
    assert mtbench_agreement(votes, votes, ties=True) == {"agreement": pytest.approx(7 / 12), "n": 12}
    assert mtbench_agreement(votes, votes, ties=False) == {"agreement": pytest.approx(0.7), "n": 10}
    k = annotator_kappa(votes)
    assert k["kind"] == "fleiss" and k["kappa"] == pytest.approx(22 / 82) and k["items"] == 4


def test_two_annotators_give_cohen_on_the_items_both_labelled():
    a, b = list("AAAABBBAAB"), list("AABABBAAAB")
    votes = {i: {"ann": x, "bob": y} for i, (x, y) in enumerate(zip(a, b))}
    votes[99] = {"ann": "A"}  # only one annotator: not in the kappa
    k = annotator_kappa(votes)
    assert k == {"kind": "cohen", "kappa": pytest.approx(0.28 / 0.48), "items": 10, "annotators": ["ann", "bob"]}
    rep = agreement_report(votes, {i: {"judge": "A"} for i in votes})
    assert rep["human_judge"]["ties"]["n"] == 21 and rep["human_human"]["ties"]["agreement"] == pytest.approx(0.8)
    assert annotator_kappa({0: {"ann": "A"}})["kind"] is None
