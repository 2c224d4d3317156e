"""`datagen generate --executor ray` with the workers writing the version. For a method whose records
depend on each seed alone (its module says PER_SEED = True: `answer`), a pool of actors, each with its
own teacher (backend, the run's response cache, no budget), runs the method over one block of seeds at
a time and writes the block's records and method rejections into the version's temp folder (`.gen/`);
the filters and the final shards then run on the workers as for `datagen filter` (datagen/ray/write.py).
The driver holds the seed blocks (refs, or the parent version's shard paths), ids and verdicts
never, and one summary a block.

The driver path (RayTeacher under the driver's CachedTeacher) stays for every other run: a method that
needs the whole pool (self_instruct, evol_instruct, ...), a budget (--max-requests, --max-tokens-total:
one budget cannot be split across actors exactly), or a filter that must see all records in order.

    plan = generation_plan(cfg)        # None: the driver path
    version = generate_on_workers(cfg, method_cfg, run_id, plan, progress)
"""
from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import pyarrow.parquet as pq

from datagen import config as C
from datagen.versions import VersionWriter, open_version
from datagen.errors import DatagenError
from datagen.methods import METHODS
from datagen.record import Record
from datagen.versions.shards import iter_parquet, records_table, rejected_table, shard_rows, write_parquet


class SeedBlock:
    """One block of seeds, read where it is called: rows in the object store, or the first `take`
    rows of one parent shard."""

    def __init__(self, ref=None, path: str = "", take: int | None = None) -> None:
        self.ref, self.path, self.take = ref, path, take

    def __call__(self) -> list[Record]:
        if self.ref is not None:
            import ray

            return [Record.from_row(r) for r in ray.get(self.ref)]
        rows = [r for batch in iter_parquet([self.path]) for r in batch.to_pylist()]
        return [Record.from_row(r) for r in rows[:self.take]]


class _GenerateActor:
    """Holds one teacher session (backend, response cache); runs the method over one block at a time."""

    def __init__(self, cfg, run_id: str) -> None:
        from datagen.progress import Progress
        from datagen.session import Session

        self.session = Session(cfg, Path(cfg.output_dir), run_id, progress=Progress(enabled=False))

    def generate(self, block: int, source, folder: str, method: str, method_cfg) -> dict:
        s = self.session
        ctx = dataclasses.replace(s.ctx, rejections=[], stats={}, undone={})
        before = s.teacher.stats.to_dict()
        records = METHODS[method].run(source(), s.teacher, method_cfg, ctx)
        write_parquet(records_table(records), Path(folder) / f"records-{block:05d}.parquet")
        write_parquet(rejected_table(ctx.rejections), Path(folder) / f"rejected-{block:05d}.parquet")
        after = s.teacher.stats.to_dict()
        delta = {k: v - before[k] for k, v in after.items() if isinstance(v, int)}
        delta["errors"] = {k: v - before["errors"].get(k, 0) for k, v in after["errors"].items()
                           if v - before["errors"].get(k, 0)}
        return {"block": block, "generated": len(records) + len(ctx.rejections), "method_rejected": len(ctx.rejections),
                "stats": ctx.stats, "undone": ctx.undone, "teacher_stats": delta, "teacher": s.teacher.name,
                "templates": dict(s.templates.used)}

    def close(self) -> None:
        self.session.close()


def generation_plan(cfg):
    """(filters, plan) when the workers can make and write this run's version; else None."""
    from datagen.filtering import build_filters, needs_teacher
    from datagen.ray.write import worker_plan

    if not getattr(METHODS[cfg.method], "PER_SEED", False):
        return None
    if cfg.max_requests is not None or cfg.max_tokens_total is not None:
        return None
    if cfg.filters and needs_teacher(list(cfg.filters)):
        return None
    fns = build_filters(list(cfg.filters))
    plan = worker_plan(fns)
    return None if plan is None else (fns, plan)


def seed_blocks(cfg, limit: int | None, workers: int) -> tuple[list[SeedBlock], dict, str | None, int]:
    """The seed pool as blocks (a parent version: one block a shard; a seed file: rows put in the
    object store), with what the manifest says of it, the parent's ref, and the pool size."""
    import ray

    from datagen.seeds import load_seed_records, parent_info

    if cfg.from_version:
        parent = open_version(cfg.from_version, cfg.output_dir)
        blocks, left = [], limit
        for f in parent.files("records"):
            if left is not None and left <= 0:
                break
            n = pq.ParquetFile(parent.checked(f)).metadata.num_rows
            blocks.append(SeedBlock(path=str(parent.checked(f).resolve()), take=left))
            left = None if left is None else left - n
        total = parent.num_records()
        return blocks, parent_info(parent, total), parent.ref, min(total, limit or total)
    seeds, info, _ = load_seed_records(cfg)
    pool = seeds[:limit] if limit else seeds
    size = max(1, min(shard_rows(), math.ceil(len(pool) / (4 * workers))))
    blocks = [SeedBlock(ref=ray.put([r.to_row() for r in pool[i:i + size]])) for i in range(0, len(pool), size)]
    return blocks, info, None, len(pool)


def _worker_cfg(cfg):
    """The run's config as an actor sees it: local executor, paths made absolute (a worker's working
    folder is not the driver's)."""
    out = Path(cfg.output_dir).resolve()
    return dataclasses.replace(cfg, executor="local", output_dir=str(out),
                               cache=str(Path(cfg.cache).resolve() if cfg.cache else out / ".cache" / "responses.sqlite"),
                               templates=str(Path(cfg.templates).resolve()) if cfg.templates else "")


def run_actors(ray, cfg, run_id: str, blocks: list, folder: Path, method_cfg, progress) -> list[dict]:
    """Each block through one of cfg.ray_workers actors, one block per actor at a time; the summaries."""
    gpus = 1 if cfg.teacher.backend == "vllm" else 0
    actor_cls = ray.remote(num_cpus=0 if gpus else 1, num_gpus=gpus)(_GenerateActor)
    wcfg = _worker_cfg(cfg)
    actors = [actor_cls.remote(wcfg, run_id) for _ in range(min(cfg.ray_workers, max(1, len(blocks))))]
    summaries: list[dict] = [None] * len(blocks)  # type: ignore[list-item]
    pending, idle, nxt = {}, list(actors), 0
    try:
        while nxt < len(blocks) or pending:
            while idle and nxt < len(blocks):
                actor = idle.pop()
                pending[actor.generate.remote(nxt, blocks[nxt], str(folder), cfg.method, method_cfg)] = actor
                nxt += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            idle.append(pending.pop(done[0]))
            s = _get(ray, done[0])
            summaries[s["block"]] = s
            if progress is not None:
                ts = s["teacher_stats"]
                progress.update(requests=ts["requests"], cache_hits=ts["cache_hits"], failed=ts["failed"],
                                tokens=ts["prompt_tokens"] + ts["completion_tokens"])
        ray.get([a.close.remote() for a in actors])
    finally:
        for a in actors:
            ray.kill(a)  # free their CPUs for the filter tasks
        for ref in pending:  # blocks still running when another failed: read their errors, quietly
            try:
                ray.get(ref)
            except Exception:  # noqa: BLE001 - the first failure is the one raised
                pass
    return summaries


class SameId:
    """An exact-dedup stage for datagen/ray/dedup.py keyed by the record id itself."""
    keep = "smallest_id"

    def map(self, records: list[Record]) -> list[str]:
        return [r.id for r in records]


def _dropped(verdict) -> int:
    return len(verdict[0])


def check_unique_ids(ray, sources: list, lead: list) -> None:
    """Two blocks can make the same record (two seeds with one instruction): as write_version does
    locally, that is an error unless an exact_dup stage (whose key is part of the id) comes first.
    Checked on the workers; the driver gets one count a block."""
    from datagen.ray.dedup import dedup_blocks
    from filters.dedup import ExactDup

    if any(isinstance(fn, ExactDup) for _, fn in lead):
        return
    count = ray.remote(_dropped)
    if sum(ray.get([count.remote(v) for v in dedup_blocks(SameId(), ray, sources)])):
        raise DatagenError("internal: duplicate record ids among kept records (run exact_dup first)")


def _get(ray, ref):
    """ray.get, with a DatagenError raised in an actor (a bad verifier, a damaged cache) as itself:
    one line for the CLI, not Ray's wrapped traceback."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, DatagenError):
            raise DatagenError(str(exc.cause)) from None
        raise


def generate_on_workers(cfg, method_cfg, run_id: str, plan, progress=None):
    """The run's version, made and written by the Ray workers (see the module's docstring)."""
    from datagen.ray.runtime import init_ray

    from datagen.progress import Progress

    check = getattr(METHODS[cfg.method], "check_config", None)
    if check is not None:  # a bad option fails here, before any actor starts
        check(method_cfg)
    ray = init_ray(cfg.ray_address)
    fns, worker = plan
    blocks, seeds_info, parent_ref, pool = seed_blocks(cfg, method_cfg.limit, cfg.ray_workers)
    if not pool:
        raise DatagenError("no seed records to start from")
    progress = progress or Progress()
    progress.set_total(pool, desc=cfg.method)
    try:
        return _make_version(ray, cfg, method_cfg, run_id, fns, worker, blocks, seeds_info, parent_ref, progress)
    finally:
        progress.close()


def _make_version(ray, cfg, method_cfg, run_id, fns, worker, blocks, seeds_info, parent_ref, progress):
    from datagen.backends import public_config
    from datagen.ray.shards import ShardBlock
    from datagen.ray.write import merge_funnels, publish_blocks, sum_counts, write_blocks
    from datagen.session import make_sampling, teacher_section

    with VersionWriter(cfg.output_dir, cfg.name or cfg.method) as out:
        gen = out.tmp / ".gen"
        gen.mkdir()
        made = run_actors(ray, cfg, run_id, blocks, gen, dataclasses.replace(method_cfg, limit=None), progress)
        sources = [ShardBlock(str(gen / f"records-{b:05d}.parquet")) for b in range(len(made))]
        befores = [str(gen / f"rejected-{b:05d}.parquet") for b in range(len(made))]
        check_unique_ids(ray, sources, fns[:worker[0]])
        written = write_blocks(ray, out, sources, fns, worker, befores, progress)
        shutil.rmtree(gen)
        stats = sum_counts([s["teacher_stats"] for s in made])
        templates = sum_counts([s["templates"] for s in made])
        section = teacher_section(cfg.teacher, made[0]["teacher"] if made else "", make_sampling(cfg),
                                  templates, stats, None)
        manifest = {
            "method": cfg.method, "run_id": run_id, "parent": parent_ref,
            "config": public_config(C.to_dict(cfg)), "method_cfg": C.to_dict(method_cfg), "seeds": seeds_info,
            "templates": section.pop("templates"), "teacher": section.pop("teacher"),
            "sampling": section.pop("sampling"),
            "counts": {"generated": sum(s["generated"] for s in made),
                       "method_rejected": sum(s["method_rejected"] for s in made)},
            "funnel": merge_funnels([s["funnel"] for s in written]),
            "method_stats": sum_counts([s["stats"] for s in made]),
            **section,
            "undone": sum_counts([s["undone"] for s in made]),
            "written_by": "ray workers",
        }
        return publish_blocks(out, manifest, written)
