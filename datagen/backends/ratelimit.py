"""Client-side rate limits for HTTP teachers: token buckets, one per limit, all of which must agree.

Providers enforce requests and tokens per minute (OpenAI counts a request's prompt tokens plus
`max_tokens * n` against TPM when it is admitted), and they enforce them over sub-minute windows,
so a bucket holds at most one second's worth: 600 RPM means 10 requests per second, not a burst of
600 at once.

    limits = RateLimits(requests_per_minute=600, tokens_per_minute=90_000)
    await limits.acquire(cost=1_200)   # waits until one request and 1,200 tokens are free
"""
from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """`rate` units per second, at most `capacity` banked. A cost above the capacity is admitted
    once the bucket is full and leaves it in debt, so one large request cannot block forever.

        TokenBucket(rate=10, capacity=10): 25 takes of 1 at t=0 finish at about t=1.5 s
    """

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(1.0, rate))
        self.level = self.capacity
        self.stamp = time.monotonic()
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def take(self, cost: float = 1.0) -> None:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:  # the bucket outlives one event loop
            self._lock = (loop, asyncio.Lock())
        async with self._lock[1]:  # first come, first served
            while True:
                now = time.monotonic()
                self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
                self.stamp = now
                need = min(cost, self.capacity)
                if self.level >= need:
                    self.level -= cost
                    return
                await asyncio.sleep((need - self.level) / self.rate)


class RateLimits:
    """Any of the four limits may be None (no limit)."""

    def __init__(self, requests_per_second: float | None = None, requests_per_minute: float | None = None,
                 tokens_per_second: float | None = None, tokens_per_minute: float | None = None) -> None:
        per_s = lambda v, div: None if not v else float(v) / div  # noqa: E731
        self.request_buckets = [TokenBucket(r) for r in (per_s(requests_per_second, 1), per_s(requests_per_minute, 60))
                                if r]
        self.token_buckets = [TokenBucket(r) for r in (per_s(tokens_per_second, 1), per_s(tokens_per_minute, 60)) if r]

    def __bool__(self) -> bool:
        return bool(self.request_buckets or self.token_buckets)

    async def acquire(self, cost: float) -> None:
        for b in self.request_buckets:
            await b.take(1)
        for b in self.token_buckets:
            await b.take(cost)
