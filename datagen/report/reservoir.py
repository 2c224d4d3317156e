"""A seeded uniform sample of k rows of a stream of record batches, read once (Li's Algorithm L,
"Reservoir-sampling algorithms of time complexity O(n(1 + log(N/n)))", 1994): the next position that
enters the sample is drawn ahead, so only the rows the sample takes are ever built, and about
k * (1 + ln(N / k)) random draws are made for N rows instead of N.

Each reservoir has its own random stream (seed and name), so which rows it takes depends on the
row positions only: the same for a version in one file or in shards, read in any batch size.

    r = Reservoir(3000, seed=0, name="analysis")
    for batch in version.iter_batches(): r.offer(batch, Record.from_row)
    r.items -> 3000 records (all of them when the stream is shorter), r.seen -> rows offered
"""
from __future__ import annotations

import math
import random
from typing import Callable

import pyarrow as pa


class Reservoir:
    def __init__(self, k: int, seed: int = 0, name: str = "") -> None:
        self.k, self.rng = k, random.Random(f"{seed}:{name}")
        self.items: list = []
        self.seen = 0
        self.w = self._shrink(1.0)
        self.next = k - 1 + self._gap() if k > 0 else math.inf  # first position past the fill to enter

    def _u(self) -> float:
        return 1.0 - self.rng.random()  # in (0, 1]: its log is finite

    def _shrink(self, w: float) -> float:
        return w * math.exp(math.log(self._u()) / self.k) if self.k > 0 else 0.0

    def _gap(self) -> int:
        if self.w >= 1.0:
            return 1
        return int(math.log(self._u()) / math.log(1.0 - self.w)) + 1

    def positions(self, n: int) -> list[tuple[int, int]]:
        """(offset in the next n rows, slot in the sample) of every row of them the sample takes, in order;
        the rows count as seen."""
        start, end, picks = self.seen, self.seen + n, []
        for pos in range(start, min(end, self.k)):
            picks.append((pos - start, pos))
        while self.next < end:
            picks.append((self.next - start, self.rng.randrange(self.k)))
            self.w = self._shrink(self.w)
            self.next += self._gap()
        self.seen = end
        return picks

    def offer(self, batch, build: Callable[[dict], object]) -> None:
        """A pyarrow RecordBatch: each row the sample takes is built (build(row dict)) into its slot."""
        picks = self.positions(batch.num_rows)
        if not picks:
            return
        rows = batch.take(pa.array([offset for offset, _ in picks], pa.int64())).to_pylist()
        for (_, slot), row in zip(picks, rows):
            item = build(row)
            if slot == len(self.items):
                self.items.append(item)
            else:
                self.items[slot] = item
