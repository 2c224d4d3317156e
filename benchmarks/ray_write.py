"""Versions written by the Ray workers vs by the driver (issue 17): what the driver holds.

`filter`: a sharded version of --n records (the generator of benchmarks/dedup.py, one shard a block, so
the kept ids compare with ray_dedup.py / cluster_local.py by kept_ids_sha256) goes through `refilter`
with exact + MinHash dedup (keep=smallest_id) on a local Ray, once with the workers writing the new
version (datagen/ray/write.py) and once with the driver writing it (VersionWriter; worker_plan
disabled). `generate`: --gen short instructions answered by `--method answer` through the fake
OpenAI server (a separate process, no latency) with exact dedup (smallest_id) + length, workers
writing (datagen/ray/generate.py) vs the driver path (RayTeacher under the driver's CachedTeacher).
Each mode runs in its own process; reported: wall, the driver's CPU and peak RSS (getrusage), kept.

    .venv/bin/python benchmarks/ray_write.py filter --n 1000000
    .venv/bin/python benchmarks/ray_write.py generate --gen 20000
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
os.environ["PYTHONPATH"] = os.pathsep.join([HERE, ROOT, os.path.join(ROOT, "tests"), os.environ.get("PYTHONPATH", "")])
sys.path[:0] = [HERE, ROOT, os.path.join(ROOT, "tests")]

from measure import peak_rss_mb  # noqa: E402
import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ray_dedup import block_sha, kept_digest, record_options  # noqa: E402


def make_parent(args, runs: str) -> str:
    from dedup import GenBlock

    from datagen.versions import VersionWriter

    with VersionWriter(runs, "parent", shard_rows=args.block) as w:
        for b, lo in enumerate(range(0, args.n, args.block)):
            w.add(GenBlock(b, min(args.block, args.n - lo), args.seed)())
        return str(w.commit({"method": "benchmark"}).path)


def kept_shas(version) -> dict:
    """kept_ids_sha256 (per shard, as ray_dedup.py: comparable when shard b holds block b's survivors)
    and the sha256 of all kept ids sorted (comparable whatever the shards)."""
    from datagen.versions.shards import iter_parquet

    shas, every = [], []
    for f in version.files("records"):
        ids = np.array([i.encode() for batch in iter_parquet([version.checked(f)])
                        for i in batch.column("id").to_pylist()], "S64")
        shas.append(block_sha(ids))
        every.append(ids)
    return {"kept_ids_sha256": kept_digest(shas), "sorted_ids_sha256": block_sha(np.concatenate(every))}


def one_filter(args) -> dict:
    import datagen.ray.write
    from datagen.ray.runtime import init_ray
    from datagen.refilter import FilterConfig, refilter

    if args.mode == "driver":
        datagen.ray.write.worker_plan = lambda fns: None
    init_ray(num_cpus=args.workers)  # as datagen starts a local Ray (small objects to the object store)
    specs = [{"name": "exact_dup", "keep": "smallest_id"},
             {"name": "minhash", "keep": "smallest_id", "threshold": args.threshold, "num_perm": args.num_perm,
              "bands": args.bands, "rows": args.rows}]
    base = peak_rss_mb()
    c0, w0 = time.process_time(), time.perf_counter()
    v = refilter(FilterConfig(from_version=args.parent, filters=specs, executor="ray", name=f"out_{args.mode}"))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    m = v.manifest()
    return {"mode": args.mode, "records": args.n, "wall_s": round(wall, 1), "driver_cpu_s": round(cpu, 1),
            "driver_peak_rss_mb": peak_rss_mb(), "driver_rss_before_mb": base, "kept": m["counts"]["kept"],
            "dropped": m["counts"]["dropped"], "written_by": m.get("written_by", "driver"),
            "shards": len(v.files("records")), **kept_shas(v),
            "loadavg": open("/proc/loadavg").read().split()[:3]}


def one_generate(args) -> dict:
    import datagen.ray.generate
    from datagen.ray.runtime import init_ray
    from datagen.cli import load_run_config
    from datagen.run import run

    if args.mode == "driver":
        datagen.ray.generate.generation_plan = lambda cfg: None
    init_ray(num_cpus=args.workers)  # as datagen starts a local Ray (small objects to the object store)
    cfg = load_run_config(["--method", "answer", "--teacher", "openai", "--base-url", args.url, "--model", "fake",
                           "--from", args.parent, "--executor", "ray", "--out", args.runs, "--name", f"gen_{args.mode}",
                           "--cache", os.path.join(args.runs, f"cache_{args.mode}.sqlite"), "--max-tokens", "32",
                           "--concurrency", "32"])
    cfg.filters = [{"name": "exact_dup", "keep": "smallest_id"}, "length"]
    base = peak_rss_mb()
    c0, w0 = time.process_time(), time.perf_counter()
    v = run(cfg)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    m = v.manifest()
    return {"mode": args.mode, "instructions": args.gen, "wall_s": round(wall, 1), "driver_cpu_s": round(cpu, 1),
            "driver_peak_rss_mb": peak_rss_mb(), "driver_rss_before_mb": base, "kept": m["counts"]["kept"],
            "requests": m["teacher_stats"]["requests"], "written_by": m.get("written_by", "driver"),
            "ids_sha256": kept_digest([r.id for batch in v.iter_records() for r in batch]),
            "loadavg": open("/proc/loadavg").read().split()[:3]}


def gen_parent(args, runs: str) -> str:
    from datagen.versions import write_version
    from datagen.record import Record

    recs = [Record.make(f"Write one sentence about the number {i} and the colour of day {i % 7}.")
            for i in range(args.gen)]
    return str(write_version(runs, "prompts", recs, [], {"method": "benchmark"}).path)


def child(argv: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(proc.returncode)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["filter", "generate"])
    record_options(p)
    p.add_argument("--gen", type=int, default=20_000, help="instructions answered (generate)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--modes", default="workers,driver", help="which runs to make: workers, driver or both")
    p.add_argument("--mode", choices=["workers", "driver"], help=argparse.SUPPRESS)
    p.add_argument("--parent", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--runs", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.mode:  # one measured run, in its own process
        print(json.dumps(one_filter(args) if args.what == "filter" else one_generate(args)))
        return 0
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - {"workers", "driver"}:
        p.error("--modes takes workers, driver or workers,driver")
    runs = tempfile.mkdtemp(prefix="ray_write_")
    passed = list(argv if argv is not None else sys.argv[1:])
    out = {}
    if args.what == "filter":
        w0 = time.perf_counter()
        parent = make_parent(args, runs)
        out["parent_written_s"] = round(time.perf_counter() - w0, 1)
        for mode in modes:
            out[mode] = child(passed + ["--mode", mode, "--parent", parent])
            print(json.dumps(out[mode]), file=sys.stderr, flush=True)
        if len(modes) == 2:
            out["identical_kept_ids"] = out["workers"]["sorted_ids_sha256"] == out["driver"]["sorted_ids_sha256"]
    else:
        parent = gen_parent(args, runs)
        srv = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "fake_openai_server.py")],
                               stdout=subprocess.PIPE, text=True)
        url = srv.stdout.readline().strip()
        try:
            for mode in modes:
                out[mode] = child(passed + ["--mode", mode, "--parent", parent, "--url", url, "--runs", runs])
                print(json.dumps(out[mode]), file=sys.stderr, flush=True)
        finally:
            srv.kill()
        if len(modes) == 2:
            out["identical_ids"] = out["workers"]["ids_sha256"] == out["driver"]["ids_sha256"]
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
