"""Duplicate removal. ExactDup: same normalized text (case and whitespace folded) as an earlier
record; the rejection's detail is the id of the record kept. Conversations compare all their turns. ExactIndex is the streaming form
(16-byte digests only, ~120 bytes a distinct text), used by benchmarks/dedup.py.

    ExactDup()([Record("Hi"), Record(" hi ")]) -> [None, ("exact_duplicate", "<id of first>")]
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from datagen.record import Record, normalize, sha256_text
from filters.base import Filter
from filters.clusters import check_keep, keep_smallest

FIELDS = ("instruction", "input", "output", "rejected")


def exact_text(texts: list[str]) -> str:
    """["  Hello\\n World ", "x"] -> "hello world\\x1fx": what two exact duplicates share."""
    return "\x1f".join(normalize(t).lower() for t in texts)


def exact_key(r: Record, fields: tuple[str, ...] = ("instruction", "input", "output")) -> str:
    """A conversation (a record with `messages`) is compared whole, every turn, whatever `fields` says."""
    if r.messages is not None:
        return sha256_text(exact_text([r.conversation_text()]))
    return sha256_text(exact_text([str(getattr(r, f) or "") for f in fields]))


class ExactIndex:
    """Streaming exact dedup: add(texts) -> one int per text, -1 for the first occurrence, else the
    global position (over all texts ever added) of the first occurrence.

        ExactIndex().add(["a", "A ", "b"]) -> array([-1, 0, -1])
    """

    def __init__(self) -> None:
        self.first: dict[bytes, int] = {}
        self.seen = 0

    def add(self, texts: list[str]) -> np.ndarray:
        out = np.full(len(texts), -1, np.int64)
        for i, t in enumerate(texts):
            key = hashlib.blake2b(exact_text([t]).encode("utf-8"), digest_size=16).digest()
            pos = self.first.setdefault(key, self.seen + i)
            if pos != self.seen + i:
                out[i] = pos
        self.seen += len(texts)
        return out


@dataclass
class ExactDup(Filter):
    """Drop a record whose normalized fields equal an earlier record's; detail = the kept one's id.
    Two stages for a distributed run: keys per block (map), then one ordered pass (reduce).
    keep=smallest_id keeps the smallest id of each group of equal texts, whatever the order."""
    two_stage: ClassVar[bool] = True
    fields: list[str] = field(default_factory=lambda: ["instruction", "input", "output"],
                              metadata={"help": f"fields compared, of {', '.join(FIELDS)}"})
    keep: str = field(default="first", metadata={"help": "first (the first record of a duplicate group wins) "
                                                         "| smallest_id (the smallest id wins: order-free)"})

    def __post_init__(self) -> None:
        unknown = [f for f in self.fields if f not in FIELDS]
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; valid: {', '.join(FIELDS)}")
        check_keep(self.keep)

    def stream(self):
        """Verdicts batch by batch with the first-seen map kept between batches (keep=first only:
        smallest_id must see every record)."""
        if self.keep != "first":
            return None
        first: dict[bytes, str] = {}

        def step(records: list[Record]) -> list:
            out = []
            for r, k in zip(records, self.map(records)):
                kept = first.setdefault(bytes.fromhex(k)[:16], r.id)
                out.append(None if kept == r.id else ("exact_duplicate", kept))
            return out
        return step

    def map(self, records: list[Record]) -> list[str]:
        return [exact_key(r, tuple(self.fields)) for r in records]

    def reduce(self, records: list[Record], keys: list[str]) -> list:
        if self.keep == "smallest_id":
            return _smallest(records, keys)
        first: dict[str, str] = {}
        out = []
        for r, k in zip(records, keys):
            if k in first:
                out.append(("exact_duplicate", first[k]))
            else:
                first[k] = r.id
                out.append(None)
        return out


def _smallest(records: list[Record], keys: list[str]) -> list:
    """keep=smallest_id: each group of equal keys keeps its smallest id."""
    first: dict[str, int] = {}
    u, v = [], []
    for i, k in enumerate(keys):
        j = first.setdefault(k, i)
        if j != i:
            u.append(j)
            v.append(i)
    winners = keep_smallest([r.id for r in records], np.array(u, np.int64), np.array(v, np.int64))
    return [None if w is None else ("exact_duplicate", w) for w in winners]
