"""Generation methods. Each is a module with a `Config` dataclass and
`run(seeds, teacher, cfg, ctx) -> list[Record]`; prompt building and parsing are pure functions
inside it. Rejections go through ctx.reject(record, reason, stage).

    METHODS["answer"].run(seeds, teacher, METHODS["answer"].Config(), ctx) -> [Record, ...]
"""
from __future__ import annotations

import importlib


class _Lazy:
    """Import a method's module on first use, so `datagen --help` stays fast."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._module), attr)


METHODS = {
    "self_instruct": _Lazy("datagen.methods.self_instruct"),
    "answer": _Lazy("datagen.methods.answer"),
    "evol_instruct": _Lazy("datagen.methods.evol_instruct"),
    "self_align": _Lazy("datagen.methods.self_align"),
}
