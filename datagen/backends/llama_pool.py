"""LlamaBatchEngine in worker processes: one a core, one llama.cpp thread each, fed jobs as their slots
free up. One thread a process because llama.cpp's threads wait on each other at every step: with another
program holding a core, 2 threads in one process fall to a third of 1 thread's speed (issue 31), while a
second process only loses its own core.

    pool = LlamaPool("model.gguf", workers=2, n_seq=16, n_ctx=2048, seed=0)
    pool.run([Job("Once upon a time", 32, 0.7), ...], on_done=lambda i, gens: ...)  # gens: list[Generated]
    pool.close()

Which worker answers a job does not change its text (every worker runs the same build and file, and a
job's numbers do not depend on what is decoded beside it). `on_done(i, gens)` runs in the caller's
process as each job finishes. A worker exits when the socket to its parent closes (the parent ended,
even by kill -9).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import deque
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable, Sequence

from datagen.backends.llama_batch import Generated, Job


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def worker_main(conn, kwargs: dict) -> None:
    """A worker: load the engine, say ready, then decode whatever arrives until the parent goes."""
    from datagen.backends.llama_batch import LlamaBatchEngine
    from datagen.backends.llama_steps import Scheduler

    try:
        eng = LlamaBatchEngine(**kwargs)
    except Exception as exc:  # a bad file: tell the parent in one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", dict(eng.stats)))
    sched = Scheduler(eng, lambda i, gens: conn.send(("done", i, gens)))
    try:
        while True:
            while not sched.busy or conn.poll():
                msg = conn.recv()
                if msg[0] == "stop":
                    return
                if msg[0] == "stats":
                    conn.send(("stats", dict(eng.stats)))
                else:
                    sched.add(msg[1], msg[2])
            sched.step()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return
    finally:
        eng.close()


class LlamaPool:
    def __init__(self, model_path: str, workers: int | None = None, threads: int = 1, n_seq: int = 16,
                 n_ctx: int = 2048, seed: int = 0, n_batch: int = 512) -> None:
        self.workers = workers or usable_cores()
        self.n_seq = n_seq
        kwargs = dict(model_path=model_path, threads=threads, n_seq=n_seq, n_ctx=n_ctx, seed=seed, n_batch=n_batch)
        # A fresh interpreter a worker (no fork of a parent holding threads; unlike multiprocessing's
        # spawn, it does not re-run the caller's main script), talking pickles over a socket pair.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        self.conns, self.procs = [], []
        for _ in range(self.workers):
            mine, theirs = socket.socketpair()
            proc = subprocess.Popen([sys.executable, "-m", "datagen.backends.llama_pool", str(theirs.fileno()),
                                     json.dumps(kwargs)], pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL)
            theirs.close()
            self.conns.append(Connection(mine.detach()))
            self.procs.append(proc)
        for conn in self.conns:
            msg = self._recv(conn)
            if msg[0] == "error":
                self.close()
                raise ValueError(msg[1])

    def _recv(self, conn):
        try:
            return conn.recv()
        except (EOFError, OSError):
            raise RuntimeError("an embedded teacher worker process died (out of memory? killed?)") from None

    def run(self, jobs: Sequence[Job], on_done: Callable[[int, list[Generated]], None]) -> None:
        """Every job answered, on_done(i, gens) as each finishes. Each job goes to the least loaded worker
        (a wave of 8 prompts is 4 and 4 on two workers, not 8 on the first while the second idles), and a
        worker holds no more candidates than its slots: jobs queued on a worker that finished its wave first
        once left the other idle at the end (64 answers: 40 on one worker, 24 on the other). A freed slot
        waits one decode step for its next job."""
        todo = deque(range(len(jobs)))
        load = {c: 0 for c in self.conns}

        def feed() -> None:
            while todo:
                conn = min(self.conns, key=load.__getitem__)  # the first of equals: a fixed order
                if load[conn] and load[conn] + jobs[todo[0]].n > self.n_seq:
                    return
                i = todo.popleft()
                conn.send(("job", i, jobs[i]))
                load[conn] += jobs[i].n

        feed()
        left = len(jobs)
        while left:
            for conn in wait([c for c in self.conns if load[c]]):
                msg = self._recv(conn)
                if msg[0] != "done":
                    continue
                load[conn] -= jobs[msg[1]].n
                left -= 1
                on_done(msg[1], msg[2])
                feed()

    def worker_stats(self) -> list[dict]:
        """Each worker's counters: prompt_tokens, prompt_reused, generated_tokens, decode_calls, moves."""
        out = []
        for conn in self.conns:
            conn.send(("stats",))
            out.append(self._recv(conn)[1])
        return out

    def stats(self) -> dict:
        """The workers' counters summed."""
        total: dict = {}
        for one in self.worker_stats():
            for k, v in one.items():
                total[k] = total.get(k, 0) + v
        return total

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("stop",))
            except (OSError, BrokenPipeError):
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for conn in self.conns:
            conn.close()
        self.conns, self.procs = [], []


if __name__ == "__main__":  # a worker: python -m datagen.backends.llama_pool FD KWARGS_JSON
    worker_main(Connection(int(sys.argv[1])), json.loads(sys.argv[2]))
