"""The Ray path (an existing engine; we build no cluster layer), behind the executor seam
(datagen/executor.py): `--executor ray` picks RayExecutor once, and the session, `run` and `refilter`
call it as they call the local one. Optional extra: datagen[ray]; nothing here imports Ray until it runs.

Public API:
    RayExecutor(address="", workers=2)         datagen.ray.executor: the seam's Ray side
    RayTeacher(teacher_cfg, workers=2, ...)    datagen.ray.teacher: teacher actors under the driver's cache
    distribute(fn, ray)                        datagen.ray.filtering: a filter spread over the workers, same verdicts
    init_ray(address=""), require_ray()        datagen.ray.runtime: start or reach Ray once a process

Modules: executor.py, runtime.py, teacher.py, filtering.py (per-record filters as map_batches, two-stage
dedup), dedup.py (keep=smallest_id dedup by shuffle and connected components on the workers), shards.py
(that dedup over a parent's shards, streamed to the driver), write.py (workers write a version's shards,
published through datagen.versions' one publish step with a "per_shard" content hash), generate.py
(`generate --method answer` on actors that write their blocks).
"""
