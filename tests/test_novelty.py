"""filters.novelty: rouge_l equals rouge_score exactly; NoveltyIndex decides like the all-pairs loop."""
from __future__ import annotations

import random

import pytest
from rouge_score import rouge_scorer, scoring, tokenizers

from datagen.record import Record
from datagen.filtering import build_filters
from filters.novelty import Novelty, NoveltyIndex, lcs_length, rouge_l, tokenize
from novelty_corpus import EDGE, make_instruction, make_pool, mutate, pairs

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
RS_TOKENIZE = tokenizers.DefaultTokenizer(use_stemmer=False).tokenize



def test_tokenize_and_rouge_l_equal_rouge_score():
    ps = pairs(random.Random(1))
    assert len(ps) >= 5000
    near = 0
    for a, b in ps:
        assert tokenize(a) == RS_TOKENIZE(a)
        want = SCORER.score(a, b)["rougeL"].fmeasure
        got = rouge_l(a, b)
        assert abs(got - want) <= 1e-9, (a, b, got, want)
        near += 0.6 <= want <= 0.8
    assert near > 300  # many pairs sit near the Self-Instruct threshold


def test_edge_cases():
    assert rouge_l("", "") == 0.0 and rouge_l("!!!", "a") == 0.0 and rouge_l("東京", "東京") == 0.0
    assert rouge_l("Hello", "hello!") == 1.0
    assert tokenize("Café: 2 résumés!") == ["caf", "2", "r", "sum", "s"]


def test_lcs_length_matches_dp_table():
    rng = random.Random(2)
    for _ in range(400):
        alphabet = "abcdefgh"[: rng.randint(1, 8)]
        a = [rng.choice(alphabet) for _ in range(rng.randint(0, 130))]
        b = [rng.choice(alphabet) for _ in range(rng.randint(0, 130))]
        want = rouge_scorer._lcs_table(a, b)[-1][-1] if a and b else 0
        assert lcs_length(a, b) == want


def naive_decisions(texts: list[str], threshold: float, score) -> list[bool]:
    """Self-Instruct's loop: novel when every pool text scores below the threshold; novel ones join."""
    pool, out = [], []
    for t in texts:
        novel = all(score(p, t) < threshold for p in pool)
        out.append(novel)
        if novel:
            pool.append(t)
    return out


def rs_score(p, t):
    return SCORER.score(p, t)["rougeL"].fmeasure


def fast_naive_score(texts):
    """All-pairs reference on rouge_score's tokens and F formula; the LCS length is lcs_length,
    proven equal to rouge_score's DP by the two tests above (rouge_score alone would take minutes)."""
    toks = {t: RS_TOKENIZE(t) for t in texts}

    def score(p, t):
        a, b = toks[p], toks[t]
        if not a or not b:
            return 0.0
        n = lcs_length(a, b)
        return scoring.fmeasure(n / len(b), n / len(a))
    return score


def index_decisions(texts, threshold):
    idx = NoveltyIndex(threshold)
    out = []
    for t in texts:
        novel = idx.is_novel(t)
        out.append(novel)
        if novel:
            idx.add(t)
    return out, idx


@pytest.fixture(scope="module")
def pool():
    texts = make_pool(random.Random(3), 2000)
    return texts + EDGE


def test_decisions_equal_rouge_score_loop(pool):
    head = pool[:400]
    want = naive_decisions(head, 0.7, rs_score)
    assert index_decisions(head, 0.7)[0] == want
    assert 0 < sum(want) < len(want)


@pytest.mark.parametrize("threshold,size", [(0.7, 2020), (0.5, 2020), (0.9, 800), (1.0, 600)])
def test_decisions_equal_all_pairs_loop(pool, threshold, size):
    pool = pool[:size] if size < len(pool) else pool
    want = naive_decisions(pool, threshold, fast_naive_score(pool))
    got, idx = index_decisions(pool, threshold)
    assert got == want
    assert 0 < sum(want) < len(want)
    if threshold == 0.7:
        n_pairs = sum(i for i in range(sum(want)))  # lower bound on the naive loop's comparisons
        assert idx.stats["lcs"] < 0.05 * n_pairs  # the bounds skip almost every pair
        added = NoveltyIndex(threshold)
        assert [added.add_if_novel(t)[0] for t in pool] == want


def test_query_max_equals_naive_max(pool):
    rng = random.Random(4)
    idx = NoveltyIndex(0.7)
    kept = [t for t, novel in zip(pool, index_decisions(pool, 0.7)[0]) if novel]
    for t in kept:
        idx.add(t)
    queries = [mutate(rng.choice(kept), rng) for _ in range(250)] + [make_instruction(rng) for _ in range(50)]
    score = fast_naive_score(kept + queries)
    for k, q in enumerate(queries):
        scores = [score(p, q) for p in kept]
        if k < 15:  # a few straight against rouge_score itself
            assert all(abs(s - rs_score(p, q)) <= 1e-9 for s, p in zip(scores, kept))
        best = max(scores)
        got, i = idx.query(q)
        assert got == best
        assert i == (scores.index(best) if best > 0 else -1)
        for t in (0.7, 0.4):
            above, j = idx.query_above(q, t)
            assert (j >= 0) == (best >= t) and (j < 0 or scores[j] == above >= t)


def test_empty_index_and_bad_threshold():
    idx = NoveltyIndex()
    assert idx.query("anything") == (0.0, -1) and idx.is_novel("anything")
    idx.add("!!!")
    assert idx.query("!!!") == (0.0, -1) and idx.is_novel("!!!")
    with pytest.raises(ValueError):
        NoveltyIndex(0)


def test_novelty_filter_drops_later_near_duplicates():
    texts = ["Write a short poem about the sea.", "List three prime numbers.", "Write a short poem about the sea!",
             "Write a limerick about mountains.", "Write a short poem about the sea at night."]
    recs = [Record.make(t) for t in texts]  # rouge_score F vs recs[0]: -, 0, 1.0, 0.5, 0.875
    (name, fn), = build_filters([{"name": "novelty", "threshold": 0.7}])
    assert name == "novelty"
    assert fn(recs) == [None, None, ("not_novel", recs[0].id), None, ("not_novel", recs[0].id)]
    assert Novelty(0.9)(recs) == [None, None, ("not_novel", recs[0].id), None, None]


def test_novelty_detail_is_the_most_similar_record():
    # F(r1, r0) = 0.588 < 0.6: both kept. r2 vs r0: bag overlap 8/8 (bound 1.0) but F 0.625;
    # r2 vs r1: bound 0.706 = F. The first match tried is r0; the detail must still be r1.
    recs = [Record.make(t) for t in ["a b c d h g f e", "a b c d e f x y z", "a b c d e f g h"]]
    assert Novelty(0.6)(recs) == [None, None, ("not_novel", recs[1].id)]
    idx = NoveltyIndex(0.6)
    for r in recs[:2]:
        idx.add(r.instruction)
    assert idx.query_above(recs[2].instruction) == (0.625, 0)
    assert idx.query(recs[2].instruction) == (rouge_l(recs[1].instruction, recs[2].instruction), 1)


def test_novelty_filter_against_seeds():
    from datagen.seeds import load_seeds
    seed = load_seeds(None)[0]
    rec = Record.make(seed.instruction + "!")
    assert Novelty(against_seeds="true")([rec]) == [("not_novel", seed.id)]
    assert Novelty()([rec]) == [None]
    with pytest.raises(ValueError):
        Novelty(field="nope")
