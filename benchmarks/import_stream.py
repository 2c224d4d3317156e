"""`datagen import` at scale: writes a seeded Alpaca-format JSONL (default 1,000,000 rows, with one
malformed line and one duplicate row in every 10,000), imports it with the real command in a child
process, and reports wall time, rows/s and the child's peak RSS; with --sizes it does this per size,
so flat RSS across sizes shows the import streams (memory = one batch + 16 bytes per kept id).

    .venv/bin/python benchmarks/import_stream.py                       # 1,000,000 rows
    .venv/bin/python benchmarks/import_stream.py --sizes 100000,1000000
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("data model answer question water river light energy city system value number story market "
         "garden music table window history science planet engine paper color animal school").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def write_source(path: Path, rows: int, seed: int = 0) -> dict:
    """Rows of ~15-word instructions and ~60-word outputs; every 10,000th line is cut off and every
    10,000th row (offset 5,000) repeats the row before it."""
    rng = random.Random(seed)
    bad = dup = 0
    prev = ""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(rows):
            if i % 10_000 == 9_999:
                f.write('{"instruction": "cut off\n')
                bad += 1
                continue
            if i % 10_000 == 5_000 and prev:
                f.write(prev)
                dup += 1
                continue
            prev = json.dumps({"instruction": f"{sentence(rng, 15)} ({i})", "input": "" if i % 3 else sentence(rng, 8),
                               "output": sentence(rng, 60)}) + "\n"
            f.write(prev)
    return {"malformed": bad, "duplicates": dup, "bytes": path.stat().st_size}


def run_import(source: Path, out: Path) -> dict:
    """The real CLI in a child process: wall time and that child's own peak RSS (wait4's rusage)."""
    log = out.with_suffix(".log")
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "datagen.cli", "import", str(source), "--name", "big",
                                 "--out", str(out)], stdout=f, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    text = log.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import failed: {text.strip()}")
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "summary": next((ln for ln in text.splitlines() if ln.strip().startswith("kept ")), "")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000", help="comma-separated row counts, in order")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="import-bench-"))
    try:
        print("| rows | source | malformed | duplicates | wall | rows/s | peak RSS |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for n in (int(s) for s in args.sizes.split(",")):
            src = root / f"rows-{n}.jsonl"
            made = write_source(src, n)
            res = run_import(src, root / f"runs-{n}")
            rate = n / res["wall_s"]
            print(f"| {n:,} | {made['bytes'] / 1e6:.0f} MB | {made['malformed']:,} | {made['duplicates']:,} | "
                  f"{res['wall_s']} s | {rate:,.0f} | {res['peak_rss_mb']:,} MB |", flush=True)
            print(f"  ({res['summary'].strip()})", file=sys.stderr)
            src.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
