"""Keep answers that follow the constraints their prompt was written with (meta["constraints"], set by
`--method constraints` or any import): the verification step of rejection sampling (RFT, Yuan et al.
2023; AutoIF, Dong et al. 2024), checked by the same library as the eval (datagen.constraints).

    Constraints()([Record.make("Hi, no commas.", output="Hi.", meta={"constraints": [{"kind": "no_commas"}]})]) -> [None]
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as option  # a filter option is called `field`
from typing import ClassVar

from datagen.constraints import constraints_of, score
from datagen.errors import DatagenError
from datagen.record import Record
from filters.base import Filter

MODES = ("strict", "loose")
MISSING = ("keep", "drop")


@dataclass
class Constraints(Filter):
    """Drop a record whose answer passes fewer than `min_pass` of its constraints."""
    per_record: ClassVar[bool] = True

    mode: str = option(default="strict", metadata={
        "help": "strict (the answer as it is) | loose (IFEval's loose variants: preamble, outro, '*' removed)"})
    min_pass: float = option(default=1.0, metadata={
        "help": "fraction of a record's constraints that must pass (1.0 = all)", "min": 0.0, "max": 1.0})
    missing: str = option(default="keep", metadata={
        "help": "a record without meta['constraints']: keep | drop (reason no_constraints)"})

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise DatagenError(f"constraints: unknown mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        if self.missing not in MISSING:
            raise DatagenError(f"constraints: unknown missing {self.missing!r}; choose one of: {', '.join(MISSING)}")

    def verdict(self, r: Record):
        try:
            cs = constraints_of(r.meta, "meta")
        except DatagenError as exc:
            return "constraints_invalid", str(exc)[:300]
        if not cs:
            return None if self.missing == "keep" else "no_constraints"
        passed = score(cs, r.output or "", r.instruction)[self.mode]
        if sum(passed) >= self.min_pass * len(cs) - 1e-9:
            return None
        return "constraint_failed", ", ".join(c.kind for c, ok in zip(cs, passed) if not ok)

    def __call__(self, records: list[Record]) -> list:
        return [self.verdict(r) for r in records]
