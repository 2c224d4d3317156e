"""Generation methods. Each is a module or a package with the same shape: a `Config` dataclass
(its fields are the method's options: help, defaults, ranges) and
`run(seeds, teacher, cfg, ctx) -> list[Record]`; prompt building and parsing are pure functions
beside it. Rejections go through ctx.reject(record, reason, stage).

Adding a method: `datagen/methods/<name>.py` (or a folder), its prompts under `prompts/<name>/`,
and one line below (plus, optionally, a preset `datagen/recipes/<name>.yaml`).

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

    @property
    def __doc__(self) -> str:  # type: ignore[override]
        return importlib.import_module(self._module).__doc__ or ""


METHODS = {
    "self_instruct": _Lazy("datagen.methods.self_instruct"),
    "answer": _Lazy("datagen.methods.answer"),
    "evol_instruct": _Lazy("datagen.methods.evol_instruct"),
    "self_align": _Lazy("datagen.methods.self_align"),
    "magpie": _Lazy("datagen.methods.magpie"),
    "self_chat": _Lazy("datagen.methods.self_chat"),
    "constraints": _Lazy("datagen.methods.constraints"),
    "documents": _Lazy("datagen.methods.documents"),
}
