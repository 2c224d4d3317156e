"""The local `smallest_id` rule (exact, then MinHash) over the records of `benchmarks/ray_dedup.py`, in
arrays instead of Record objects, so that 10,000,000 records fit on one machine and the Ray run's kept
ids can be checked at that size (issue 17). The local filters hold every Record (~9 GB a million here);
this holds per record its id (64 bytes), exact key (16), 13 band keys (104) and shingle set (~80).

The rule is the filters' own, step by step: exact dedup keeps the smallest id (then the earliest
position) of each group of equal keys (filters.dedup._smallest); MinHash pairs bucket members with
the bucket's smallest and predecessor (filters.clusters.bucket_pairs), keeps pairs whose exact
shingle-set Jaccard reaches the threshold (filters.shingle_sets.pair_jaccard) and resolves clusters
by connected components (filters.clusters.components). Prints the same per-block kept-id digest as
ray_dedup.py, so the two runs compare by one hash.

    /usr/bin/time -v .venv/bin/python benchmarks/cluster_local.py --n 10000000 [--expect SHA]
"""
from __future__ import annotations

from measure import peak_rss_mb  # noqa: E402
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

from dedup import GenBlock  # noqa: E402
from ray_dedup import block_sha, filters, kept_digest, record_options  # noqa: E402

from filters.clusters import bucket_pairs, components  # noqa: E402
from filters.lsh_index import band_keys  # noqa: E402
from filters.shingle_sets import pair_jaccard  # noqa: E402


def hash_blocks(args):
    """Every block's ids, exact keys, band keys and shingle sets, concatenated."""
    exact, near = filters(args)
    ids, ekeys, bkeys, flats, lens = [], [], [], [], []
    for b, lo in enumerate(range(0, args.n, args.block)):
        recs = GenBlock(b, min(args.block, args.n - lo), args.seed)()
        ids.append(np.array([r.id for r in recs], "S64"))
        ekeys.append(np.frombuffer(b"".join(bytes.fromhex(k)[:16] for k in exact.map(recs)), np.uint64).reshape(-1, 2))
        sig, has, (flat, _, ln) = near._hashed(recs)
        assert has.all(), "every benchmark record has shingles"
        bkeys.append(band_keys(sig, args.bands, args.rows))
        flats.append(flat)
        lens.append(ln)
        if (lo + args.block) % 1_000_000 < args.block:
            print(f"hashed {lo + len(recs):,} records, RSS {peak_rss_mb():,.0f} MB", file=sys.stderr, flush=True)
    ln = np.concatenate(lens)
    sets = (np.concatenate(flats), np.cumsum(ln) - ln, ln)
    return np.concatenate(ids), np.concatenate(ekeys), np.concatenate(bkeys), sets


def stable_rank(ids: np.ndarray) -> np.ndarray:
    """Rank of each position in (id, position) order: filters.clusters.id_ranks on an array."""
    order = np.argsort(ids, kind="stable")
    rank = np.empty(len(ids), np.int64)
    rank[order] = np.arange(len(ids))
    return rank


def exact_survivors(ids: np.ndarray, ekeys: np.ndarray) -> np.ndarray:
    """Positions kept by exact dedup: the smallest (id, position) of each group of equal keys."""
    order = np.lexsort((stable_rank(ids), ekeys[:, 1], ekeys[:, 0]))
    k = ekeys[order]
    first = np.concatenate(([True], (k[1:] != k[:-1]).any(axis=1)))
    return np.sort(order[first])


def near_survivors(ids: np.ndarray, bkeys: np.ndarray, sets, threshold: float,
                   chunk: int = 1 << 20) -> tuple[np.ndarray, int, int]:
    """Of the given records (ids, band keys, shingle sets by position): the positions MinHash keeps, the
    number of candidate pairs and of those verified."""
    rank = stable_rank(ids)
    u, v = bucket_pairs(bkeys, rank, np.ones(len(ids), bool))
    ok = np.zeros(len(u), bool)
    for lo in range(0, len(u), chunk):
        ok[lo:lo + chunk] = pair_jaccard(sets, u[lo:lo + chunk], sets, v[lo:lo + chunk]) >= threshold
    label = components(len(ids), rank[u[ok]], rank[v[ok]])
    order = np.argsort(rank)
    winner = order[label[rank]]
    return np.flatnonzero(winner == np.arange(len(ids))), int(len(u)), int(ok.sum())


def subset(sets, pos: np.ndarray):
    flat, starts, lens = sets
    return flat, starts[pos], lens[pos]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    record_options(p)
    p.add_argument("--expect", default="", help="kept_ids_sha256 of a ray_dedup.py run: exit 1 if it differs")
    a = p.parse_args(argv)
    if a.n < 1 or a.block < 1:
        p.error("--n and --block must be positive")
    c0, w0 = time.process_time(), time.perf_counter()
    ids, ekeys, bkeys, sets = hash_blocks(a)
    hashed = time.process_time() - c0
    ex = exact_survivors(ids, ekeys)
    del ekeys
    nk, candidates, verified = near_survivors(ids[ex], bkeys[ex], subset(sets, ex), a.threshold)
    kept = ex[nk]
    blocks = [block_sha(ids[kept[(kept >= lo) & (kept < lo + a.block)]]) for lo in range(0, a.n, a.block)]
    out = {"records": a.n, "exact_dropped": int(a.n - len(ex)), "near_dropped": int(len(ex) - len(kept)),
           "kept": int(len(kept)), "candidate_pairs": candidates, "verified_pairs": verified,
           "cpu_s": round(time.process_time() - c0, 1), "hash_cpu_s": round(hashed, 1),
           "wall_s": round(time.perf_counter() - w0, 1), "peak_rss_mb": peak_rss_mb(),
           "loadavg": open("/proc/loadavg").read().split()[:3],
           "kept_ids_sha256": kept_digest(blocks)}
    if a.expect:
        out["equal_to_expected"] = out["kept_ids_sha256"] == a.expect
    print(json.dumps(out, indent=2))
    return 1 if a.expect and not out["equal_to_expected"] else 0


if __name__ == "__main__":
    sys.exit(main())
