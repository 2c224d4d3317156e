"""Keep/drop filters. FILTERS maps a name to its class, given as "module:Class" and imported only
when used (so heavy libraries load only for the filters a run names). A filter class is a
dataclass of its options that declares what it needs (filters/base.py); the engine
(datagen.filtering) builds, binds and applies them.

    filter_class("minhash") -> filters.minhash.MinHash;  MinHash(threshold=0.8)(records) -> [None, ...]

Adding a filter: a module here with a `Filter` dataclass, plus one line below.
"""
from __future__ import annotations

import importlib

from datagen.errors import DatagenError
from filters.base import Filter, Verdict, split_verdict

__all__ = ["FILTERS", "Filter", "Verdict", "filter_class", "split_verdict"]

FILTERS = {
    "self_instruct": "filters.self_instruct:SelfInstructFilter",
    "conflicting_instances": "filters.self_instruct:ConflictingInstances",
    "exact_dup": "filters.dedup:ExactDup",
    "minhash": "filters.minhash:MinHash",
    "quality": "filters.quality:Quality",
    "length": "filters.quality:Length",
    "refusal": "filters.quality:Refusal",
    "truncated": "filters.quality:Truncated",
    "toxicity": "filters.toxicity:Toxicity",
    "semantic": "filters.semantic:Semantic",
    "judge": "filters.judge:Judge",
    "novelty": "filters.novelty:Novelty",
    "decontaminate": "filters.decontaminate:Decontaminate",
    "best_of_n": "filters.best_of_n:BestOfN",
    "constraints": "filters.constraints:Constraints",
    "support": "filters.grounding:Support",
    "faithfulness": "filters.grounding:Faithfulness",
    "closed_book": "filters.grounding:ClosedBook",
    "document_dedup": "filters.document_dedup:DocumentDedup",
}


def filter_class(name: str) -> type[Filter]:
    if name not in FILTERS:
        raise DatagenError(f"unknown filter {name!r}; choose from: {', '.join(sorted(FILTERS))}")
    module, attr = FILTERS[name].split(":")
    return getattr(importlib.import_module(module), attr)
