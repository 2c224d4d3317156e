"""The same run on Ray (an existing engine; we build no cluster layer). Optional extra: datagen[ray].

Generation: `RayTeacher` splits a batch of requests into blocks and sends them to a pool of actors,
each holding one backend (one `vllm.LLM` per GPU actor for `vllm`; concurrent HTTP clients for
`openai`). It sits *under* CachedTeacher, so the driver answers hits from the same response cache
and stores each block's answers as they arrive: a resumed run repeats no finished call, and local
and Ray runs share one cache (the teacher name is the backend's own).

Filters: per-record filters run as Ray Data `map_batches`; exact and MinHash dedup run in two stages
(keys or signatures per block on the workers, then one ordered pass over the duplicate buckets on the
driver), which gives exactly the local filter's decisions; under keep=smallest_id they shuffle by
(band) key across workers and resolve clusters by connected components in rounds on the workers
(datagen/ray_dedup.py), and `datagen filter` has the workers read the parent's shards themselves
(datagen/ray_shards.py). Order-dependent filters (novelty, semantic, judge) run on the driver.

Workers writing the version: when every filter after the leading smallest_id dedup filters is
per-record, `datagen filter` (datagen/ray_write.py) and `generate --method answer`
(datagen/ray_generate.py: actors with their own teachers instead of RayTeacher) leave the records
on the workers from the first read to the published shards.

    RayTeacher(TeacherConfig(backend="openai", ...), workers=4).complete(requests) -> [Completion, ...]
"""
from __future__ import annotations

import dataclasses
import pickle
from typing import Sequence

from datagen.errors import DatagenError
from datagen.teacher import Completion, OnResult, Request, TeacherStats

def require_ray():
    try:
        import ray
    except ImportError:
        raise DatagenError("--executor ray needs Ray: pip install 'datagen[ray]'") from None
    return ray


# Ray returns objects under 100 KB inline to their owner: the driver kept the dedup's small pieces (pair
# lists, edge pieces, verdicts; ~16,000 at 10 M records) in its own memory. Above 1 KB they go to the
# object store instead (benchmarks/scale.md: 191 -> 147 MB driver peak at 1 M). A cluster started with
# `ray start` takes the same setting from RAY_max_direct_call_object_size=1024 on its nodes.
LOCAL_SYSTEM_CONFIG = {"max_direct_call_object_size": 1024}


def init_ray(address: str = "", num_cpus: int | None = None):
    """Connect to `address`, or start a local Ray for this process (num_cpus caps it)."""
    ray = require_ray()
    if not ray.is_initialized():
        kwargs = dict(log_to_driver=False, include_dashboard=False, configure_logging=False)
        try:
            if address:
                ray.init(address=address, **{k: v for k, v in kwargs.items() if k != "include_dashboard"})
            else:  # a local Ray stays on loopback
                ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", _system_config=LOCAL_SYSTEM_CONFIG,
                         **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise DatagenError(f"cannot start or reach Ray at {address or 'local'}: {exc}") from None
    return ray


class _TeacherActor:
    """Holds one backend; answers one block at a time."""

    def __init__(self, cfg: dict) -> None:
        from datagen.backends import TeacherConfig, make_teacher

        self.teacher = make_teacher(TeacherConfig(**cfg))

    def name(self) -> str:
        return self.teacher.name

    def capability(self, name: str):
        """The backend's optional capability (datagen.teacher.backend_attr), a called one's value."""
        from datagen.teacher import backend_attr

        value = backend_attr(self.teacher, name)
        return value() if callable(value) else value

    def complete(self, block: int, requests: list[Request]) -> tuple[int, list[Completion], int]:
        stats = getattr(self.teacher, "stats", None)
        before = stats.retries if stats else 0
        out = self.teacher.complete(requests)
        return block, out, (stats.retries - before) if stats else 0


class RayTeacher:
    def __init__(self, cfg, workers: int = 2, block_size: int = 16, address: str = "",
                 num_cpus: int | None = None) -> None:
        ray = init_ray(address, num_cpus)
        gpus = 1 if cfg.backend == "vllm" else 0
        actor_cls = ray.remote(num_cpus=0 if gpus else 1, num_gpus=gpus)(_TeacherActor)
        self._ray = ray
        self._start = lambda: [actor_cls.remote(dataclasses.asdict(cfg)) for _ in range(max(1, workers))]
        self.actors = self._start()
        self.name = ray.get(self.actors[0].name.remote())
        self.block_size = max(1, block_size)
        self.stats = TeacherStats()
        self._capabilities: dict = {}

    @property
    def supports_raw(self) -> bool | None:
        """The actors' backend's: magpie asks before its first raw-prompt request."""
        return self._capability("supports_raw")

    def chat_template(self) -> str | None:
        """The actors' backend's Jinja chat template (None when it cannot tell)."""
        return self._capability("chat_template")

    def _capability(self, name: str):
        if name not in self._capabilities:
            self._capabilities[name] = self._ray.get(self._live_actors()[0].capability.remote(name))
        return self._capabilities[name]

    def _live_actors(self) -> list:
        """The actors, started again if close() freed them (a later user, the LLM judge say, needs them)."""
        if not self.actors:
            self.actors = self._start()
        return self.actors

    def close(self) -> None:
        """Free the actors' CPUs (the filters that follow run as Ray tasks and need them)."""
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        ray = self._ray
        blocks = [list(range(i, min(i + self.block_size, len(requests))))
                  for i in range(0, len(requests), self.block_size)]
        results: list[Completion | None] = [None] * len(requests)
        pending, next_block = {}, 0
        idle = list(self._live_actors())
        while next_block < len(blocks) or pending:
            while idle and next_block < len(blocks):  # one block per actor at a time
                actor = idle.pop()
                ref = actor.complete.remote(next_block, [requests[i] for i in blocks[next_block]])
                pending[ref] = actor
                next_block += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                idle.append(pending.pop(ref))
                b, comps, retries = ray.get(ref)
                self.stats.retries += retries
                for i, comp in zip(blocks[b], comps):
                    results[i] = comp
                    self.stats.requests += 1
                    if on_result:
                        on_result(i, comp)
        return results  # type: ignore[return-value]


def _records_dataset(ray, records, block_size: int):
    import ray.data  # noqa: F401 - registers ray.data

    rows = [{"idx": i, "row": r.to_row()} for i, r in enumerate(records)]
    return ray.data.from_items(rows, override_num_blocks=max(1, len(rows) // block_size))


def _map_rows(ray, records, fn, block_size: int) -> list:
    """fn(list[Record]) -> one picklable value per record, run per block with map_batches; results
    come back in record order (Ray Data does not keep order by itself, so each row carries its index)."""
    from datagen.record import Record

    if not records:
        return []

    def batch(b):
        recs = [Record.from_row(r) for r in b["row"]]
        return {"idx": list(b["idx"]), "out": [_wrap(v) for v in fn(recs)]}

    ds = _records_dataset(ray, records, block_size).map_batches(batch, batch_format="pandas", batch_size=block_size)
    out: list = [None] * len(records)
    for row in ds.iter_rows():
        out[int(row["idx"])] = _unwrap(row["out"])
    return out


def _wrap(v) -> bytes:
    """Verdicts, keys and signatures travel as pickled bytes: one Arrow type for all of them."""
    return pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)


def _unwrap(b: bytes):
    return pickle.loads(b)


def distribute(fn, ray, block_size: int = 2048):
    """A filter with the same verdicts as `fn`, with its work spread over Ray, as its class declares
    (filters/base.py):
    - two_stage (dedup): map per block on the workers, reduce on the driver; under keep=smallest_id
      a shuffle by key and connected components instead (datagen/ray_dedup.py), no ordered pass;
    - per_record: run whole per block;
    - anything else (order-dependent: novelty, semantic, judge) runs on the driver as it is."""
    if fn.two_stage and getattr(fn, "keep", "first") == "smallest_id":  # no ordered pass: datagen.ray_dedup
        from datagen.ray_dedup import cluster_dedup

        return _Distributed(fn, lambda records: cluster_dedup(fn, ray, records, block_size))
    if fn.two_stage:
        return _Distributed(fn, lambda records: fn.reduce(records, _map_rows(ray, records, fn.map, block_size)))
    if fn.per_record:
        return _Distributed(fn, lambda records: _map_rows(ray, records, fn, block_size))
    return fn


class _Distributed:
    """The filter `inner` whose call runs through `call`; its declarations are still readable."""

    def __init__(self, inner, call) -> None:
        self.inner, self._call = inner, call
        self.per_record, self.needs_teacher, self.two_stage = inner.per_record, inner.needs_teacher, inner.two_stage

    def __call__(self, records):
        return self._call(records)

    def annotations(self) -> dict:
        return self.inner.annotations()
