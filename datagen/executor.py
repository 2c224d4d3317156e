"""The executor seam: where a run's work happens, chosen once from the config (`--executor local|ray`)
and handed to the session, so that `run`, `refilter` and the session never ask which one it is.

An executor answers four things:
    teacher_backend(teacher_cfg)                   the backend the session's CachedTeacher wraps
    distribute(fns)                                the session's built filters, as they run here
    generate(cfg, method_cfg, run_id, progress)    a version made and written by the workers, or None
                                                   (then the driver runs the method in its session)
    filter_version(fns, parent, out, progress, batch) -> (funnel, publish)
                                                   the parent through the filters into the VersionWriter
                                                   `out`; publish(manifest) makes the version
LocalExecutor (datagen/session.py) runs everything in this process; RayExecutor (datagen/ray/executor.py)
on Ray.

    executor = make_executor(cfg)    # a DatagenError (one line) for an unknown name or Ray missing
"""
from __future__ import annotations

from datagen.errors import DatagenError
from datagen.session import LocalExecutor

EXECUTORS = ("local", "ray")


def make_executor(cfg):
    """The executor cfg.executor names, checked before any work (Ray without its extra fails here)."""
    name = getattr(cfg, "executor", "local")
    if name not in EXECUTORS:
        raise DatagenError(f"unknown executor {name!r}; choose {' or '.join(EXECUTORS)}")
    if name == "local":
        return LocalExecutor()
    from datagen.ray.executor import RayExecutor

    return RayExecutor(getattr(cfg, "ray_address", ""), getattr(cfg, "ray_workers", 2))
