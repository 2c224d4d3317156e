"""Batch mode of the openai teacher (`--teacher.batch true`): the requests of one complete() call go
to the provider's batch API instead of one HTTP request each (OpenAI: half the price, results within
24 h, no rate limits to fight), and come back as the same Completions.

    BatchMode(teacher).complete(requests, on_result)   # async; on the teacher's event loop

- Each request is one JSONL line {"custom_id": <its response-cache key>, "method": "POST",
  "url": "/v1/chat/completions", "body": <the body a normal request sends>}; identical requests are
  sent once. Files are split at the provider's limits (50,000 requests, 200 MB) and by endpoint.
- Each file is also written to <cache folder>/batches/<sha>.jsonl: the input of `vllm run-batch`,
  whose output `datagen cache-load` puts into the response cache (docs/teachers.md).
- The job ids are kept in the response cache (table jobs, keyed by the file's sha256) as soon as the
  provider gives them: a run killed while it waits resumes polling the same batch, uploading nothing.
- Polled every `batch_poll` seconds with progress and an ETA from the provider's request counts.
- A line answered 2xx becomes a Completion (into the response cache through CachedTeacher, so what
  comes after the teacher is unchanged); a line that failed retryably (5xx, 429, expired, cancelled,
  a failed batch) goes through the normal path; a refused one (4xx) is reported with its error.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from pathlib import Path

from datagen.backends.batch_api import TERMINAL, BatchAPI, split
from datagen.backends.openai_errors import Failure, parse_body, status_failure
from datagen.teacher_input import sane_usage
from datagen.cache import request_key
from datagen.errors import DatagenError
from datagen.teacher import Completion, OnResult, Request

log = logging.getLogger("datagen")


class BatchMode:
    def __init__(self, teacher) -> None:
        self.t = teacher
        self.api = BatchAPI(teacher._http)
        self.store = None  # the run's ResponseCache (attach_cache), where the job ids live
        opts = teacher.opts
        self.poll, self.submit = float(opts["batch_poll"]), opts["batch_submit"]
        self.max_requests, self.max_bytes = int(opts["batch_max_requests"]), int(opts["batch_max_bytes"])

    async def complete(self, requests: list[Request], on_result: OnResult | None) -> list[Completion]:
        t = self.t
        keys = [request_key(t.name, r, t.endpoint) for r in requests]
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)  # each distinct request once
        by_endpoint: dict[str, list[bytes]] = {}
        for key, i in first.items():
            s = requests[i].sampling
            _, path, body = t.body_of(requests[i], s.n, s.seed)
            line = {"custom_id": key, "method": "POST", "url": "/v1" + path, "body": body}
            by_endpoint.setdefault("/v1" + path, []).append(json.dumps(line).encode() + b"\n")
        jobs = [await self._submit(b"".join(f), endpoint) for endpoint, lines in by_endpoint.items()
                for f in split(lines, self.max_requests, self.max_bytes)]
        answers: dict[str, dict] = {}
        for job in await asyncio.gather(*(self._wait(job) for job in jobs)):  # in the order they were sent
            counts = job["batch"].get("request_counts") or {}
            t.stats.batches.append({"id": job["batch_id"], "status": job["batch"].get("status"),
                                    "requests": job.get("requests"), "failed": counts.get("failed", 0)})
            for line in await self.api.lines(job["batch"].get("output_file_id")) + \
                    await self.api.lines(job["batch"].get("error_file_id")):
                answers[str(line.get("custom_id"))] = line
        out: list[Completion | None] = [None] * len(requests)
        again = []
        for i, req in enumerate(requests):
            comp = self._completion(req, answers.get(keys[i]))
            if comp is None:
                again.append(i)
                continue
            out[i] = comp
            if on_result:
                on_result(i, comp)
        if again:
            log.info("batch: %d requests the batch did not answer go through the normal path", len(again))
            await self._normal_path(requests, again, out, on_result)
        return out  # type: ignore[return-value]

    async def _submit(self, data: bytes, endpoint: str) -> dict:
        sha = hashlib.sha256(data).hexdigest()
        job = (self.store.job(sha) if self.store is not None else None) or {}
        if job.get("batch_id"):
            log.info("batch: resuming %s (%d requests), uploaded by an earlier run", job["batch_id"], data.count(b"\n"))
            return {**job, "sha": sha}
        where, count = self._write(sha, data), data.count(b"\n")
        if not self.submit:
            raise DatagenError(f"batch: {count} requests written to {where} and not sent "
                               "(batch_submit false): run them (e.g. vllm run-batch -i FILE -o OUT --model M), "
                               "load OUT with `datagen cache-load OUT`, then run this command again")
        job = {"endpoint": endpoint, "requests": count, **job}
        if not job.get("file_id"):
            job["file_id"] = await self.api.upload(data)
            self._keep(sha, job)
        batch = await self.api.create(job["file_id"], endpoint)
        job["batch_id"] = str(batch["id"])
        self._keep(sha, job)
        log.info("batch: %s created for %d requests (%s)", job["batch_id"], job["requests"], endpoint)
        return {**job, "sha": sha}

    def _write(self, sha: str, data: bytes) -> str:
        if self.store is None:
            return "(no response cache: nowhere)"
        folder = Path(self.store.path).parent / "batches"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{sha[:16]}.jsonl"
        path.write_bytes(data)
        return str(path)

    def _keep(self, sha: str, job: dict) -> None:
        if self.store is not None:
            self.store.put_job(sha, {k: v for k, v in job.items() if k not in ("sha", "batch")})

    async def _wait(self, job: dict) -> dict:
        """Poll until the batch ends; log its progress and an ETA when its counts change."""
        seen, t0 = None, time.time()
        while True:
            batch = await self.api.get(job["batch_id"])
            status, counts = str(batch.get("status")), batch.get("request_counts") or {}
            if (status, counts) != seen:
                seen = (status, counts)
                log.info("batch: %s %s%s", job["batch_id"], status, progress(counts, batch.get("in_progress_at"), t0))
            if status in TERMINAL:
                break
            await asyncio.sleep(self.poll)
        if status == "failed":
            log.warning("batch: %s failed (%s): its requests go through the normal path", job["batch_id"],
                        "; ".join(str(e.get("message")) for e in (batch.get("errors") or {}).get("data") or [])[:300])
        self._keep(job["sha"], {**job, "status": status})
        return {**job, "batch": batch}

    def _completion(self, req: Request, line: dict | None) -> Completion | None:
        """A batch output line -> a Completion (counted in the teacher's stats); None: the normal path."""
        resp = (line or {}).get("response") if isinstance(line, dict) else None
        resp = resp if isinstance(resp, dict) else {}
        code = resp.get("status_code") if isinstance(resp.get("status_code"), int) else 0
        chat = req.prompt is None and self.t.cfg.endpoint == "chat"
        stats = self.t.stats
        if 200 <= code < 300:
            try:
                choices, usage = parse_body(json.dumps(resp.get("body")).encode(), chat)
            except Failure:
                return None
            if len(choices) < req.sampling.n:
                return None
            usage = sane_usage(usage, req, choices)
            stats.requests += 1
            stats.succeeded += 1
            stats.add_usage(usage)
            stats.batch_prompt_tokens += usage["prompt_tokens"]
            stats.batch_completion_tokens += usage["completion_tokens"]
            return Completion(choices=tuple(choices[: req.sampling.n]), usage=usage, key=req.key)
        if code:
            failure = status_failure(code, {}, json.dumps(resp.get("body")).encode())
            if not failure.retryable:
                stats.requests += 1
                stats.failed += 1
                stats.count_error(failure.kind)
                return Completion(key=req.key, error=self.t.scrub(f"{failure.kind}: {failure.message}")[:500])
        return None  # expired, cancelled, a failed batch, a retryable status: the normal path

    async def _normal_path(self, requests, indices, out, on_result) -> None:
        todo = iter(indices)

        async def worker() -> None:
            for i in todo:
                out[i] = await self.t._one(requests[i])
                if on_result:
                    on_result(i, out[i])

        await asyncio.gather(*(worker() for _ in range(min(self.t._slots.ceiling, len(indices)))))


def load_output(path: str, cache) -> tuple[int, int]:
    """A batch output file (OpenAI's, or `vllm run-batch -o` run on the JSONL datagen wrote) -> the
    response cache: each 2xx line under its custom_id, the cache key datagen gave the request.
    Returns (loaded, skipped); the skipped lines are asked again by the next run."""
    loaded = skipped = 0
    try:
        rows = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatagenError(f"cannot read {path}: {exc}") from None
    for n, raw in enumerate(rows, 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            key, resp = str(line["custom_id"]), line.get("response") or {}
            body = resp.get("body")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise DatagenError(f"{path}: line {n} is not a batch output line (JSON with custom_id)") from None
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise DatagenError(f"{path}: line {n} has custom_id {key[:40]!r}, not a key datagen wrote "
                               "(the input must be a JSONL file datagen's batch mode wrote)")
        try:
            if not 200 <= int(resp.get("status_code") or 0) < 300 or not isinstance(body, dict):
                raise Failure("skipped", "", False)
            first = (body.get("choices") or [{}])[0]
            chat = isinstance(first, dict) and "message" in first
            choices, usage = parse_body(json.dumps(body).encode(), chat)
        except (Failure, ValueError, TypeError, IndexError, KeyError):
            skipped += 1
            continue
        cache.put(key, f"batch-file:{Path(path).name}", Completion(choices=tuple(choices), usage=usage))
        loaded += 1
    return loaded, skipped


def progress(counts: dict, started_at, t0: float) -> str:
    """': 1,200/5,000 done, 3 failed, ETA 12 min' from the provider's request counts."""
    total, done, failed = (int(counts.get(k) or 0) for k in ("total", "completed", "failed"))
    if not total:
        return ""
    text = f": {done + failed:,}/{total:,} done, {failed:,} failed"
    elapsed = time.time() - (float(started_at) if started_at else t0)
    if 0 < done + failed < total and elapsed > 0:
        eta = (total - done - failed) / ((done + failed) / elapsed)
        text += f", ETA {eta / 60:.0f} min" if eta >= 90 else f", ETA {eta:.0f} s"
    return text
