"""Paired statistics of two models on the same prompts: McNemar's exact test against hand-computed
values, and the paired bootstrap interval (contains the observed difference, narrower than the
unpaired one when the two models' results are correlated, as a student's and its base's are)."""
import random

import pytest

from datagen.constraints import KINDS, Constraint
from datagen.evaluation.compare import paired_lines
from datagen.evaluation.evalset import EvalPrompt
from datagen.evaluation.paired import compare_scored, mcnemar_exact, paired_binary, paired_diff, unpaired_diff
from datagen.evaluation.scoring import score_answers


@pytest.mark.parametrize("b, c, p", [
    (0, 0, 1.0),                  # no discordant pair: no evidence
    (1, 9, 2 * 11 / 1024),        # 2 * (C(10,0) + C(10,1)) / 2^10
    (9, 1, 2 * 11 / 1024),        # symmetric
    (0, 5, 2 / 32),               # 2 * 1 / 2^5
    (2, 8, 2 * 56 / 1024),        # 2 * (1 + 10 + 45) / 2^10
    (3, 3, 1.0),                  # 2 * 42/64 > 1 -> 1
    (0, 1, 1.0),                  # 2 * 1/2
])
def test_mcnemar_exact_against_hand_computed_values(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p, abs=1e-12)


def correlated(n=300, flips=16, seed=7):
    """A base that passes about half of the prompts, and a student that passes the same ones plus a few."""
    rng = random.Random(seed)
    base = [rng.random() < 0.5 for _ in range(n)]
    failing = [i for i, v in enumerate(base) if not v]
    gained = set(rng.sample(failing, flips))
    student = [v or i in gained for i, v in enumerate(base)]
    return student, base


def test_paired_interval_contains_the_difference_and_is_narrower_than_unpaired():
    student, base = correlated()
    x, y = [float(v) for v in student], [float(v) for v in base]
    paired = paired_diff(x, y, resamples=4000, seed=1)
    unpaired = unpaired_diff(x, y, resamples=4000, seed=1)
    assert paired["diff"] == pytest.approx(16 / 300) == pytest.approx(unpaired["diff"])
    lo, hi = paired["ci95"]
    assert lo <= paired["diff"] <= hi and lo > 0  # the gain is visible paired ...
    ulo, uhi = unpaired["ci95"]
    assert ulo < 0 < uhi  # ... and not unpaired, where each model's spread over prompts is counted twice
    assert (hi - lo) < 0.5 * (uhi - ulo)


def test_paired_binary_counts_discordant_prompts_and_is_seeded():
    student, base = correlated()
    r = paired_binary(student, base, resamples=2000, seed=3)
    assert (r["only_a"], r["only_b"], r["n"]) == (16, 0, 300)
    assert r["p_mcnemar"] == pytest.approx(mcnemar_exact(16, 0)) and r["p_mcnemar"] < 1e-4
    assert r == paired_binary(student, base, resamples=2000, seed=3)
    assert r["a"] - r["b"] == pytest.approx(r["diff"])


def test_weighted_difference_is_instruction_level():
    # two prompts: 3 instructions (a passes 3, b 1) and 1 instruction (a 0, b 1): (3 - 1 + 0 - 1) / 4
    assert paired_diff([3, 0], [1, 1], weights=[3, 1], resamples=500)["diff"] == pytest.approx(0.25)


def test_compare_scored_per_kind_split_and_length():
    heldout = next(k for k in KINDS if KINDS[k].split == "heldout")
    prompts = [EvalPrompt("1", "p", (Constraint("no_commas"),)),
               EvalPrompt("2", "p", (Constraint("no_commas"), Constraint("lowercase"))),
               EvalPrompt("3", "p", (Constraint("avoid_letter", {"letter": "z"}),))]
    assert KINDS["avoid_letter"].split == "heldout" and heldout
    a = ["no commas here.", "all small letters and no commas at all here.", "no such letter"]
    b = ["commas, here.", "All small letters, sadly.", "zebra"]
    sa, sb = score_answers(prompts, a), score_answers(prompts, b)
    r = compare_scored(sa, sb, a, b, {k: v.split for k, v in KINDS.items()}, resamples=500, seed=0)
    assert r["prompt_strict"]["only_a"] == 3 and r["prompt_strict"]["diff"] == pytest.approx(1.0)
    assert r["instruction_strict"]["instructions"] == 4 and r["instruction_strict"]["only_a"] == 4
    assert set(r["per_kind"]) == {"no_commas", "lowercase", "avoid_letter"}
    assert r["per_kind"]["no_commas"]["strict"]["instructions"] == 2
    assert r["per_split"]["heldout"]["prompts"] == 1 and r["per_split"]["train"]["prompts"] == 2
    assert r["answer_words"]["a"] == pytest.approx((3 + 9 + 3) / 3)
    text = "\n".join(paired_lines({"paired": [{"a": "s", "b": "base", **r}]}))
    assert "s - base (paired, 3 prompts): prompt strict +100.0" in text and "heldout kinds (1 prompts)" in text
