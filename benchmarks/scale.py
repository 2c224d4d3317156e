"""Single-machine figures for benchmarks/scale.md: how generation (teacher-bound) and dedup
(CPU-bound) throughput grow with Ray workers, and what the driver holds per record.

    .venv/bin/python benchmarks/scale.py [--requests 600] [--latency 0.1] [--records 50000]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_openai_server import FakeOpenAIServer  # noqa: E402

from datagen.backends import TeacherConfig  # noqa: E402
from datagen.backends.openai_compat import OpenAICompatTeacher  # noqa: E402
from datagen.ray.filtering import distribute  # noqa: E402
from datagen.ray.runtime import init_ray  # noqa: E402
from datagen.ray.teacher import RayTeacher  # noqa: E402
from datagen.record import Record  # noqa: E402
from datagen.teacher import Request, Sampling  # noqa: E402
from filters.minhash import MinHash, NearDupIndex  # noqa: E402


def requests(n: int) -> list[Request]:
    s = Sampling(max_tokens=32, temperature=0.0, seed=0)
    return [Request(messages=[{"role": "user", "content": f"question {i}"}], sampling=s) for i in range(n)]


def generation(n: int, latency: float, concurrency: int) -> list[dict]:
    rows = []
    with FakeOpenAIServer(latency=latency) as srv:
        cfg = TeacherConfig(backend="openai", base_url=srv.url, model="fake-model", concurrency=concurrency)
        t = time.perf_counter()
        OpenAICompatTeacher(cfg).complete(requests(n))
        rows.append({"executor": "local", "workers": 1, "seconds": time.perf_counter() - t})
        for workers in (1, 2, 4):
            teacher = RayTeacher(cfg, workers=workers, block_size=concurrency)
            t = time.perf_counter()
            teacher.complete(requests(n))
            rows.append({"executor": "ray", "workers": workers, "seconds": time.perf_counter() - t})
            teacher.close()
    for r in rows:
        r["req_per_s"] = n / r["seconds"]
        r["ideal_req_per_s"] = r["workers"] * concurrency / latency
    return rows


def corpus(n: int) -> list[Record]:
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(5000)]
    out = []
    for i in range(n):
        words = [rng.choice(vocab) for _ in range(rng.randint(20, 60))]
        if i % 10 == 9:  # a near-duplicate of an earlier record
            words = out[rng.randrange(len(out))].instruction.split()
            words[len(words) // 2] = "changed"
        out.append(Record.make(" ".join(words), "", "ok"))
    return out


def dedup(n: int, num_cpus: int) -> list[dict]:
    records = corpus(n)
    fn = MinHash()
    t = time.process_time(), time.perf_counter()
    local = fn(records)
    rows = [{"executor": "local", "cpu_s": time.process_time() - t[0], "wall_s": time.perf_counter() - t[1]}]
    ray = init_ray(num_cpus=num_cpus)
    for block in (n // 2, n // 8):
        t = time.perf_counter()
        remote = distribute(fn, ray, block_size=block)(records)
        assert remote == local, "Ray and local decisions differ"
        rows.append({"executor": f"ray ({n // block} blocks)", "wall_s": time.perf_counter() - t})
    idx = NearDupIndex()
    idx.add([r.instruction for r in records])
    rows.append({"driver_index_bytes_per_kept": idx.nbytes() / max(1, idx.kept), "kept": idx.kept,
                 "dropped": sum(v is not None for v in local)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--records", type=int, default=50_000)
    args = ap.parse_args()
    init_ray(num_cpus=4)
    out = {"generation": generation(args.requests, args.latency, args.concurrency),
           "dedup": dedup(args.records, 4)}
    print(json.dumps(out, indent=1))
    Path(tempfile.gettempdir(), "scale.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
