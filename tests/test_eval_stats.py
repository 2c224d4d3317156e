"""Eval statistics: percentile bootstrap intervals, means and pairwise win rates."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from datagen.evaluation.stats import bootstrap_ci, mean_ci, win_rate, win_rate_summary


def bernoulli(n, p=0.3, seed=7):
    return (np.random.default_rng(seed).random(n) < p).astype(float)


def test_interval_contains_point_estimate():
    values = bernoulli(200)
    lo, hi = bootstrap_ci(values)
    assert lo <= values.mean() <= hi
    assert lo < hi


def test_interval_narrows_with_more_data():
    small, large = bootstrap_ci(bernoulli(20)), bootstrap_ci(bernoulli(2000))
    assert (large[1] - large[0]) < (small[1] - small[0]) / 3
    assert large[0] < 0.3 < large[1]


def test_same_seed_same_interval_other_seed_differs():
    values = np.random.default_rng(0).normal(size=100)  # continuous: Bernoulli means sit on a grid
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)


def test_lower_level_is_narrower():
    values = bernoulli(300)
    lo50, hi50 = bootstrap_ci(values, level=0.5)
    lo95, hi95 = bootstrap_ci(values, level=0.95)
    assert lo95 <= lo50 < hi50 <= hi95
    assert hi50 - lo50 < hi95 - lo95


def test_edge_cases():
    lo, hi = bootstrap_ci([])
    assert math.isnan(lo) and math.isnan(hi)
    assert bootstrap_ci([0.42]) == (0.42, 0.42)
    assert bootstrap_ci([2.5] * 50) == (2.5, 2.5)  # no spread, zero-width interval
    with pytest.raises(ValueError):
        bootstrap_ci([1, 2], level=1.0)
    with pytest.raises(ValueError):
        bootstrap_ci([1, 2], stat="mode")


def test_chunking_matches_across_sizes_and_median():
    # many resamples of a large input go through several chunks; the result is still sane
    values = np.random.default_rng(0).normal(5.0, 1.0, 50_000)
    lo, hi = bootstrap_ci(values, resamples=200)
    assert lo < values.mean() < hi and hi - lo < 0.05
    lo, hi = bootstrap_ci([1, 2, 3, 4, 100], stat="median", resamples=500)
    assert 1 <= lo <= 3 <= hi <= 100


def test_mean_ci_is_json_ready():
    out = mean_ci([1, 0, 1, 1])
    assert out["mean"] == 0.75 and out["n"] == 4
    assert out["ci95"][0] <= 0.75 <= out["ci95"][1]
    assert all(type(x) is float for x in out["ci95"])
    json.dumps(out, allow_nan=False)
    empty = mean_ci([])
    assert empty == {"mean": None, "ci95": [None, None], "n": 0}
    json.dumps(empty, allow_nan=False)


def test_win_rate_ties_count_half():
    assert win_rate(["win", "tie", "loss", "win"]) == 0.625
    assert win_rate(["tie"] * 5) == 0.5
    assert win_rate(["win"] * 3) == 1.0
    assert win_rate(["loss", "loss"]) == 0.0
    assert math.isnan(win_rate([]))
    with pytest.raises(ValueError, match="draw"):
        win_rate(["win", "draw"])


def test_win_rate_summary_fields():
    outcomes = ["win"] * 6 + ["tie"] * 2 + ["loss"] * 2
    s = win_rate_summary(outcomes, seed=1)
    assert (s["wins"], s["ties"], s["losses"], s["n"]) == (6, 2, 2, 10)
    assert s["win_rate"] == 0.7
    lo, hi = s["ci95"]
    assert 0.0 <= lo <= 0.7 <= hi <= 1.0
    assert win_rate_summary(outcomes, seed=1) == s
    json.dumps(s, allow_nan=False)
    assert win_rate_summary(["win"] * 4)["ci95"] == [1.0, 1.0]
    assert win_rate_summary([])["win_rate"] is None
