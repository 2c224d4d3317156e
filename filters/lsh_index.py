"""LSH band indexes for filters.minhash: band key -> ordinals of the kept texts in that bucket.

BandIndex keeps every (band key, ordinal) pair packed in a few sorted uint64 arrays (8 bytes a pair,
merged size-tiered like an LSM tree) and answers a whole batch with np.searchsorted. DatasketchIndex
wraps datasketch.MinHashLSH (a Python dict of sets per band, ~10x the memory) for comparison.
Rows is the append-only block array the kept signatures live in.

    idx = BandIndex(); idx.add(keys[:2], np.array([0, 1], np.uint32)); idx.query(keys) -> (q, ords)
"""
from __future__ import annotations

import numpy as np

from filters.shingles import BAND_MUL, fmix64


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, num_perm) signatures -> (n, bands) uint64 keys; equal key = equal band (w.h.p.)."""
    n = sig.shape[0]
    parts = sig[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    acc = np.zeros((n, bands), np.uint64)
    with np.errstate(over="ignore"):
        for j in range(rows):
            acc = (acc ^ parts[:, :, j]) * BAND_MUL
        acc += np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)
        return fmix64(acc)



def batch_pairs(keys: np.ndarray, has: np.ndarray, window: int = 16) -> list[tuple[int, int]]:
    """(i, j), i < j, sharing a band key within one batch. Each text is paired with at most
    `window` earlier members of a bucket, so a batch of many copies stays linear."""
    n, b = keys.shape
    rows = np.repeat(np.arange(n), b).reshape(n, b)[has].ravel()
    flat = keys[has].ravel()
    order = np.argsort(flat, kind="stable")
    flat, rows = flat[order], rows[order]
    same = flat[1:] == flat[:-1]
    if not same.any():
        return []
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    sizes = np.diff(np.concatenate((starts, [flat.size])))
    pairs = set()
    for s, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        members = sorted(set(rows[s:s + size].tolist()))
        for y in range(1, len(members)):
            for x in range(max(0, y - window), y):
                pairs.add((members[x], members[y]))
    return sorted(pairs)


class BandIndex:
    """Each (band key, ordinal) pair packed in one uint64: the key's top 32 bits, then the ordinal
    (8 bytes a pair). A 32-bit key collides by chance with ~n/2^32 of n kept texts per band: such a
    candidate costs one verification and never changes a decision. Segments are merged size-tiered
    up to MAX_MERGE pairs, so a merge never copies more than that at once."""

    MAX_MERGE = 1 << 25

    def __init__(self) -> None:
        self.segments: list[np.ndarray] = []  # sorted packed uint64

    def add(self, keys: np.ndarray, ords: np.ndarray, sig=None) -> None:
        """keys (m, bands) uint64 for m texts with ordinals ords (m,)."""
        top = (keys >> np.uint64(32)) << np.uint64(32)
        packed = (top | ords.astype(np.uint64)[:, None]).ravel()
        packed.sort()
        self.segments.append(packed)
        while (len(self.segments) > 1 and self.segments[-2].size <= 2 * self.segments[-1].size
               and self.segments[-2].size + self.segments[-1].size <= self.MAX_MERGE):
            b, a = self.segments.pop(), self.segments.pop()
            merged = np.concatenate((a, b))
            del a, b
            merged.sort()
            self.segments.append(merged)

    def query(self, keys: np.ndarray, has: np.ndarray, sig=None) -> tuple[np.ndarray, np.ndarray]:
        """Unique (text row, kept ordinal) pairs sharing at least one band key (top 32 bits)."""
        n, b = keys.shape
        rows = np.repeat(np.arange(n), b)
        low = ((keys >> np.uint64(32)) << np.uint64(32)).ravel()
        mask = np.repeat(has, b)
        rows, low = rows[mask], low[mask]
        high = low | np.uint64(0xFFFFFFFF)
        found_q, found_v = [], []
        for seg in self.segments:
            lo = np.searchsorted(seg, low, "left")
            cnt = np.searchsorted(seg, high, "right") - lo
            hit = cnt > 0
            if not hit.any():
                continue
            lo, cnt = lo[hit], cnt[hit]
            total = int(cnt.sum())
            offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            found_v.append((seg[np.repeat(lo, cnt) + offs] & np.uint64(0xFFFFFFFF)).astype(np.int64))
            found_q.append(np.repeat(rows[hit], cnt))
        if not found_q:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pair = np.unique((np.concatenate(found_q) << 32) | np.concatenate(found_v))
        return pair >> 32, pair & 0xFFFFFFFF

    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.segments)


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
