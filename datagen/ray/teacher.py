"""RayTeacher: a batch of teacher requests split into blocks and sent to a pool of actors, each holding
one backend (one `vllm.LLM` per GPU actor for `vllm`; concurrent HTTP clients for `openai`). It sits
*under* CachedTeacher, so the driver answers hits from the same response cache and stores each block's
answers as they arrive: a resumed run repeats no finished call, and local and Ray runs share one cache
(the teacher name is the backend's own).

    RayTeacher(TeacherConfig(backend="openai", ...), workers=4).complete(requests) -> [Completion, ...]
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from datagen.ray.runtime import init_ray
from datagen.teacher import Completion, OnResult, Request, TeacherStats


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
