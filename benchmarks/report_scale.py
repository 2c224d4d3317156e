"""Benchmark: `datagen report` of a 1,000,000-record version in under 60 s with a page under 20 MB.

The version is written through datagen.versions.VersionWriter batch by batch, so it is sharded like a
real one (100,000 rows a shard); then the real command runs in its own process under /usr/bin/time,
which gives its wall time, CPU time (user + sys) and peak RSS.

    .venv/bin/python benchmarks/report_scale.py [--n 1000000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from datagen.versions import Rejection
from datagen.versions import VersionWriter
from datagen.record import Lineage, Record

VERBS = ["Write", "Explain", "List", "Summarize", "Classify", "Translate", "Describe", "Suggest", "Give",
         "Create", "Rewrite", "Find", "Identify", "Compose", "Generate", "Compare"]
NOUNS = ["poem", "story", "email", "recipe", "plan", "summary", "list", "letter", "answer", "essay",
         "title", "tweet", "function", "table", "paragraph", "headline"]
TOPICS = ["the sea", "a city at night", "saving money", "a job interview", "learning Python", "climate",
          "a birthday party", "healthy breakfasts", "the moon landing", "remote work", "a lost dog"]
REASONS = ["too_short", "not_novel", "near_duplicate"]
BATCH = 10_000
VENV_BIN = Path(sys.executable).parent


def make(start: int, n: int, rng: random.Random, tag: str = "") -> list[Record]:
    out = []
    for i in range(start, start + n):
        instr = f"{rng.choice(VERBS)} a {rng.choice(NOUNS)} about {rng.choice(TOPICS)} ({tag}{i})."
        body = " ".join(rng.choice(NOUNS + TOPICS) for _ in range(rng.randint(5, 120)))
        op = "" if i % 4 else "deepen"
        out.append(Record.make(instr, "", body, lineage=Lineage(method="self_instruct", step=i % 5, operation=op)))
    return out


def write_big(runs: Path, n: int, n_rejected: int) -> str:
    """A version of n kept and n_rejected rejected records, streamed: one batch in memory."""
    rng, rng_rej = random.Random(0), random.Random(1)
    with VersionWriter(runs, "big") as w:
        for start in range(0, n, BATCH):
            w.add(make(start, min(BATCH, n - start), rng))
        for start in range(0, n_rejected, BATCH):
            recs = make(start, min(BATCH, n_rejected - start), rng_rej, "r")
            w.reject(Rejection(r, rng_rej.choice(REASONS), "filter:x", "") for r in recs)
        v = w.commit({"method": "self_instruct", "counts": {}, "seeds": {"path": "bundled:seeds/tasks.jsonl"}})
    return v.ref


def timed_report(runs: Path, ref: str, out: Path) -> dict:
    """`datagen report` in its own process under /usr/bin/time -v: wall, CPU (user + sys), peak RSS."""
    cmd = ["/usr/bin/time", "-v", str(VENV_BIN / "datagen"), "report", ref, "--runs", str(runs), "--out", str(out)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"datagen report failed: {proc.stderr.strip()[-500:]}")

    def field(name: str) -> float:
        return float(re.search(rf"{name}: ([0-9.]+)", proc.stderr).group(1))

    return {"wall_s": wall, "cpu_s": field("User time \\(seconds\\)") + field("System time \\(seconds\\)"),
            "peak_rss_mb": field("Maximum resident set size \\(kbytes\\)") / 1024, "page_mb": out.stat().st_size / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--keep", default="", help="write the version here and keep it (default: a temp dir)")
    args = ap.parse_args()
    if args.n < 1:
        print(f"report_scale: --n must be at least 1, got {args.n}", file=sys.stderr)
        sys.exit(2)
    runs = Path(args.keep or tempfile.mkdtemp(prefix="report-scale-"))
    try:
        t = time.perf_counter()
        ref = write_big(runs, args.n, args.n // 10)
        shards = len(list((runs / ref).glob("records*.parquet")))
        print(f"wrote {ref}: {args.n} kept + {args.n // 10} rejected in {shards} record shards "
              f"({time.perf_counter() - t:.0f} s)")
        r = timed_report(runs, ref, runs / "report.html")
    finally:
        if not args.keep:
            shutil.rmtree(runs, ignore_errors=True)
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    print(f"records={args.n} rejected={args.n // 10} wall_s={r['wall_s']:.1f} cpu_s={r['cpu_s']:.1f} "
          f"page_mb={r['page_mb']:.2f} peak_rss_mb={r['peak_rss_mb']:.0f} loadavg={' '.join(load)}")
    print("PASS" if r["wall_s"] < 60 and r["page_mb"] < 20 else "FAIL", "(goal: < 60 s, < 20 MB page)")


if __name__ == "__main__":
    main()
