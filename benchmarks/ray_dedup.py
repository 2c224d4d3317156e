"""Exact + MinHash dedup under keep=smallest_id on a local Ray (issue 17), the driver out of the data path.

Records come from the generator of `benchmarks/dedup.py memory`, one seeded stream per block, run
inside the worker tasks (all blocks share one vocabulary and start from one pool of 2,000 texts, so
exact and near copies cross blocks). The driver holds object refs and per-block summaries (counts
and a sha256 of the kept ids). Reports wall, CPU, the driver's peak RSS (getrusage) and the workers'
(peak VmHWM of the ray:: processes, sampled every second, and their CPU seconds), and the kept count. --check also runs the
same records through the local filters (ExactDup then MinHash, keep=smallest_id) and asserts
identical kept ids per block.

    .venv/bin/python benchmarks/ray_dedup.py --n 1000000 --check
    .venv/bin/python benchmarks/ray_dedup.py --n 10000000
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ["PYTHONPATH"] = os.pathsep.join([HERE, os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")])

from measure import peak_rss_mb  # noqa: E402
import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from dedup import GenBlock  # noqa: E402  (benchmarks/dedup.py: importable by the workers)


def block_sha(kept_ids: np.ndarray) -> str:
    """sha256 of a block's kept ids (S64), sorted."""
    return hashlib.sha256(np.sort(kept_ids).tobytes()).hexdigest()


def kept_digest(block_shas: list[str]) -> str:
    """The run's kept_ids_sha256: one hash over the blocks' in block order (cluster_local.py prints the same)."""
    return hashlib.sha256("".join(block_shas).encode()).hexdigest()


def record_options(p: argparse.ArgumentParser) -> None:
    """The records and the dedup settings: the same flags here and in cluster_local.py, so that two runs
    with the same values compare by their kept_ids_sha256."""
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--block", type=int, default=50_000, help="records a block (a task)")
    p.add_argument("--threshold", type=float, default=0.75)
    p.add_argument("--num-perm", type=int, default=52)
    p.add_argument("--bands", type=int, default=13)
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)


def summary(ex, nd) -> dict:
    """A block's counts and the sha256 of its sorted kept ids."""
    return {"exact": len(ex[0]), "near": len(nd[0]), "kept": len(nd[2]), "sha": block_sha(nd[2])}


def filters(args):
    from filters.dedup import ExactDup
    from filters.minhash import MinHash

    return (ExactDup(keep="smallest_id"),
            MinHash(keep="smallest_id", threshold=args.threshold, num_perm=args.num_perm, bands=args.bands, rows=args.rows))


class WorkerPeak:
    """Peak VmHWM per Ray worker process (ray::, not the agents), sampled every second on the driver (a thread)."""

    def __init__(self) -> None:
        import psutil

        self.psutil, self.peak, self.cpu, self.stop = psutil, {}, {}, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            for p in self.psutil.process_iter(["pid", "cmdline"]):
                try:
                    cmd = " ".join(p.info["cmdline"] or [])
                    if ("ray::" not in cmd and "default_worker.py" not in cmd) or "Agent" in cmd:
                        continue
                    with open(f"/proc/{p.info['pid']}/status") as fh:
                        hwm = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM"))
                    self.peak[p.info["pid"]] = max(self.peak.get(p.info["pid"], 0), hwm)
                    t = p.cpu_times()
                    self.cpu[p.info["pid"]] = t.user + t.system
                except (OSError, StopIteration, self.psutil.Error):
                    continue

    def report(self) -> dict:
        self.stop.set()
        vals = sorted(self.peak.values(), reverse=True)
        return {"worker_processes": len(vals), "workers_cpu_s": round(sum(self.cpu.values()), 1), "worker_peak_rss_mb_max": round(vals[0] / 1024, 1) if vals else None,
                "worker_peak_rss_mb_top3": [round(v / 1024, 1) for v in vals[:3]]}


def on_ray(args) -> tuple[dict, list]:
    import ray

    from datagen.ray.dedup import dedup_blocks

    from datagen.ray.runtime import LOCAL_SYSTEM_CONFIG

    ray.init(num_cpus=args.workers, object_store_memory=int(args.object_store_gb * 2**30), include_dashboard=False,
             log_to_driver=False, configure_logging=False, _node_ip_address="127.0.0.1",
             _system_config=LOCAL_SYSTEM_CONFIG if args.small_objects_to_store else {})
    peak = WorkerPeak()
    c0, w0 = time.process_time(), time.perf_counter()
    exact, near = filters(args)
    sizes = [min(args.block, args.n - lo) for lo in range(0, args.n, args.block)]
    sources = [GenBlock(b, s, args.seed) for b, s in enumerate(sizes)]
    stats: dict = {}
    ex = dedup_blocks(exact, ray, sources, partitions=args.partitions, stats=stats)
    nd = dedup_blocks(near, ray, sources, dropped=ex, partitions=args.partitions, stats=stats)
    summ = ray.remote(summary)
    blocks = ray.get([summ.remote(e, d) for e, d in zip(ex, nd)])
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    out = {"mode": "ray", "records": args.n, "blocks": len(sizes), "block": args.block, "workers": args.workers,
           "small_objects_to_store": args.small_objects_to_store,
           "partitions": args.partitions, "num_perm": args.num_perm, "bands": args.bands, "rows": args.rows,
           "threshold": args.threshold, "component_rounds": stats["rounds"], "exact_dropped": sum(b["exact"] for b in blocks),
           "near_dropped": sum(b["near"] for b in blocks), "kept": sum(b["kept"] for b in blocks),
           "wall_s": round(wall, 1), "driver_cpu_s": round(cpu, 1),
           "driver_peak_rss_mb": peak_rss_mb(),
           **peak.report(), "loadavg": open("/proc/loadavg").read().split()[:3]}
    ray.shutdown()
    return out, blocks


def local(args) -> tuple[dict, list]:
    """The same records through the local filters, in order; kept ids split by block."""
    exact, near = filters(args)
    c0, w0 = time.process_time(), time.perf_counter()
    sizes = [min(args.block, args.n - lo) for lo in range(0, args.n, args.block)]
    recs, owner = [], []
    for b, s in enumerate(sizes):
        recs += GenBlock(b, s, args.seed)()
        owner += [b] * s
    ev = exact(recs)
    rest = [i for i, v in enumerate(ev) if v is None]
    nv = near([recs[i] for i in rest])
    kept = [[] for _ in sizes]
    for i, v in zip(rest, nv):
        if v is None:
            kept[owner[i]].append(recs[i].id.encode())
    blocks = [{"kept": len(k), "sha": block_sha(np.array(k, "S64"))} for k in kept]
    return {"local_wall_s": round(time.perf_counter() - w0, 1), "local_cpu_s": round(time.process_time() - c0, 1),
            "local_exact_dropped": sum(v is not None for v in ev), "local_near_dropped": sum(v is not None for v in nv),
            "local_kept": len(rest) - sum(v is not None for v in nv)}, blocks


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    record_options(p)
    p.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray")
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument("--object-store-gb", type=float, default=6.0)
    p.add_argument("--check", action="store_true", help="also run the local filters and assert equal kept ids")
    p.add_argument("--inline-small-objects", dest="small_objects_to_store", action="store_false",
                   help="Ray's default: objects under 100 KB returned inline to the driver (as before)")
    args = p.parse_args(argv)
    if args.n < 1 or args.block < 1 or args.workers < 1 or args.partitions < 1:
        p.error("--n, --block, --workers and --partitions must be positive")
    out, blocks = on_ray(args)
    print(json.dumps(out), file=sys.stderr, flush=True)
    if args.check:
        loc, lblocks = local(args)
        out.update(loc)
        out["identical_kept_ids"] = [b["sha"] for b in blocks] == [b["sha"] for b in lblocks]
        assert out["identical_kept_ids"], "Ray and local kept ids differ"
    out["kept_ids_sha256"] = kept_digest([b["sha"] for b in blocks])
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
