"""One deadline per request for many requests in flight, cheaper than one asyncio.timeout() each.

    deadlines = Deadlines(120.0)
    with deadlines.deadline():       # inside a task on the event loop
        await send()                 # -> TimeoutError after 120 to 126 s

asyncio.timeout() puts one TimerHandle per request on the event loop's heap, which orders them with a
Python __lt__ and keeps every cancelled one until it is cleaned out; these shared timers took the
openai teacher from 727k to 698k instructions a request (-4%: callgrind, 2,000 requests at
concurrency 256 against the fake server; benchmarks/README.md).
Here the requests that fall due in the same slot (timeout / 20, at most 1 s) share one timer: a
request times out between `seconds` and `seconds` + one slot after it started.

As with asyncio.timeout(), the expiry cancels the task and the block raises TimeoutError; a
cancellation from elsewhere (Ctrl-C, a cancelled gather) passes through as CancelledError.
"""
from __future__ import annotations

import asyncio
import math


class Deadlines:
    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.slot = min(1.0, self.seconds / 20)
        self._due: dict[int, set] = {}  # slot number -> the deadlines that expire then
        self._loop: asyncio.AbstractEventLoop | None = None

    def deadline(self) -> "Deadline":
        return Deadline(self)

    def _add(self, entry: "Deadline", loop: asyncio.AbstractEventLoop) -> int:
        if loop is not self._loop:  # a new event loop: the old one's timers will never fire
            self._loop, self._due = loop, {}
        due = math.ceil((loop.time() + self.seconds) / self.slot)
        waiting = self._due.get(due)
        if waiting is None:
            waiting = self._due[due] = set()
            loop.call_at(due * self.slot, self._expire, due)
        waiting.add(entry)
        return due

    def _expire(self, due: int) -> None:
        for entry in self._due.pop(due, ()):
            entry.expired = True
            entry.task.cancel()


class Deadline:
    __slots__ = ("owner", "task", "cancelling", "due", "expired")

    def __init__(self, owner: Deadlines) -> None:
        self.owner, self.expired = owner, False

    def __enter__(self) -> "Deadline":
        task = self.task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a deadline is entered inside a task")
        self.cancelling = task.cancelling()
        self.due = self.owner._add(self, task.get_loop())
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.expired:
            waiting = self.owner._due.get(self.due)
            if waiting is not None:
                waiting.discard(self)
            return
        if self.task.uncancel() <= self.cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc
