"""MinHash dedup benchmark, one core. Two modes:

  quality: a corpus (default 100,000 records) with planted near-duplicate pairs at Jaccard levels
           0.5..0.95 of their word 5-gram sets, each pair's Jaccard MEASURED exactly; reports
           precision and recall of filters.minhash against exact Jaccard >= threshold, the
           detection rate per level, records/s, and the memory of the index (tracemalloc).
  memory:  streams (default 1,000,000) short records from a generator through exact + MinHash
           dedup keeping only the indexes and per-record verdicts; reports peak RSS and time.

    .venv/bin/python benchmarks/dedup.py quality --n 100000
    .venv/bin/python benchmarks/dedup.py memory --n 1000000
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one core

from measure import peak_rss_mb  # noqa: E402
import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import string  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections import deque  # noqa: E402

import numpy as np  # noqa: E402

from filters.dedup import ExactIndex  # noqa: E402
from filters.minhash import NearDupIndex  # noqa: E402

LEVELS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
K = 5


def vocabulary(rng: random.Random, n: int = 30000) -> tuple[list[str], list[float]]:
    """Made-up lower-case words with Zipf weights (rank^-1), like word frequencies in text."""
    words = sorted({"".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 10)))
                    for _ in range(n)})
    rng.shuffle(words)
    weights = [1.0 / (r + 1) for r in range(len(words))]
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return words, cum


def shingles(ws: list[str]) -> set:
    return {tuple(ws[i:i + K]) for i in range(max(1, len(ws) - K + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def variant(rng, base: list[str], target: float, vocab, cum) -> tuple[list[str], float]:
    """Word substitutions until J(base, var) <= target: at random positions while one more stays
    above the target, then at positions from the start one by one (each changes one more shingle),
    so the measured J lands just under the target."""
    var, sb = list(base), shingles(base)
    j = 1.0
    while True:
        trial = list(var)
        trial[rng.randrange(len(trial))] = rng.choices(vocab, cum_weights=cum)[0] + "x"
        jt = jaccard(sb, shingles(trial))
        if jt <= target:
            break
        var, j = trial, jt
    pos = 0
    while j > target and pos < len(var):
        var[pos] = rng.choices(vocab, cum_weights=cum)[0] + "y"
        pos += 1
        j = jaccard(sb, shingles(var))
    return var, j


def build_corpus(n: int, seed: int):
    rng = random.Random(seed)
    vocab, cum = vocabulary(rng)
    n_pairs = int(n * 0.3) // len(LEVELS) * len(LEVELS)  # 60% of the records are in planted pairs
    docs: list[list[str]] = []
    pairs = []  # (i, j, level, measured J)
    for p in range(n_pairs):
        base = rng.choices(vocab, cum_weights=cum, k=rng.randint(40, 120))
        var, j = variant(rng, base, LEVELS[p % len(LEVELS)], vocab, cum)
        pairs.append((len(docs), len(docs) + 1, LEVELS[p % len(LEVELS)], j))
        docs += [base, var]
    while len(docs) < n:
        docs.append(rng.choices(vocab, cum_weights=cum, k=rng.randint(40, 120)))
    order = list(range(len(docs)))
    rng.shuffle(order)
    where = {old: new for new, old in enumerate(order)}
    texts = [" ".join(docs[i]) for i in order]
    pairs = [(min(where[a], where[b]), max(where[a], where[b]), lvl, j) for a, b, lvl, j in pairs]
    return texts, pairs


def index_options(args) -> dict:
    opts = dict(threshold=args.threshold, num_perm=args.num_perm, verify=args.verify)
    if args.bands:
        opts.update(bands=args.bands, rows=args.rows)
    return opts


def dedup(texts, batch, **opts) -> tuple[np.ndarray, NearDupIndex]:
    idx = NearDupIndex(**opts)
    return np.concatenate([idx.add(texts[i:i + batch]) for i in range(0, len(texts), batch)]), idx


def quality(args) -> dict:
    t0 = time.perf_counter()
    texts, pairs = build_corpus(args.n, args.seed)
    build_s = time.perf_counter() - t0
    opts = index_options(args)
    c0, w0 = time.process_time(), time.perf_counter()
    got, idx = dedup(texts, args.batch, **opts)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    thr = args.threshold
    dropped = np.flatnonzero(got >= 0)
    correct = sum(jaccard(shingles(texts[i].split()), shingles(texts[got[i]].split())) >= thr for i in dropped)
    true = [(a, b) for a, b, _, j in pairs if j >= thr]
    found = sum(got[b] == a for a, b in true)
    near = [(a, b) for a, b, _, j in pairs if thr <= j < thr + 0.05]  # just above the threshold
    found_near = sum(got[b] == a for a, b in near)
    levels = []
    for lvl in LEVELS:
        sel = [(a, b, j) for a, b, lv, j in pairs if lv == lvl]
        js = [j for _, _, j in sel]
        levels.append({"level": lvl, "pairs": len(sel), "J_min": round(min(js), 3), "J_mean": round(sum(js) / len(js), 3),
                       "J_max": round(max(js), 3), "flagged": round(sum(got[b] == a for a, b, _ in sel) / len(sel), 4)})
    tracemalloc.start()
    _, idx2 = dedup(texts, args.batch, **opts)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del idx2
    out = {"mode": "quality", "records": len(texts), "planted_pairs": len(pairs), "true_pairs": len(true),
           "threshold": thr, "num_perm": args.num_perm, "bands": idx.bands, "rows": idx.rows,
           "dropped": int(dropped.size), "precision": round(correct / max(1, dropped.size), 4),
           "recall": round(found / max(1, len(true)), 4),
           "pairs_just_above": len(near), "recall_just_above": round(found_near / max(1, len(near)), 4),
           "verify": args.verify, "levels": levels,
           "cpu_s": round(cpu, 1), "wall_s": round(wall, 1), "records_per_cpu_s": round(len(texts) / cpu),
           "index_mb": round(idx.nbytes() / 2**20, 1), "index_held_mb": round(held / 2**20, 1),
           "tracemalloc_peak_mb": round(peak / 2**20, 1),
           "corpus_build_s": round(build_s, 1)}
    if args.compare:  # datasketch's own MinHashLSH (dict of sets) on the same records
        sub = texts[: args.compare]
        for backend in ("compact", "datasketch"):
            tracemalloc.start()
            c0 = time.process_time()
            g, kept_index = dedup(sub, args.batch, backend=backend, **opts)
            cpu_b = time.process_time() - c0
            held, peak = tracemalloc.get_traced_memory()  # held: what the index keeps
            tracemalloc.stop()
            out[f"compare_{backend}"] = {"records": len(sub), "dropped": int((g >= 0).sum()),
                                         "records_per_cpu_s": round(len(sub) / cpu_b),
                                         "index_held_mb": round(held / 2**20, 1),
                                         "tracemalloc_peak_mb": round(peak / 2**20, 1)}
            del kept_index
    return out


def stream(n: int, seed: int, vocab=None, pool=()):
    """Short records (8-40 words, like instructions); 5% exact copies with other case and spacing,
    5% near copies (one word appended) of a recent record. vocab: (words, cum) shared by several
    streams (default: made from the seed); pool: texts the recent ones start with."""
    rng = random.Random(seed)
    vocab, cum = vocab or vocabulary(rng, 20000)
    recent: deque = deque(pool, maxlen=2000)
    for i in range(n):
        u = rng.random()
        if recent and u < 0.05:
            yield "  " + rng.choice(recent).upper() + " ", 1
        elif recent and u < 0.10:
            yield rng.choice(recent) + " " + rng.choice(vocab), 2
        else:
            t = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(8, 40)))
            recent.append(t)
            yield t, 0


@functools.lru_cache(maxsize=2)
def shared(seed: int):
    vocab = vocabulary(random.Random(seed), 20000)
    return vocab, [t for t, _ in stream(2000, seed + 1, vocab)]


class GenBlock:
    """Block b of the benchmark's records, made where it is called (a worker)."""

    def __init__(self, block: int, size: int, seed: int) -> None:
        self.block, self.size, self.seed = block, size, seed

    def __call__(self):
        from datagen.record import Record

        vocab, pool = shared(self.seed)
        texts = stream(self.size, self.seed * 1_000_003 + 7919 * (self.block + 1), vocab, pool)
        return [Record.make(t) for t, _ in texts]


def memory(args) -> dict:
    exact, near = ExactIndex(), NearDupIndex(**index_options(args))
    verdict = np.zeros(args.n, np.int8)       # 0 kept, 1 exact duplicate, 2 near duplicate
    planted = np.zeros(args.n, np.int8)
    c0, w0 = time.process_time(), time.perf_counter()
    gen, pos = stream(args.n, args.seed), 0
    while pos < args.n:
        chunk = [next(gen) for _ in range(min(args.batch, args.n - pos))]
        texts = [t for t, _ in chunk]
        planted[pos:pos + len(chunk)] = [p for _, p in chunk]
        ex = exact.add(texts)
        rest = np.flatnonzero(ex < 0)
        nd = near.add([texts[i] for i in rest])
        verdict[pos + np.flatnonzero(ex >= 0)] = 1
        verdict[pos + rest[nd >= 0]] = 2
        pos += len(chunk)
        if pos // 1_000_000 != (pos - len(chunk)) // 1_000_000:  # a line per million, to stderr
            print(json.dumps({"records": pos, "cpu_s": round(time.process_time() - c0, 1),
                              "wall_s": round(time.perf_counter() - w0, 1),
                              "near_index_mb": round(near.nbytes() / 2**20, 1),
                              "rss_mb": peak_rss_mb()}),
                  file=sys.stderr, flush=True)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"mode": "memory", "records": args.n, "threshold": args.threshold, "num_perm": args.num_perm,
            "bands": near.bands, "rows": near.rows, "verify": args.verify,
            "exact_dropped": int((verdict == 1).sum()), "near_dropped": int((verdict == 2).sum()),
            "planted_exact_caught": round(float((verdict[planted == 1] == 1).mean()), 4),
            "planted_near_caught": round(float((verdict[planted == 2] > 0).mean()), 4),
            "cpu_s": round(cpu, 1), "wall_s": round(wall, 1), "records_per_cpu_s": round(args.n / cpu),
            "near_index_mb": round(near.nbytes() / 2**20, 1), "exact_entries": exact.size, "exact_index_mb": round(exact.nbytes() / 2**20, 1),
            "peak_rss_mb": peak_rss_mb()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["quality", "memory"])
    p.add_argument("--n", type=int, default=None, help="records (quality 100000, memory 1000000)")
    p.add_argument("--threshold", type=float, default=0.75)
    p.add_argument("--num-perm", type=int, default=256)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--verify", choices=["exact", "estimate"], default="exact",
                   help="candidates decided on the exact shingle-set Jaccard or on the signatures")
    p.add_argument("--bands", type=int, default=None, help="LSH bands (with --rows; default chosen from threshold)")
    p.add_argument("--rows", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compare", type=int, default=20000, help="quality: records for the datasketch comparison (0 = off)")
    args = p.parse_args(argv)
    if (args.bands is None) != (args.rows is None):
        p.error("give both --bands and --rows, or neither")
    args.n = args.n or (100_000 if args.mode == "quality" else 1_000_000)
    out = quality(args) if args.mode == "quality" else memory(args)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
