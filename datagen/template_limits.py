"""Limits on rendering a template, the one place they live (a user's --templates file is input): on
top of Jinja2's immutable sandbox (no attribute tricks, range() of at most 100,000),

- time: a render running past TEMPLATE_SECONDS (DATAGEN_TEMPLATE_SECONDS) is stopped by a watchdog
  thread that raises RenderLimit inside the rendering thread (nested range() loops);
- size: the rendered text stops at MAX_TEXT characters; `*` and `**` are checked before they run, so
  `'x' * 10000000000` and `9 ** (9 ** 9)` never start (nor are they folded at compile time); numbers
  over MAX_ARG given to a call or a filter (`'x'|center(10**10)`) are refused.

    render_limited(compiled_template, {"tasks": [...]}) -> "text", or RenderLimit("...")
"""
from __future__ import annotations

import ctypes
import functools
import os
import re
import threading
import time
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_SECONDS = 10.0
MAX_TEXT = 2_000_000      # characters of a rendered prompt, or of a string or list a template builds
MAX_POW_BITS = 64_000     # bits of a number a template may raise to a power
MAX_ARG = 1_000_000       # a number given to a call or a filter (a width, a count)


WIDTH = re.compile(r"[:%][-+ #0<>^=,_.*]*(\d+)")


class RenderLimit(Exception):
    """A template went past a limit; the message says which."""


def seconds() -> float:
    try:
        return max(0.01, float(os.environ.get("DATAGEN_TEMPLATE_SECONDS") or TEMPLATE_SECONDS))
    except ValueError:
        return TEMPLATE_SECONDS


def _check_args(args, kwargs) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARG:
            raise RenderLimit(f"a number over {MAX_ARG:,} given to a call or filter")


def _limited_filter(fn):
    @functools.wraps(fn)  # keeps jinja's pass_context/pass_environment marks
    def limited(*args, **kwargs):
        _check_args(args, kwargs)
        return fn(*args, **kwargs)
    return limited


class LimitedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.filters = {name: _limited_filter(fn) for name, fn in self.filters.items()}

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            seq, n = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * max(n, 0) > MAX_TEXT:
                raise RenderLimit(f"a string or list of over {MAX_TEXT:,} items (`*`)")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            if right * max(1, abs(left).bit_length()) > MAX_POW_BITS:
                raise RenderLimit(f"a number of over {MAX_POW_BITS:,} bits (`**`)")
        elif operator == "%" and isinstance(left, str):
            _check_args([int(d) for d in _digit_runs(left)], {})
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja's own signature
        _check_args(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any):  # '{:>9999999999}'.format(1): jinja wraps it on access
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_args([int(d) for d in _digit_runs(str(value.__self__))], {})
        return wrapped


def _digit_runs(text: str) -> list[str]:
    """The widths and precisions of a format string: '{:>99}' and '%0.5d' -> ['99', '5']."""
    return WIDTH.findall(text)


class Watchdog:
    """One daemon thread for every render: a thread past its deadline gets RenderLimit raised in it
    (CPython's PyThreadState_SetAsyncExc: it lands at the thread's next bytecode)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[int, float] = {}
        self.fired: set[int] = set()
        self.thread: threading.Thread | None = None

    def start(self, limit: float) -> None:
        tid = threading.get_ident()
        with self.lock:
            self.deadlines[tid] = time.monotonic() + limit
            self.fired.discard(tid)
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, name="datagen-template-watchdog", daemon=True)
                self.thread.start()

    def stop(self) -> None:
        tid = threading.get_ident()
        with self.lock:
            self.deadlines.pop(tid, None)
            if tid in self.fired:  # fired as the render ended: take back an exception not yet raised
                self.fired.discard(tid)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)

    def _watch(self) -> None:
        while True:
            time.sleep(0.05)
            now = time.monotonic()
            with self.lock:
                for tid, deadline in list(self.deadlines.items()):
                    if now > deadline and tid not in self.fired:
                        self.fired.add(tid)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(RenderLimit))


WATCHDOG = Watchdog()


def render_limited(template: jinja2.Template, variables: dict) -> str:
    """The template's text, or RenderLimit once it passes a limit (see the module doc)."""
    limit = seconds()
    parts, size = [], 0
    try:
        WATCHDOG.start(limit)
        try:
            for chunk in template.generate(**variables):
                size += len(chunk)
                if size > MAX_TEXT:
                    raise RenderLimit(f"the rendered text passed {MAX_TEXT:,} characters")
                parts.append(chunk)
        finally:
            WATCHDOG.stop()
    except RenderLimit as exc:
        raise RenderLimit(str(exc) or f"rendering took over {limit:g} s (a loop too long?)") from None
    except MemoryError:
        raise RenderLimit("rendering ran out of memory") from None
    return "".join(parts)
