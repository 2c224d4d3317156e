"""Response cache: a SQLite table keyed by sha256(teacher name, messages/prompt, sampling).

A re-run, or a run resumed after kill -9, asks the backend only for what is not stored yet.
Each answer is written the moment it arrives (WAL mode, one commit per answer), so nothing
finished is lost. Failed requests are not stored: a re-run tries them again.

    CachedTeacher(backend, ResponseCache("runs/.cache/responses.sqlite")).complete(requests)
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Sequence

from datagen.errors import DatagenError
from datagen.outfile import is_disk_full, make_dir
from datagen.progress import Progress
from datagen.record import canonical_json, sha256_text
from datagen.teacher import Completion, OnResult, Request, TeacherStats, plain_dict
from datagen.teacher_input import checked, from_cache


def request_key(teacher_name: str, req: Request, endpoint: str = "chat") -> str:
    """The cache key: everything that changes the answer, nothing that does not (not `key`).
    A raw prompt (`req.prompt`) and chat messages never share a key; nor do the same messages sent
    as a chat turn and, flattened, as a raw completion (a backend with endpoint "completions")."""
    content = {
        "teacher": teacher_name,
        "messages": list(req.messages),
        "prompt": req.prompt,
        "sampling": plain_dict(req.sampling),  # == dataclasses.asdict: the keys stored stay valid
    }
    if req.prompt is None and endpoint == "completions":  # only then: chat keys stay as they were
        content["sent_as"] = "completions"
    return sha256_text(canonical_json(content))


OPEN_WAIT_S = 5.0  # how long a cache another process is setting up is retried (sqlite's own busy wait: 5 s)


class ResponseCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        make_dir(self.path.parent, "the response cache's folder")
        self._lock = threading.Lock()
        deadline = time.monotonic() + OPEN_WAIT_S
        while True:
            try:
                self._db = self._open()
                return
            except sqlite3.OperationalError as exc:  # a fresh file set up by several processes at once
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise self.damaged(exc) from None
                time.sleep(0.1)
            except sqlite3.DatabaseError as exc:
                raise self.damaged(exc) from None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        try:
            # Switching a new file to WAL needs it alone: SQLite answers "database is locked" at once,
            # without waiting, while another process (Ray's workers on one cache) does the same.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, teacher TEXT,"
                       " completion TEXT NOT NULL, created_at TEXT DEFAULT CURRENT_TIMESTAMP)")
            # Batch API jobs of the openai teacher (datagen/backends/batch_mode.py): sha256 of the
            # uploaded JSONL -> {"file_id", "batch_id", ...}, so a killed run resumes polling.
            db.execute("CREATE TABLE IF NOT EXISTS jobs (key TEXT PRIMARY KEY, job TEXT NOT NULL)")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def damaged(self, exc: Exception) -> DatagenError:
        """The error to show for a failed cache operation: a full disk is no damage (the answers in the
        cache are intact: SQLite rolled the write back), so it never says "delete it"."""
        if is_disk_full(exc):
            return DatagenError(f"disk full: cannot write the response cache {self.path}; the answers already "
                                "in it are kept: free some space and run the same command again to continue")
        return DatagenError(f"response cache {self.path} is damaged ({exc}): move it away or delete it, and "
                            "the run asks the teacher again for what it no longer finds")

    def get(self, key: str) -> dict | None:
        try:
            with self._lock:
                row = self._db.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
            return None if row is None else json.loads(row[0])
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise self.damaged(exc) from None

    def put(self, key: str, teacher: str, completion: Completion) -> None:
        """Stores a usable answer only (datagen.teacher_input.checked): never an error or a poisoned shape."""
        completion = checked(completion)
        if not completion.ok:
            return
        try:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO responses (key, teacher, completion) VALUES (?, ?, ?)",
                                 (key, teacher, canonical_json(completion.to_dict())))
        except sqlite3.DatabaseError as exc:
            raise self.damaged(exc) from None

    def job(self, key: str) -> dict | None:
        try:
            with self._lock:
                row = self._db.execute("SELECT job FROM jobs WHERE key = ?", (key,)).fetchone()
            return None if row is None else json.loads(row[0])
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise self.damaged(exc) from None

    def put_job(self, key: str, job: dict) -> None:
        try:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO jobs (key, job) VALUES (?, ?)", (key, json.dumps(job)))
        except sqlite3.DatabaseError as exc:
            raise self.damaged(exc) from None

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


BUDGET_ERROR = "budget_exhausted"  # the error of a request not sent because the budget was spent


class Budget:
    """Stops a run cleanly once it has sent `max_requests` requests or used `max_tokens_total`
    tokens (prompt + completion). Cache hits are free and never count. Under a token budget the
    misses are sent `batch` at a time and the budget is checked between batches, so it is exceeded
    by at most one batch: `batch` requests' prompts plus their max_tokens."""

    def __init__(self, max_requests: int | None = None, max_tokens_total: int | None = None,
                 batch: int = 8) -> None:
        self.max_requests = max_requests
        self.max_tokens_total = max_tokens_total
        self.batch = max(1, batch)

    @property
    def limited(self) -> bool:
        """Whether any limit is set."""
        return self.max_requests is not None or self.max_tokens_total is not None

    def remaining_requests(self, stats: TeacherStats) -> int | None:
        if self.max_requests is None:
            return None
        return max(0, self.max_requests - stats.requests)

    def tokens_left(self, stats: TeacherStats) -> bool:
        if self.max_tokens_total is None:
            return True
        return stats.prompt_tokens + stats.completion_tokens < self.max_tokens_total


class CachedTeacher:
    """Wraps any Teacher: answers from the cache first, sends the misses, stores answers as
    they arrive, keeps the counters for the manifest, and enforces the budget."""

    def __init__(self, inner, cache: ResponseCache | None, budget: Budget | None = None,
                 progress: Progress | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.endpoint = getattr(inner, "endpoint", "chat")  # part of the key of flattened chat requests
        self.cache = cache
        self.budget = budget or Budget()
        self.progress = progress or Progress(enabled=False)
        self.stats = TeacherStats()
        self.stopped: str | None = None  # set once the budget is spent
        if cache is not None and hasattr(inner, "attach_cache"):  # batch mode keeps its job ids there
            inner.attach_cache(cache)

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        results: list[Completion | None] = [None] * len(requests)
        keys = [request_key(self.name, r, self.endpoint) for r in requests]
        misses = []
        for i, (req, key) in enumerate(zip(requests, keys)):
            hit = self.cache.get(key) if self.cache is not None else None
            hit = from_cache(hit, req.key) if hit is not None else None  # a poisoned row is asked again
            if hit is not None:
                results[i] = hit
                self.stats.cache_hits += 1
                self.progress.update(cache_hits=1)
                if on_result:
                    on_result(i, results[i])
            else:
                misses.append(i)
        # Budget: send what fits; the rest come back as errors and `stopped` tells the method
        # to wind down, so the run ends cleanly with everything already done kept.
        allowed = self.budget.remaining_requests(self.stats)
        queue = misses if allowed is None else misses[:allowed]
        step = self.budget.batch if self.budget.max_tokens_total is not None else max(1, len(queue))
        sent = 0
        while sent < len(queue) and self.budget.tokens_left(self.stats):
            self._send(requests, keys, queue[sent:sent + step], results, on_result)
            sent += len(queue[sent:sent + step])
        for i in misses[sent:]:
            self.stopped = (f"budget reached after {self.stats.requests} requests and "
                            f"{self.stats.prompt_tokens + self.stats.completion_tokens} tokens")
            results[i] = Completion(key=requests[i].key, error=BUDGET_ERROR)
            self.stats.count_error(BUDGET_ERROR)
            if on_result:
                on_result(i, results[i])
        if not self.budget.tokens_left(self.stats) or self.budget.remaining_requests(self.stats) == 0:
            self.stopped = self.stopped or "budget reached"
        return results  # type: ignore[return-value]

    def _send(self, requests, keys, send, results, on_result) -> None:
        sub = [requests[i] for i in send]
        inner_stats = getattr(self.inner, "stats", None)
        retries_before = inner_stats.retries if inner_stats else 0
        batch_before = batch_tokens(inner_stats)

        def stored(j: int, comp: Completion) -> None:
            i = send[j]
            comp = checked(comp, requests[i])  # datagen.teacher_input: the one gate on what a teacher sends
            self.stats.requests += 1
            self.stats.add_usage(comp.usage)
            if comp.ok:
                self.stats.succeeded += 1
                if self.cache is not None:
                    self.cache.put(keys[i], self.name, comp)
            else:
                self.stats.failed += 1
                self.stats.count_error((comp.error or "error").split(":")[0])
            self.progress.update(requests=1, inflight=-1, tokens=int(comp.usage.get("completion_tokens") or 0),
                                 failed=0 if comp.ok else 1)
            results[i] = comp
            if on_result:
                on_result(i, comp)

        self.progress.update(inflight=len(sub))  # queued or in flight inside the backend
        out = self.inner.complete(sub, on_result=stored)
        for j, comp in enumerate(out):  # backends that ignore on_result still get stored
            if results[send[j]] is None:
                stored(j, comp)
        if inner_stats:
            self.stats.retries += inner_stats.retries - retries_before
            self.progress.update(retries=inner_stats.retries - retries_before)
            self.stats.batch_prompt_tokens += batch_tokens(inner_stats)[0] - batch_before[0]
            self.stats.batch_completion_tokens += batch_tokens(inner_stats)[1] - batch_before[1]
            for name in ("concurrency_trace", "batches"):  # the backend's own record of the run
                if getattr(inner_stats, name, None):
                    setattr(self.stats, name, getattr(inner_stats, name))


def batch_tokens(stats) -> tuple[int, int]:
    """Prompt and completion tokens a backend answered through a batch API (priced at the batch rate)."""
    return (getattr(stats, "batch_prompt_tokens", 0), getattr(stats, "batch_completion_tokens", 0)) if stats else (0, 0)
