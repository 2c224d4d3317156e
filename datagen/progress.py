"""Live counts on stderr while a run works: requests, tokens, cache hits, retries, failures,
kept/rejected, and a rate. Silent when disabled (tests) or when stderr is not a terminal,
unless forced with DATAGEN_PROGRESS=1.

    p = Progress(total=200, desc="teacher"); p.update(requests=1, tokens=57); p.close()
"""
from __future__ import annotations

import os
import sys
import threading
import time


class Progress:
    FIELDS = ("requests", "inflight", "cache_hits", "retries", "failed", "tokens", "kept", "rejected")

    def __init__(self, enabled: bool | None = None, desc: str = "datagen", total: int | None = None,
                 stream=None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty() or os.environ.get("DATAGEN_PROGRESS") == "1"
        self.enabled = enabled
        self.desc = desc
        self.total = total
        self.stream = stream or sys.stderr
        self.counts = dict.fromkeys(self.FIELDS, 0)
        self.start = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    def set_total(self, total: int | None, desc: str | None = None) -> None:
        self.total = total
        if desc:
            self.desc = desc

    def update(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                self.counts[k] = self.counts.get(k, 0) + v
            now = time.monotonic()
            if self.enabled and now - self._last >= 0.5:
                self._last = now
                self._draw(now)

    def line(self, now: float | None = None) -> str:
        c = self.counts
        elapsed = max(1e-9, (now or time.monotonic()) - self.start)
        done = c["requests"] + c["cache_hits"]
        rate = c["requests"] / elapsed
        parts = [f"{self.desc}: {done}" + (f"/{self.total}" if self.total else "") + " calls",
                 f"{c['inflight']} in flight", f"{rate:.1f} req/s", f"{c['tokens']} tok",
                 f"{c['cache_hits']} cached"]
        if c["retries"]:
            parts.append(f"{c['retries']} retries")
        if c["failed"]:
            parts.append(f"{c['failed']} failed")
        if c["kept"] or c["rejected"]:
            parts.append(f"kept {c['kept']} / rejected {c['rejected']}")
        if self.total and done and c["requests"]:
            eta = (self.total - done) / max(rate, 1e-9)
            parts.append(f"ETA {eta:.0f}s")
        return " | ".join(parts)

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now)[:160].ljust(100))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
