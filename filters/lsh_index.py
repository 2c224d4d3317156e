"""LSH band indexes for filters.minhash: band key -> ordinals of the kept texts in that bucket.

BandIndex keeps every (band key, ordinal) pair in a few sorted numpy arrays (12 bytes a pair, merged
size-tiered like an LSM tree) and answers a whole batch with np.searchsorted. DatasketchIndex
wraps datasketch.MinHashLSH (a Python dict of sets per band, ~10x the memory) for comparison.
Rows is the append-only block array the kept signatures live in.

    idx = BandIndex(); idx.add(keys[:2], np.array([0, 1], np.uint32)); idx.query(keys) -> (q, ords)
"""
from __future__ import annotations

import numpy as np


class BandIndex:
    def __init__(self) -> None:
        self.segments: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted keys uint64, ordinals uint32)

    def add(self, keys: np.ndarray, ords: np.ndarray, sig=None) -> None:
        """keys (m, bands) uint64 for m texts with ordinals ords (m,)."""
        flat = keys.ravel()
        vals = np.repeat(ords.astype(np.uint32), keys.shape[1])
        order = np.argsort(flat, kind="stable")
        self.segments.append((flat[order], vals[order]))
        # size-tiered merging: O(log n) segments, each merge touches data a bounded number of times
        while len(self.segments) > 1 and self.segments[-2][0].size <= 2 * self.segments[-1][0].size:
            (k2, v2), (k1, v1) = self.segments.pop(), self.segments.pop()
            k, v = np.concatenate((k1, k2)), np.concatenate((v1, v2))
            order = np.argsort(k, kind="stable")
            self.segments.append((k[order], v[order]))

    def query(self, keys: np.ndarray, has: np.ndarray, sig=None) -> tuple[np.ndarray, np.ndarray]:
        """Unique (text row, kept ordinal) pairs sharing at least one band key."""
        n, b = keys.shape
        rows = np.repeat(np.arange(n), b)
        flat = keys.ravel()
        mask = np.repeat(has, b)
        rows, flat = rows[mask], flat[mask]
        found_q, found_v = [], []
        for skeys, svals in self.segments:
            lo = np.searchsorted(skeys, flat, "left")
            hi = np.searchsorted(skeys, flat, "right")
            cnt = hi - lo
            hit = cnt > 0
            if not hit.any():
                continue
            lo, cnt = lo[hit], cnt[hit]
            total = int(cnt.sum())
            offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            found_v.append(svals[np.repeat(lo, cnt) + offs].astype(np.int64))
            found_q.append(np.repeat(rows[hit], cnt))
        if not found_q:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pair = np.unique((np.concatenate(found_q) << 32) | np.concatenate(found_v))
        return pair >> 32, pair & 0xFFFFFFFF

    def nbytes(self) -> int:
        return sum(k.nbytes + v.nbytes for k, v in self.segments)


class DatasketchIndex:
    """datasketch.MinHashLSH with the same bands and rows, fed LeanMinHash objects built from our
    signatures (datasketch 2.0, scheme "affine32": same permutations as filters.minhash)."""

    def __init__(self, num_perm: int, bands: int, rows: int, seed: int) -> None:
        from datasketch import MinHashLSH

        self.lsh = MinHashLSH(num_perm=num_perm, params=(bands, rows))
        self.seed = seed

    def _lean(self, sig_row: np.ndarray):
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=sig_row, scheme="affine32")

    def add(self, keys: np.ndarray, ords: np.ndarray, sig: np.ndarray) -> None:
        for o, row in zip(ords.tolist(), sig):
            self.lsh.insert(o, self._lean(row), check_duplication=False)

    def query(self, keys: np.ndarray, has: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q, v = [], []
        for i in np.flatnonzero(has):
            for o in self.lsh.query(self._lean(sig[i])):
                q.append(i)
                v.append(o)
        return np.asarray(q, np.int64), np.asarray(v, np.int64)

    def nbytes(self) -> int:
        return -1  # not measurable cheaply: see benchmarks/dedup.py (RSS)


class Rows:
    """An append-only array kept as fixed-size blocks, so growing it never copies what is stored."""

    def __init__(self, shape: tuple, dtype, block: int = 8192) -> None:
        self.shape, self.dtype, self.block = shape, dtype, block
        self.blocks: list[np.ndarray] = []
        self.size = 0

    def append(self, rows: np.ndarray) -> None:
        done = 0
        while done < len(rows):
            if self.size % self.block == 0:
                self.blocks.append(np.empty((self.block, *self.shape), self.dtype))
            at = self.size % self.block
            n = min(self.block - at, len(rows) - done)
            self.blocks[-1][at:at + n] = rows[done:done + n]
            done, self.size = done + n, self.size + n

    def take(self, idx: np.ndarray) -> np.ndarray:
        out = np.empty((len(idx), *self.shape), self.dtype)
        which, at = np.divmod(idx, self.block)
        for b in np.unique(which):
            sel = which == b
            out[sel] = self.blocks[b][at[sel]]
        return out

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.blocks)
