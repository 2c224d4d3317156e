"""Duplicate removal. ExactDup: same normalized text (case and whitespace folded) as an earlier
record; the rejection's detail is the id of the record kept. Conversations compare all their turns. ExactIndex is the streaming form
(64-bit digests in sorted numpy segments, 12 bytes a distinct text), used by benchmarks/dedup.py.

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
    global position (over all texts ever added) of the first occurrence. Keys are 64-bit blake2b
    digests of the normalized text (a chance collision among 10^8 texts: ~3 in 10^4) in sorted
    numpy segments with their first positions: 12 bytes a distinct text.

        ExactIndex().add(["a", "A ", "b"]) -> array([-1, 0, -1])
    """

    MAX_MERGE = 1 << 25

    def __init__(self) -> None:
        self.segments: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted uint64 keys, uint32 positions)
        self.seen = 0

    def add(self, texts: list[str]) -> np.ndarray:
        keys = np.fromiter((int.from_bytes(hashlib.blake2b(exact_text([t]).encode("utf-8"), digest_size=8).digest(),
                                           "little") for t in texts), np.uint64, len(texts))
        out = np.full(len(texts), -1, np.int64)
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        found = np.full(len(uniq), -1, np.int64)
        for skeys, spos in self.segments:
            at = np.minimum(np.searchsorted(skeys, uniq), len(skeys) - 1)
            hit = (skeys[at] == uniq) & (found < 0)
            found[hit] = spos[at[hit]]
        earlier = found[inverse]
        own = self.seen + first[inverse]
        out[earlier >= 0] = earlier[earlier >= 0]
        later = (earlier < 0) & (own != self.seen + np.arange(len(texts)))
        out[later] = own[later]
        new = found < 0
        self._insert(uniq[new], (self.seen + first[new]).astype(np.uint32))
        self.seen += len(texts)
        return out

    def _insert(self, keys: np.ndarray, pos: np.ndarray) -> None:
        if keys.size == 0:
            return
        self.segments.append((keys, pos))  # np.unique gave them sorted
        while (len(self.segments) > 1 and self.segments[-2][0].size <= 2 * self.segments[-1][0].size
               and self.segments[-2][0].size + self.segments[-1][0].size <= self.MAX_MERGE):
            (k2, p2), (k1, p1) = self.segments.pop(), self.segments.pop()
            k, p = np.concatenate((k1, k2)), np.concatenate((p1, p2))
            order = np.argsort(k, kind="stable")
            self.segments.append((k[order], p[order]))

    @property
    def size(self) -> int:
        return sum(k.size for k, _ in self.segments)

    def nbytes(self) -> int:
        return sum(k.nbytes + p.nbytes for k, p in self.segments)


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
