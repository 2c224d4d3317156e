"""Live counts on stderr while a run works: requests, tokens, cache hits, retries, failures,
kept/rejected, a rate, and an ETA for the current stage once its rate is known. On a terminal the
line is redrawn in place; otherwise (a log file) a plain line is written every 10 s
(DATAGEN_PROGRESS_EVERY=seconds). DATAGEN_PROGRESS=0 silences it, =1 forces the live line.

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
                 stream=None, every: float | None = None) -> None:
        self.stream = stream or sys.stderr
        flag = os.environ.get("DATAGEN_PROGRESS")
        # live: redrawn in place (a terminal, DATAGEN_PROGRESS=1, or Progress(enabled=True) in code)
        live = flag == "1" or (flag != "0" and _isatty(self.stream)) or (enabled is True and every is None)
        if enabled is None:  # a log file gets a plain line every `every` seconds
            enabled = flag != "0"
        self.enabled, self.live = enabled, live
        self.every = every if every is not None else (0.5 if self.live else
                                                      float(os.environ.get("DATAGEN_PROGRESS_EVERY", "10")))
        self.desc = desc
        self.counts = dict.fromkeys(self.FIELDS, 0)
        self.start = time.monotonic()
        self._last = self.start if not self.live else 0.0
        self._printed = False
        self._lock = threading.Lock()
        self.set_total(total)

    def set_total(self, total: int | None, desc: str | None = None) -> None:
        """A new stage: its total calls; done and the ETA count from here."""
        self.total = total
        self.stage_done, self.stage_start = self.counts["requests"] + self.counts["cache_hits"], time.monotonic()
        if desc:
            self.desc = desc

    def update(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                self.counts[k] = self.counts.get(k, 0) + v
            now = time.monotonic()
            if self.enabled and now - self._last >= self.every:
                self._last = now
                self._draw(now)

    def line(self, now: float | None = None) -> str:
        c = self.counts
        now = now or time.monotonic()
        elapsed = max(1e-9, now - self.start)
        done = c["requests"] + c["cache_hits"] - self.stage_done
        rate = c["requests"] / elapsed
        parts = [f"{self.desc}: {done}" + (f"/{self.total}" if self.total else "") + " calls",
                 f"{c['inflight']} in flight", f"{rate:.1f} req/s", f"{c['tokens']} tok",
                 f"{c['cache_hits']} cached"]
        if c["retries"]:
            parts.append(f"{c['retries']} retries")
        if c["failed"]:
            parts.append(f"{c['failed']} failed")
        if c["kept"]:
            parts.append(f"kept {c['kept']} / rejected {c['rejected']}")
        elif c["rejected"]:  # records are counted as kept once the filters have run, not before
            parts.append(f"rejected {c['rejected']}")
        if self.total and done > 0:
            stage_rate = done / max(1e-9, now - self.stage_start)
            parts.append(f"ETA {max(0, self.total - done) / stage_rate:.0f}s")
        return " | ".join(parts)

    def _draw(self, now: float) -> None:
        if self.live:
            self.stream.write("\r" + self.line(now)[:160].ljust(100))
        else:
            self.stream.write(self.line(now) + "\n")
        self._printed = True
        self.stream.flush()

    def close(self) -> None:
        """Live: the final line; plain: a last line only if the run printed any (a quick failure stays one line)."""
        if self.enabled and (self.live or self._printed):
            self._draw(time.monotonic())
            if self.live:
                self.stream.write("\n")
            self.stream.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
