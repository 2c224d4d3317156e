"""Every decision of a Self-Instruct pool run checked against the all-pairs rule, with no code of
filters/novelty.py: rouge_score's tokenizer and scorer, and a bound proved below.

The rule (Wang et al. 2022 sec. 2.3): text i is kept iff ROUGE-L(p, t_i) < 0.7 for every kept p before
it. Given the decisions d_0..d_n-1 under test, the check recomputes each d_i against the pool the
decisions themselves define; when all n agree, the run IS the all-pairs run (by induction on i: equal
decisions before i give equal pools at i).

Proof of the pruning: LCS(a, b) <= ov(a, b) = sum over tokens of min(count in a, count in b), and
ROUGE-L F = 2*P*R/(P+R) = 2*LCS/(|a|+|b|), so F <= 2*ov/(|a|+|b|). ov of every (text, earlier kept text)
pair is one sparse product (scipy): texts x bag keys, a key being (token, k-th occurrence), times its
transpose. A pair whose bound is below 0.7 - 1e-9 (the slack covers float rounding of F) cannot reach
0.7; every other pair is scored by rouge_score itself, a dropped text until its first hit >= 0.7.

    check_all_pairs(texts, decisions) -> {"mismatches": [], "pairs": 7.1e8, "rouge_calls": ..., "cpu_s": ...}
"""
from __future__ import annotations

import time

import numpy as np
from rouge_score import rouge_scorer
from scipy import sparse

THRESHOLD = 0.7
SLACK = 1e-9
BLOCK = 512  # rows of the overlap product at a time: BLOCK x pool entries in memory


def bag_matrix(token_lists: list[list[str]]) -> sparse.csr_matrix:
    """Rows = texts, columns = bag keys (token, occurrence): row i . row j = ov(i, j)."""
    key_id: dict[tuple[str, int], int] = {}
    indptr, indices = [0], []
    for tokens in token_lists:
        seen: dict[str, int] = {}
        for t in tokens:
            seen[t] = seen.get(t, 0) + 1
            indices.append(key_id.setdefault((t, seen[t]), len(key_id)))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.int32)
    return sparse.csr_matrix((data, np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
                             shape=(len(token_lists), max(1, len(key_id))))


def candidates(bag: sparse.csr_matrix, lens: np.ndarray, kept: np.ndarray, a: int, b: int):
    """(row, pool index, bound) of every pair (i in [a, b), earlier kept j) with bound >= 0.7 - slack,
    and the number of pairs (i, earlier kept j) looked at."""
    pool = kept[kept < b]
    if not len(pool):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 0
    ov = (bag[a:b] @ bag[pool].T).tocoo()
    rows, js = ov.row.astype(np.int64) + a, pool[ov.col]
    bound = 2.0 * ov.data / np.maximum(lens[rows] + lens[js], 1)
    keep = (js < rows) & (bound >= THRESHOLD - SLACK)
    looked = int(np.searchsorted(pool, np.arange(a, b)).sum())  # kept j < i, for each i
    return rows[keep], js[keep], bound[keep], looked


def check_all_pairs(texts: list[str], decisions: list[bool]) -> dict:
    """Recompute every decision; returns mismatches (first 10 indices), pairs covered, rouge_score calls,
    candidate pairs (bound >= 0.7) and the CPU/wall seconds the check took."""
    c0, w0 = time.process_time(), time.perf_counter()
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    tokens = [scorer._tokenizer.tokenize(t) for t in texts]
    lens = np.array([len(t) for t in tokens], dtype=np.int64)
    bag = bag_matrix(tokens)
    kept = np.flatnonzero(np.array(decisions, dtype=bool)).astype(np.int64)
    mismatches, pairs, calls, n_cand = [], 0, 0, 0
    for a in range(0, len(texts), BLOCK):
        b = min(len(texts), a + BLOCK)
        rows, js, bound, looked = candidates(bag, lens, kept, a, b)
        pairs += looked
        n_cand += len(rows)
        order = np.lexsort((js, -bound, rows))  # per row, the highest bound first
        rows, js = rows[order], js[order]
        starts = np.searchsorted(rows, np.arange(a, b + 1))
        for i in range(a, b):
            novel = True
            for j in js[starts[i - a]:starts[i - a + 1]].tolist():
                calls += 1
                if scorer.score(texts[j], texts[i])["rougeL"].fmeasure >= THRESHOLD:
                    novel = False
                    break
            if novel != bool(decisions[i]):
                mismatches.append(i)
    return {"mismatches": mismatches[:10], "n_mismatches": len(mismatches), "pairs": pairs,
            "candidates": n_cand, "rouge_calls": calls, "cpu_s": time.process_time() - c0,
            "wall_s": time.perf_counter() - w0}
