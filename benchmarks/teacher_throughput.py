"""Teacher throughput: OpenAICompatTeacher against the fake server with 100 ms latency, no faults.

2,000 requests at concurrency 64 take 2000/64 x 0.1 s = 3.125 s if the client costs nothing; the
target is within 1.2x of that (<= 3.75 s). The server runs in its own process, as a real one
would (in-process it would share the GIL with the client being measured).

    .venv/bin/python benchmarks/teacher_throughput.py [--requests 2000] [--concurrency 64] [--latency 0.1]
    -> teacher throughput: 2000 requests in 7.32 s (ideal 3.12 s, 2.34x) = 273 req/s; client CPU 1.56 s; ...
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_queue_wait() -> float:
    """Seconds this process's main thread was ready to run but another process had the CPU
    (Linux schedstat); 0.0 where the kernel does not report it."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--max-ratio", type=float, default=1.2, help="fail (exit 1) above this multiple of ideal")
    a = ap.parse_args()

    from datagen.backends import TeacherConfig
    from datagen.backends.openai_compat import OpenAICompatTeacher
    from datagen.teacher import Request, Sampling

    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_openai_server.py"), "--latency",
                               str(a.latency)], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        teacher = OpenAICompatTeacher(TeacherConfig(backend="openai", model="fake-model", base_url=url,
                                                    concurrency=a.concurrency))
        s = Sampling(max_tokens=64, temperature=0.7, seed=0)
        reqs = [Request(messages=[{"role": "user", "content": f"Write a haiku about the number {i}."}],
                        sampling=s) for i in range(a.requests)]
        teacher.complete(reqs[:8])  # warm-up: imports and the GET /models preflight
        cpu0, wait0, t0 = os.times(), run_queue_wait(), time.perf_counter()
        out = teacher.complete(reqs)
        elapsed, cpu1, waited = time.perf_counter() - t0, os.times(), run_queue_wait() - wait0
    finally:
        server.kill()
        server.wait()
    ok = sum(c.ok for c in out)
    ideal = a.requests / a.concurrency * a.latency
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(f"teacher throughput: {a.requests} requests in {elapsed:.2f} s (ideal {ideal:.2f} s, "
          f"{elapsed / ideal:.2f}x) = {a.requests / elapsed:.0f} req/s; client CPU {cpu:.2f} s; "
          f"{ok} ok; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the client waited "
          f"{waited:.2f} s for a CPU (run queue: other processes had it)")
    return 0 if ok == a.requests and elapsed <= a.max_ratio * ideal else 1


if __name__ == "__main__":
    sys.exit(main())
