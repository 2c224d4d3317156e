"""Statistics for `datagen eval`: percentile-bootstrap confidence intervals and pairwise win rates.

    mean_ci([1, 0, 1, 1]) -> {"mean": 0.75, "ci95": [0.25, 1.0], "n": 4}
    win_rate(["win", "tie", "loss", "win"]) -> 0.625

Eval sets are small (a few hundred prompts), so a point estimate alone says little: two students
0.03 apart are often indistinguishable. Every number the eval reports therefore carries an
interval, resampled over prompts (the unit that was sampled).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Sequence

import numpy as np

OUTCOMES = ("win", "tie", "loss")
# Per-prompt score of an outcome: a tie counts as half a win. AlpacaEval's win rate does this
# (its preference 1.5 = tie is worth half; Li et al. 2023, Dubois et al. 2024), and so does the
# MT-Bench code's "win_rate_adjusted" = (win + 0.5 tie) / n (FastChat; Zheng et al. 2023).
OUTCOME_SCORE = {"win": 1.0, "tie": 0.5, "loss": 0.0}

# Resampled values held in memory at once (float64: 4M values = 32 MB): for n = 100k prompts a
# chunk is 40 resamples; for n = 300 it is all 10,000 at once.
_CHUNK_VALUES = 4_000_000

StatFn = Callable[[np.ndarray], np.ndarray]  # (resamples, n) array -> (resamples,) statistics
_STATS: dict[str, StatFn] = {
    "mean": lambda a: a.mean(axis=1),
    "median": lambda a: np.median(a, axis=1),
}


def _stat_fn(stat: str | StatFn) -> StatFn:
    if callable(stat):
        return stat
    if stat not in _STATS:
        raise ValueError(f"unknown statistic {stat!r}; expected one of {sorted(_STATS)} or a callable")
    return _STATS[stat]


def _check(resamples: int, level: float) -> None:
    if int(resamples) < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples!r}")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def bootstrap_ci(values: Sequence[float], stat: str | StatFn = "mean", resamples: int = 10_000,
                 level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of `stat` over `values` (Efron & Tibshirani 1993, ch. 13):
    resample the n values with replacement `resamples` times, compute the statistic of each
    resample, and take its (1-level)/2 and (1+level)/2 quantiles.

        bootstrap_ci([0, 1, 1, 0, 1], level=0.9, seed=1) -> (0.2, 1.0)

    `stat` is "mean", "median" or a function of a (resamples, n) array returning one value per
    row. Empty input -> (nan, nan); one value v -> (v, v), since there is nothing to resample.
    Deterministic for a given seed (numpy default_rng).
    """
    _check(resamples, level)
    data = np.asarray(values, dtype=np.float64).ravel()
    n = data.size
    if n == 0:
        return (math.nan, math.nan)
    if n == 1:
        return (float(data[0]), float(data[0]))
    fn = _stat_fn(stat)
    rng = np.random.default_rng(seed)
    stats = np.empty(int(resamples), dtype=np.float64)
    chunk = max(1, _CHUNK_VALUES // n)
    # Chunked so memory stays bounded (chunk * n values) while each chunk is one vectorised draw.
    for start in range(0, int(resamples), chunk):
        rows = min(chunk, int(resamples) - start)
        idx = rng.integers(0, n, size=(rows, n))
        stats[start:start + rows] = fn(data[idx])
    alpha = (1.0 - float(level)) / 2.0
    lo, hi = np.quantile(stats, [alpha, 1.0 - alpha])
    return (float(lo), float(hi))


def _json_float(x: float) -> float | None:
    """nan (no data) -> None: JSON has no NaN, and strict parsers reject it."""
    return None if x is None or math.isnan(x) else float(x)


def mean_ci(values: Sequence[float], resamples: int = 10_000, seed: int = 0) -> dict:
    """Mean with its 95% percentile-bootstrap interval, ready for json.dumps.

        mean_ci([1.0, 0.0, 1.0]) -> {"mean": 0.667, "ci95": [0.0, 1.0], "n": 3}

    Empty input -> {"mean": None, "ci95": [None, None], "n": 0}.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    mean = float(data.mean()) if data.size else math.nan
    lo, hi = bootstrap_ci(data, "mean", resamples=resamples, level=0.95, seed=seed)
    return {"mean": _json_float(mean), "ci95": [_json_float(lo), _json_float(hi)], "n": int(data.size)}


def outcome_scores(outcomes: Sequence[str]) -> list[float]:
    """["win", "tie", "loss"] -> [1.0, 0.5, 0.0]; anything else raises ValueError."""
    try:
        return [OUTCOME_SCORE[o] for o in outcomes]
    except KeyError as exc:
        raise ValueError(f"unknown pairwise outcome {exc.args[0]!r}; expected one of {OUTCOMES}") from None


def win_rate(outcomes: Sequence[str]) -> float:
    """(wins + ties / 2) / n; nan for no outcomes.

        win_rate(["win", "tie", "loss", "win"]) -> 0.625
    """
    scores = outcome_scores(outcomes)
    return sum(scores) / len(scores) if scores else math.nan


def win_rate_summary(outcomes: Sequence[str], seed: int = 0, resamples: int = 10_000) -> dict:
    """Counts, win rate and its 95% bootstrap interval over prompts (per-prompt score 1 / 0.5 / 0).

        win_rate_summary(["win", "win", "tie", "loss"])
        -> {"wins": 2, "ties": 1, "losses": 1, "n": 4, "win_rate": 0.625, "ci95": [lo, hi]}
    """
    scores = outcome_scores(outcomes)
    counts = Counter(outcomes)
    lo, hi = bootstrap_ci(scores, "mean", resamples=resamples, level=0.95, seed=seed)
    return {"wins": counts["win"], "ties": counts["tie"], "losses": counts["loss"], "n": len(scores),
            "win_rate": _json_float(win_rate(outcomes)), "ci95": [_json_float(lo), _json_float(hi)]}
