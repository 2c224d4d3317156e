"""Exact shingle-set Jaccard for MinHash candidates: each text's set of k-word shingle hashes
(uint32, sorted, unique), a store of the kept texts' sets, and the Jaccard of many pairs at once
by one sort (no Python call per pair). MinHash then only proposes candidates; the decision is on
the true Jaccard of the shingle sets (up to 32-bit hash collisions, ~2^-32 per pair of shingles).

    sets = shingle_sets(*shingle_hashes(texts, 5), len(texts))    # (flat, starts, lens)
    pair_jaccard(sets, np.array([0]), sets, np.array([1])) -> array([0.8])
"""
from __future__ import annotations

import numpy as np

Sets = tuple[np.ndarray, np.ndarray, np.ndarray]  # flat uint32 hashes, start of each set, its length


def shingle_sets(hashes: np.ndarray, owner: np.ndarray, n: int) -> Sets:
    """(hashes, owner) from filters.shingles.shingle_hashes -> each text's sorted unique set."""
    packed = np.unique((owner.astype(np.uint64) << np.uint64(32)) | hashes.astype(np.uint64))
    flat = (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    who = (packed >> np.uint64(32)).astype(np.int64)
    starts = np.searchsorted(who, np.arange(n)).astype(np.int64)
    lens = np.diff(np.append(starts, flat.size)).astype(np.int64)
    return flat, starts, lens


def gather(sets: Sets, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The elements of sets[rows], concatenated, and each one's index into rows."""
    flat, starts, lens = sets
    ln = lens[rows]
    which = np.repeat(np.arange(len(rows)), ln)
    offs = np.arange(which.size) - np.repeat(np.cumsum(ln) - ln, ln)
    return flat[np.repeat(starts[rows], ln) + offs], which


def pair_jaccard(a: Sets, ia: np.ndarray, b: Sets, ib: np.ndarray) -> np.ndarray:
    """Jaccard of a[ia[p]] and b[ib[p]] for every pair p: both sides tagged with p, sorted, and the
    equal neighbours counted (sets are unique, so an equal neighbour is one shared shingle)."""
    if len(ia) == 0:
        return np.zeros(0)
    ea, pa = gather(a, ia)
    eb, pb = gather(b, ib)
    keys = np.sort(np.concatenate(((pa.astype(np.uint64) << np.uint64(32)) | ea,
                                   (pb.astype(np.uint64) << np.uint64(32)) | eb)))
    same = keys[1:] == keys[:-1]
    inter = np.bincount((keys[1:][same] >> np.uint64(32)).astype(np.int64), minlength=len(ia))
    union = a[2][ia] + b[2][ib] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


class ShingleStore:
    """The kept texts' shingle sets, appended batch by batch without copying what is stored:
    4 bytes a shingle plus 12 bytes a text (chunk, offset, length)."""

    def __init__(self) -> None:
        from filters.lsh_index import Rows

        self.chunks: list[np.ndarray] = []
        self.chunk = Rows((), np.uint32)
        self.offset = Rows((), np.uint32)
        self.length = Rows((), np.uint32)

    def add(self, sets: Sets, rows: np.ndarray) -> None:
        """Store sets[rows] (kept ordinals follow on from the ones stored)."""
        if len(rows) == 0:
            return
        flat, _ = gather(sets, rows)
        lens = sets[2][rows]
        self.chunks.append(flat)
        self.chunk.append(np.full(len(rows), len(self.chunks) - 1, np.uint32))
        self.offset.append((np.cumsum(lens) - lens).astype(np.uint32))
        self.length.append(lens.astype(np.uint32))

    def sets(self, ords: np.ndarray) -> Sets:
        """The stored sets of kept ordinals `ords`, as a Sets of len(ords) (in that order)."""
        chunk, off = self.chunk.take(ords), self.offset.take(ords).astype(np.int64)
        lens = self.length.take(ords).astype(np.int64)
        starts = np.cumsum(lens) - lens
        flat = np.empty(int(lens.sum()), np.uint32)
        for c in np.unique(chunk):
            sel = np.flatnonzero(chunk == c)
            got, _ = gather((self.chunks[c], off[sel], lens[sel]), np.arange(len(sel)))
            flat[np.repeat(starts[sel], lens[sel]) + (np.arange(got.size) - np.repeat(
                np.cumsum(lens[sel]) - lens[sel], lens[sel]))] = got
        return flat, starts, lens

    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.chunks) + self.chunk.nbytes + self.offset.nbytes + self.length.nbytes
