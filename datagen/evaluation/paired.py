"""Paired statistics: two models answered the same prompts, so the per-prompt difference decides which
is better (a paired bootstrap interval, and McNemar's exact test on the prompts where they disagree).
Pairing removes the prompt-to-prompt spread that two separate intervals both carry, so the paired
interval is the narrower, and the honest one, for "is the student better than its base?".

    mcnemar_exact(1, 9) -> 0.0215 (two-sided: 2 * P(X <= 1), X ~ Binomial(10, 1/2))
    paired_diff([1, 1, 0, 1], [0, 1, 0, 0]) -> {"diff": 0.5, "ci95": [0.0, 1.0], "n": 4}
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

_CHUNK_VALUES = 4_000_000  # resampled values held at once (as stats.bootstrap_ci)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: b = pairs where only the first passed, c = only the second. Under
    the null each discordant pair is a fair coin, so p = min(1, 2 * P(X <= min(b, c))), X ~ Bin(b + c, 1/2).
    No discordant pairs -> 1.0 (no evidence of a difference)."""
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _ratio_ci(num: np.ndarray, den: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    """Percentile-bootstrap 95% interval of sum(num) / sum(den), resampling the units (rows) together."""
    n = num.size
    if n == 0:
        return (math.nan, math.nan)
    if n == 1:
        v = float(num[0] / den[0]) if den[0] else math.nan
        return (v, v)
    rng = np.random.default_rng(seed)
    stats = np.empty(int(resamples))
    chunk = max(1, _CHUNK_VALUES // n)
    for start in range(0, int(resamples), chunk):
        rows = min(chunk, int(resamples) - start)
        idx = rng.integers(0, n, size=(rows, n))
        d = den[idx].sum(axis=1)
        stats[start:start + rows] = np.where(d > 0, num[idx].sum(axis=1) / np.maximum(d, 1), np.nan)
    lo, hi = np.nanquantile(stats, [0.025, 0.975])
    return (float(lo), float(hi))


def _f(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def paired_diff(a: Sequence[float], b: Sequence[float], resamples: int = 10_000, seed: int = 0,
                weights: Sequence[float] | None = None) -> dict:
    """Mean of a - b over paired units, with its paired-bootstrap 95% interval (units resampled together).
    With `weights` (e.g. a prompt's number of instructions, a and b then being its pass counts) the
    figure is sum(a - b) / sum(weights): instruction-level accuracy resampled by prompt."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    diff = float((x - y).sum() / total) if total else math.nan
    lo, hi = _ratio_ci(x - y, w, resamples, seed)
    return {"diff": _f(diff), "ci95": [_f(lo), _f(hi)], "n": int(x.size)}


def unpaired_diff(a: Sequence[float], b: Sequence[float], resamples: int = 10_000, seed: int = 0) -> dict:
    """The same difference with a and b resampled independently (as if different prompts): the interval
    two separate per-model intervals imply. Kept to show what pairing gains."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size < 2 or y.size < 2:
        return {"diff": _f(x.mean() - y.mean()) if x.size and y.size else None, "ci95": [None, None]}
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, x.size, size=(int(resamples), x.size))
    ib = rng.integers(0, y.size, size=(int(resamples), y.size))
    stats = x[ia].mean(axis=1) - y[ib].mean(axis=1)
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return {"diff": float(x.mean() - y.mean()), "ci95": [float(lo), float(hi)]}


def paired_binary(a: Sequence[bool], b: Sequence[bool], resamples: int = 10_000, seed: int = 0) -> dict:
    """Pass/fail of the same units by two models: accuracies, their difference with the paired interval,
    the discordant counts and McNemar's exact p.

        paired_binary([1, 1, 0], [0, 1, 0]) -> {"a": 0.667, "b": 0.333, "diff": 0.333, "ci95": [...],
                                                "only_a": 1, "only_b": 0, "p_mcnemar": 1.0, "n": 3}
    """
    x, y = [bool(v) for v in a], [bool(v) for v in b]
    only_a = sum(1 for p, q in zip(x, y) if p and not q)
    only_b = sum(1 for p, q in zip(x, y) if q and not p)
    n = len(x)
    return {"a": _f(sum(x) / n) if n else None, "b": _f(sum(y) / n) if n else None,
            **paired_diff([float(v) for v in x], [float(v) for v in y], resamples, seed),
            "only_a": only_a, "only_b": only_b, "p_mcnemar": mcnemar_exact(only_a, only_b)}


def _instruction_level(sa: list[dict], sb: list[dict], mode: str, resamples: int, seed: int, keep=None) -> dict:
    """Instruction-level accuracy difference, resampled by prompt (a prompt's checks stay together);
    McNemar over the individual instructions. `keep(check)` selects the checks (a kind, a split)."""
    keep = keep or (lambda c: True)
    pa, pb, cnt, only_a, only_b = [], [], [], 0, 0
    for x, y in zip(sa, sb):
        pairs = [(c, d) for c, d in zip(x["checks"], y["checks"]) if keep(c)]
        if not pairs:
            continue
        pa.append(sum(c[mode] for c, _ in pairs))
        pb.append(sum(d[mode] for _, d in pairs))
        cnt.append(len(pairs))
        only_a += sum(1 for c, d in pairs if c[mode] and not d[mode])
        only_b += sum(1 for c, d in pairs if d[mode] and not c[mode])
    total = sum(cnt)
    return {"a": _f(sum(pa) / total) if total else None, "b": _f(sum(pb) / total) if total else None,
            **paired_diff(pa, pb, resamples, seed, weights=cnt), "instructions": total,
            "only_a": only_a, "only_b": only_b, "p_mcnemar": mcnemar_exact(only_a, only_b)}


def _words(text: str) -> int:
    return len(text.split())


def compare_scored(sa: list[dict], sb: list[dict], answers_a: list[str], answers_b: list[str],
                   split_of: dict[str, str], resamples: int = 10_000, seed: int = 0) -> dict:
    """Model a against model b on the same prompts (scoring.score_answers rows): prompt-level strict and
    loose, instruction-level strict and loose, each per constraint kind and per split of the kinds
    (train / heldout / eval: `split_of` maps a kind to its split), and the mean answer length in words
    beside them, so a gain that comes with shorter or empty answers shows."""
    out = {level: paired_binary([s[level] for s in sa], [s[level] for s in sb], resamples, seed)
           for level in ("strict", "loose")}
    out = {"prompt_strict": out["strict"], "prompt_loose": out["loose"],
           "instruction_strict": _instruction_level(sa, sb, "strict", resamples, seed),
           "instruction_loose": _instruction_level(sa, sb, "loose", resamples, seed)}
    kinds = sorted({c["kind"] for s in sa for c in s["checks"]})
    out["per_kind"] = {k: {m: _instruction_level(sa, sb, m, resamples, seed, lambda c, k=k: c["kind"] == k)
                           for m in ("strict", "loose")} for k in kinds}
    per_split = {}
    for split in sorted({split_of.get(k, "other") for k in kinds}):
        def in_split(c, split=split):
            return split_of.get(c["kind"], "other") == split
        only = [i for i, s in enumerate(sa) if all(in_split(c) for c in s["checks"])]
        per_split[split] = {
            "prompts": len(only),
            "prompt_strict": paired_binary([sa[i]["strict"] for i in only], [sb[i]["strict"] for i in only],
                                           resamples, seed),
            "instruction_strict": _instruction_level(sa, sb, "strict", resamples, seed, in_split),
            "instruction_loose": _instruction_level(sa, sb, "loose", resamples, seed, in_split)}
    out["per_split"] = per_split
    la, lb = [_words(t) for t in answers_a], [_words(t) for t in answers_b]
    out["answer_words"] = {"a": _f(float(np.mean(la))) if la else None, "b": _f(float(np.mean(lb))) if lb else None,
                           **paired_diff(la, lb, resamples, seed)}
    return out
