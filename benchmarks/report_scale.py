"""Benchmark: the report of a 100,000-record version is built in under 60 s and stays under 15 MB.

    .venv/bin/python benchmarks/report_scale.py [--n 100000]
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from datagen.dataset import Rejection, write_version
from datagen.record import Lineage, Record
from datagen.report import write_report

VERBS = ["Write", "Explain", "List", "Summarize", "Classify", "Translate", "Describe", "Suggest", "Give",
         "Create", "Rewrite", "Find", "Identify", "Compose", "Generate", "Compare"]
NOUNS = ["poem", "story", "email", "recipe", "plan", "summary", "list", "letter", "answer", "essay",
         "title", "tweet", "function", "table", "paragraph", "headline"]
TOPICS = ["the sea", "a city at night", "saving money", "a job interview", "learning Python", "climate",
          "a birthday party", "healthy breakfasts", "the moon landing", "remote work", "a lost dog"]


def make(n: int, rng: random.Random) -> list[Record]:
    out = []
    for i in range(n):
        instr = f"{rng.choice(VERBS)} a {rng.choice(NOUNS)} about {rng.choice(TOPICS)} ({i})."
        body = " ".join(rng.choice(NOUNS + TOPICS) for _ in range(rng.randint(5, 120)))
        out.append(Record.make(instr, "", body, lineage=Lineage(method="self_instruct", step=i % 5)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    rng = random.Random(0)
    records = make(args.n, rng)
    rejected = [Rejection(r, rng.choice(["too_short", "not_novel", "near_duplicate"]), "filter:x", "")
                for r in make(args.n // 10, random.Random(1))]
    with tempfile.TemporaryDirectory() as d:
        v = write_version(d, "big", records, rejected, {"method": "self_instruct", "counts": {},
                                                          "seeds": {"path": "bundled:seeds/tasks.jsonl"}})
        t = time.perf_counter()
        out = write_report(v, Path(d) / "report.html")
        secs = time.perf_counter() - t
        size = out.stat().st_size / 1e6
    print(f"records={args.n} rejected={len(rejected)} report_seconds={secs:.1f} report_mb={size:.2f}")
    print("PASS" if secs < 60 and size < 15 else "FAIL", "(goal: < 60 s, < 15 MB)")


if __name__ == "__main__":
    main()
