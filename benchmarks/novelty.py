"""Self-Instruct novelty decisions (ROUGE-L < 0.7 against the pool, Wang et al. 2022 sec. 2.3):
NoveltyIndex against the all-pairs loop with rouge_score.

    .venv/bin/python benchmarks/novelty.py [--n 52000] [--prefix 2000] [--repeat 3]

The naive loop over 20,000 texts makes ~1e8 rouge_score calls (hours), so it is timed exactly on a
prefix (decisions compared one by one) and, at full size, its cost is extrapolated: the exact number
of comparisons it must make (every kept text is compared with the whole pool; a dropped one is
counted as ONE comparison, which favours the naive loop) times the per-pair cost of rouge_score
measured on random pool pairs. At full size every decision is then checked against the all-pairs
rule by benchmarks/novelty_allpairs.py (rouge_score's tokenizer and scorer, a proved overlap bound;
no code of filters/novelty.py). Times are CPU seconds of this process (time.process_time, steadier
than wall time on a shared machine; wall time is printed too), the min over --repeat runs.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from rouge_score import rouge_scorer  # noqa: E402

from filters.novelty import NoveltyIndex  # noqa: E402
from novelty_allpairs import check_all_pairs  # noqa: E402
from novelty_corpus import make_pool  # noqa: E402  (the tests' seeded instruction generator)

THRESHOLD = 0.7  # Self-Instruct sec. 2.3


def clock() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def since(t0: tuple[float, float]) -> tuple[float, float]:
    """(cpu, wall) seconds since t0."""
    c, w = clock()
    return c - t0[0], w - t0[1]


def index_run(texts: list[str]) -> tuple[tuple[float, float], list[bool], NoveltyIndex]:
    t0 = clock()
    idx = NoveltyIndex(THRESHOLD)
    decisions = []
    for t in texts:
        novel = idx.is_novel(t)
        decisions.append(novel)
        if novel:
            idx.add(t)
    return since(t0), decisions, idx


def add_if_novel_run(texts: list[str]) -> float:
    """CPU seconds for the one-call pool step (decision, plus the best match of a dropped text)."""
    t0 = clock()
    idx = NoveltyIndex(THRESHOLD)
    for t in texts:
        idx.add_if_novel(t)
    return since(t0)[0]


def naive_run(texts: list[str]) -> tuple[tuple[float, float], list[bool], int]:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    t0 = clock()
    pool: list[str] = []
    decisions, pairs = [], 0
    for t in texts:
        novel = True
        for p in pool:
            pairs += 1
            if scorer.score(p, t)["rougeL"].fmeasure >= THRESHOLD:
                novel = False
                break
        decisions.append(novel)
        if novel:
            pool.append(t)
    return since(t0), decisions, pairs


def naive_pair_cost(texts: list[str], rng: random.Random, n: int, repeat: int) -> float:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    sample = [(rng.choice(texts), rng.choice(texts)) for _ in range(n)]
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        for a, b in sample:
            scorer.score(a, b)
        best = min(best, since(t0)[0])
    return best / n


def naive_pairs_lower_bound(decisions: list[bool]) -> int:
    pairs, kept = 0, 0
    for novel in decisions:
        pairs += kept if novel else min(kept, 1)
        kept += novel
    return pairs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=52000)
    ap.add_argument("--prefix", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--near-dup", type=float, default=0.25, help="share of near-duplicates in the pool")
    args = ap.parse_args(argv)
    if not 1 <= args.prefix <= args.n or args.repeat < 1:
        print(f"novelty: need 1 <= --prefix <= --n and --repeat >= 1, got {args.prefix}, {args.n}, {args.repeat}",
              file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    texts = make_pool(rng, args.n, args.near_dup)
    ntok = sorted(len(t.split()) for t in texts)
    print(f"pool: {len(texts)} instructions, median {ntok[len(ntok) // 2]} words, "
          f"near-duplicate share {args.near_dup}, seed {args.seed}")

    runs = [index_run(texts) for _ in range(args.repeat)]
    t_index, w_index = min(r[0][0] for r in runs), min(r[0][1] for r in runs)
    decisions, idx = runs[0][1], runs[0][2]
    assert all(r[1] == decisions for r in runs)
    t_step = min(add_if_novel_run(texts) for _ in range(args.repeat))
    sampled = naive_pair_cost(texts, rng, 20000, args.repeat)

    head = texts[: args.prefix]
    t_index_head = min(index_run(head)[0][0] for _ in range(args.repeat))
    (t_naive_head, w_naive_head), naive_dec, pairs_head = naive_run(head)
    if index_run(head)[1] != naive_dec:
        print("MISMATCH between NoveltyIndex and the naive loop on the prefix")
        return 1
    in_loop = t_naive_head / max(pairs_head, 1)
    per_pair = min(sampled, in_loop)  # the cheaper of the two estimates: favours the naive loop
    pairs_full = naive_pairs_lower_bound(decisions)
    check = check_all_pairs(texts, decisions)
    if check["n_mismatches"]:
        print(f"MISMATCH with the all-pairs rule at {check['n_mismatches']} texts, first {check['mismatches']}")
        return 1
    t_naive_full = pairs_full * per_pair

    print(f"\nrouge_score per pair: {sampled * 1e6:.1f} us on 20,000 random pool pairs (min of {args.repeat}), "
          f"{in_loop * 1e6:.1f} us per call inside the naive loop at {args.prefix:,}; extrapolating with "
          f"{per_pair * 1e6:.1f} us")
    print(f"naive at {args.prefix:,}: {pairs_head:,} calls made, the counting model says >= "
          f"{naive_pairs_lower_bound(naive_dec):,}; {t_naive_head:.1f} s CPU, {w_naive_head:.1f} s wall")
    print(f"index at {args.n:,}: kept {sum(decisions):,}, dropped {args.n - sum(decisions):,}; exact LCS "
          f"computed {idx.stats['lcs']:,} times; {t_index:.2f} s CPU, {w_index:.2f} s wall (min of "
          f"{args.repeat}), {t_index / args.n * 1e6:.0f} us per decision")
    print(f"add_if_novel at {args.n:,} (decision + exact best match of each dropped text): {t_step:.2f} s CPU")
    print(f"all-pairs check at {args.n:,}: all {args.n:,} decisions equal; {check['pairs']:,} (text, earlier kept "
          f"text) pairs bounded, {check['candidates']:,} with bound >= {THRESHOLD}, {check['rouge_calls']:,} "
          f"rouge_score calls; {check['cpu_s']:.1f} s CPU, {check['wall_s']:.1f} s wall\n")
    print("| texts | naive rouge_score loop (CPU) | NoveltyIndex (CPU) | speed-up | decisions |")
    print("|---:|---:|---:|---:|---|")
    print(f"| {args.prefix:,} | {t_naive_head:.1f} s (measured) | {t_index_head:.3f} s | "
          f"{t_naive_head / t_index_head:,.0f}x | identical ({sum(naive_dec):,} kept) |")
    print(f"| {args.n:,} | >= {t_naive_full:,.0f} s (extrapolated, >= {pairs_full:,} calls) | {t_index:.2f} s | "
          f">= {t_naive_full / t_index:,.0f}x | identical to the all-pairs check ({sum(decisions):,} kept) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
