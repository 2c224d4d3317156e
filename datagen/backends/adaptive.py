"""Requests in flight, bounded by a limit that backs off on HTTP 429 and recovers step by step.

    limit = AdaptiveLimit(16)                  # up to 16 in flight
    epoch = await limit.acquire()
    ... send; the server answers 429 ...
    limit.release(epoch, "rate_limited")       # limit 16 -> 12; trace [[0.8, 12, "429"]]

- On a 429 the limit drops to x0.75 (at least 1). A burst counts once: a 429 to a request that
  was sent before the last drop (an older epoch) does not drop it again.
- After `recover_after` successes in a row the limit grows by one, up to the configured
  concurrency (NeMo Data Designer's rule: x0.75 down, +1 after 25 successes).
- The waiting request's own retry still honours Retry-After (openai_compat._delay).
- `trace` lists each change as [seconds since start, new limit, "429" | "recover"]; it goes into
  the run's teacher stats (concurrency_trace) and the report.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque

TRACE_CAP = 2000  # changes kept; a run that changes its limit more often keeps the first ones


class AdaptiveLimit:
    def __init__(self, ceiling: int, *, adaptive: bool = True, recover_after: int = 25, factor: float = 0.75) -> None:
        self.ceiling = self.limit = max(1, int(ceiling))
        self.adaptive, self.recover_after, self.factor = adaptive, max(1, int(recover_after)), factor
        self.inflight = self.epoch = self.streak = 0
        self.lowest = self.limit
        self.trace: list[list] = []
        self.start = time.monotonic()
        self._waiting: deque[asyncio.Future] = deque()

    def take(self) -> int | None:
        """A free slot now (its epoch), or None: then await acquire()."""
        if self.inflight < self.limit and not self._waiting:
            self.inflight += 1
            return self.epoch
        return None

    async def acquire(self) -> int:
        if self.inflight < self.limit and not self._waiting:
            self.inflight += 1
            return self.epoch
        fut = asyncio.get_running_loop().create_future()
        self._waiting.append(fut)
        try:
            await fut  # release() hands the slot over (inflight already counted)
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._free()
            else:
                self._waiting.remove(fut)
            raise
        return self.epoch

    def release(self, epoch: int, outcome: str) -> None:
        """outcome: "ok", "rate_limited" (HTTP 429) or anything else (no change)."""
        if outcome == "rate_limited":
            self.streak = 0
            if self.adaptive and epoch == self.epoch:
                self.epoch += 1
                self._set(max(1, int(self.limit * self.factor)), "429")
        elif outcome == "ok":
            self.streak += 1
            if self.adaptive and self.streak >= self.recover_after and self.limit < self.ceiling:
                self.streak = 0
                self._set(self.limit + 1, "recover")
        self._free()

    def _set(self, limit: int, why: str) -> None:
        self.limit = limit
        self.lowest = min(self.lowest, limit)
        if len(self.trace) < TRACE_CAP:
            self.trace.append([round(time.monotonic() - self.start, 3), limit, why])

    def _free(self) -> None:
        self.inflight -= 1
        while self._waiting and self.inflight < self.limit:
            fut = self._waiting.popleft()
            if not fut.done():
                self.inflight += 1
                fut.set_result(None)
