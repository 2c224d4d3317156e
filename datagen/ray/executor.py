"""RayExecutor: the executor seam (datagen/executor.py) on Ray. The teacher is a pool of actors under
the driver's cache (datagen/ray/teacher.py); filters are spread over the workers
(datagen/ray/filtering.py); `generate --method answer` and `filter` have the workers make and write the
version themselves when every filter allows it (datagen/ray/generate.py, datagen/ray/write.py), else the
leading keep=smallest_id dedup runs over the parent's shards (datagen/ray/shards.py) and the driver
writes the rest.

    RayExecutor(address="", workers=2).filter_version(fns, parent, out, progress, 10_000) -> (funnel, publish)
"""
from __future__ import annotations

from datagen.filtering import stream_filters
from datagen.ray import generate as G
from datagen.ray import shards as S
from datagen.ray import write as W
from datagen.ray.filtering import distribute
from datagen.ray.runtime import init_ray, require_ray
from datagen.ray.teacher import RayTeacher


class RayExecutor:
    name = "ray"

    def __init__(self, address: str = "", workers: int = 2) -> None:
        require_ray()  # fail in one line before any work
        self.address, self.workers = address, workers

    def teacher_backend(self, teacher_cfg):
        return RayTeacher(teacher_cfg, workers=self.workers, address=self.address)

    def distribute(self, fns: list) -> list:
        ray = init_ray(self.address)
        return [(name, distribute(fn, ray)) for name, fn in fns]

    def generate(self, cfg, method_cfg, run_id: str, progress):
        plan = G.generation_plan(cfg)
        return None if plan is None else G.generate_on_workers(cfg, method_cfg, run_id, plan, progress)

    def filter_version(self, fns: list, parent, out, progress, batch: int):
        """Leading keep=smallest_id dedup filters run on the workers over the parent's shards; when every
        filter after them is per-record, the workers also write the new version's shards."""
        ray, plan = init_ray(self.address), W.worker_plan(fns)
        if plan is not None:
            blocks = W.write_blocks(ray, out, S.shard_sources(parent), fns, plan, progress=progress)
            return (W.merge_funnels([b["funnel"] for b in blocks]),
                    lambda manifest: W.publish_blocks(out, {**manifest, "written_by": "ray workers"}, blocks))
        lead = S.cluster_prefix(fns)
        if not lead:
            batches, head = parent.iter_records(batch), []
        else:
            batches, head = S.shard_dedup(ray, parent, fns[:lead], out.reject, progress)
        tail = stream_filters(fns[lead:], batches, out.add,
                              lambda lane, rejections: out.reject(rejections, lane + lead), progress)
        return head + tail, out.commit
