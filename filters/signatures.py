"""MinHash signatures in numpy, equal to datasketch's, and the LSH band/row choice (see
filters/minhash.py for the pipeline they are part of).

    signatures(["a b c d e"], 4) -> (array([[h0, h1, h2, h3]], dtype=uint32), array([True]))
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from filters.shingles import fmix32, shingle_hashes


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of datasketch.MinHash(num_perm, seed, scheme="affine32"): a*h+b mod 2^32."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def signatures(texts: list[str], num_perm: int = 256, k: int = 5, seed: int = 1,
               chunk: int = 1 << 15) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures (n, num_perm) uint32 and a mask of texts that have any shingle.

        signatures(["a b c d e"], 4) -> (array([[h0, h1, h2, h3]], dtype=uint32), array([True]))
    """
    return signatures_of(*shingle_hashes(texts, k), len(texts), num_perm, seed, chunk)


def signatures_of(hashes: np.ndarray, owner: np.ndarray, n: int, num_perm: int = 256, seed: int = 1,
                  chunk: int = 1 << 15) -> tuple[np.ndarray, np.ndarray]:
    """signatures() of shingle hashes already computed (filters.shingles.shingle_hashes)."""
    a, b = permutations(num_perm, seed)
    sig = np.full((n, num_perm), np.uint32(0xFFFFFFFF), np.uint32)
    has = np.zeros(n, bool)
    has[owner] = True
    if hashes.size == 0:
        return sig, has
    hashes = fmix32(hashes)
    bounds = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))  # first shingle of each text
    pos = 0
    while pos < bounds.size:  # chunks of whole texts, about `chunk` shingles each
        end = max(pos + 1, int(np.searchsorted(bounds, bounds[pos] + chunk, "right")) - 1)
        lo, hi = bounds[pos], (bounds[end] if end < bounds.size else hashes.size)
        with np.errstate(over="ignore"):
            if hi - lo > chunk:  # one very long text: running minimum over slices of its shingles
                for s in range(lo, hi, chunk):
                    phv = np.multiply.outer(a, hashes[s:min(hi, s + chunk)])
                    phv += b[:, None]
                    sig[owner[lo]] = np.minimum(sig[owner[lo]], phv.min(axis=1))
            else:
                phv = np.multiply.outer(a, hashes[lo:hi])  # (num_perm, shingles): reduceat is fastest on axis 1
                phv += b[:, None]
                sig[owner[bounds[pos:end]]] = np.minimum.reduceat(phv, bounds[pos:end] - lo, axis=1).T
        pos = end
    return sig, has


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows for candidate generation. Candidates are verified afterwards, so banding
    aims below the threshold (threshold - 0.15, false negatives weighted 0.7) to favour recall:
    for 0.75 and 256 permutations this gives 36 bands x 7 rows, P(candidate | J=0.75) = 0.994."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(max(0.05, threshold - 0.15), num_perm, 0.3, 0.7)
