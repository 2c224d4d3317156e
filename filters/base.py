"""The filter protocol. A filter is a dataclass whose fields are its options (help text in the
field metadata, `min`/`max` for ranges) and whose call maps a batch of records to one verdict per
record: None keeps it, a snake_case reason drops it, and (reason, detail) drops it with a detail
such as the id of the record it duplicates (datatrove's filter-with-reason).

What a filter needs is declared on its class, never sniffed:
- `per_record`: the verdict for a record depends on that record alone, so the batch may be split
  into blocks anywhere (Ray runs it per block);
- `needs_teacher`: `bind(ctx)` is called with the session context (teacher, templates, sampling)
  before the first call;
- `two_stage`: `map(records)` gives one picklable value per record (worker side), and
  `reduce(records, values)` gives the verdicts in one ordered pass (driver side); the call is
  `reduce(records, map(records))` (exact and MinHash dedup).
- `annotations()`: meta merged into the records after a call (the LLM judge's scores); meta is not
  part of a record's id;
- `stream()`: a callable over successive batches whose verdicts equal one call over all of them
  joined, or None when the filter must see every record at once. Per-record filters stream as they
  are; exact and MinHash dedup keep their index between batches (`datagen filter` then holds one
  batch plus the indexes, never the whole parent).

    ExactDup()([Record("Hi"), Record(" hi ")]) -> [None, ("exact_duplicate", "<id of first>")]
"""
from __future__ import annotations

from typing import ClassVar

from datagen.record import Record

Verdict = str | tuple[str, str] | None


def split_verdict(v: Verdict) -> tuple[str, str] | None:
    if v is None:
        return None
    if isinstance(v, tuple):
        return v[0], v[1]
    return v, ""


class Filter:
    """Base of every filter: subclasses are dataclasses and override `__call__` (or `map` and
    `reduce` with `two_stage = True`)."""

    per_record: ClassVar[bool] = False
    needs_teacher: ClassVar[bool] = False
    two_stage: ClassVar[bool] = False

    def __call__(self, records: list[Record]) -> list[Verdict]:
        if self.two_stage:
            return self.reduce(records, self.map(records))
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def bind(self, ctx) -> None:
        """Called once with the session context when `needs_teacher` is set."""

    def map(self, records: list[Record]) -> list:
        raise NotImplementedError

    def reduce(self, records: list[Record], values: list) -> list[Verdict]:
        raise NotImplementedError

    def stream(self):
        """batches -> verdicts with state kept between calls, or None (see the module docstring)."""
        return self.__call__ if self.per_record else None

    def annotations(self) -> dict[str, dict]:
        """{record_id: {meta key: value}} from the last call."""
        return {}
