"""benchmarks/novelty_allpairs.py, the check behind the 52,000-text novelty figure: it accepts the
decisions of rouge_score's own all-pairs loop and names any decision that differs from them."""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from novelty_allpairs import bag_matrix, check_all_pairs  # noqa: E402
from novelty_corpus import EDGE, make_pool
from test_novelty import SCORER  # noqa: E402


def rouge_score_loop(texts: list[str]) -> list[bool]:
    pool, out = [], []
    for t in texts:
        novel = all(SCORER.score(p, t)["rougeL"].fmeasure < 0.7 for p in pool)
        out.append(novel)
        if novel:
            pool.append(t)
    return out


def test_bag_matrix_products_are_the_bag_overlaps():
    bag = bag_matrix([["a", "b", "a"], ["a", "a", "a"], ["c"], []])
    assert (bag @ bag.T).toarray().tolist() == [[3, 2, 0, 0], [2, 3, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]


def test_check_accepts_the_rouge_score_loop_and_names_every_wrong_decision():
    texts = make_pool(random.Random(5), 400, 0.3) + EDGE + make_pool(random.Random(6), 60, 0.9)
    want = rouge_score_loop(texts)
    assert 0 < sum(want) < len(want)
    r = check_all_pairs(texts, want)
    assert r["n_mismatches"] == 0 and r["pairs"] == sum(sum(want[:i]) for i in range(len(texts)))
    assert 0 < r["rouge_calls"] <= r["candidates"] < r["pairs"] / 20  # the bound spares most pairs
    for i in (0, 1, 57, 333, len(texts) - 1):
        flipped = list(want)
        flipped[i] = not flipped[i]
        assert check_all_pairs(texts, flipped)["mismatches"][0] == i
