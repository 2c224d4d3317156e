"""Near-duplicate removal with MinHash + LSH, streaming: memory grows with the LSH index of the
records kept (band keys + 16-bit signatures), not with the records themselves.

    MinHash()([Record("a b c d e f"), Record("a b c d e f g")]) -> [None, ("near_duplicate", "<id 1>")]

Pipeline per batch, all numpy (no Python call per shingle):
1. texts -> k-word shingle hashes (uint32) for the whole batch at once (filters/shingles.py);
2. signatures (filters/signatures.py) with datasketch 2.0's default "affine32" permutations (fmix32 pre-mix, then
   a*h+b mod 2^32, the same `a, b` as `datasketch.MinHash(num_perm, seed)`), min per record with
   np.minimum.reduceat. datasketch 2.0 made this its default over the older (a*h+b) mod (2^61-1)
   folded to 32 bits, whose fold inflated estimates on large sets (datasketch issue #212), and
   wrap-around uint32 arithmetic needs no modulo;
3. LSH banding (b bands of r rows) -> candidates among the kept records; each candidate is then
   verified on the exact Jaccard of the two shingle sets >= threshold (filters/shingle_sets.py;
   verify="estimate" uses the signature agreement instead), so banding is set for recall (>= 0.99
   at the threshold) and the verification gives the precision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from datagen.record import Record
from filters.base import Filter
from filters.clusters import check_keep, near_duplicate_clusters
from filters.lsh_index import BandIndex, DatasketchIndex, Rows, band_keys, batch_pairs
from filters.shingle_sets import ShingleStore, pair_jaccard, shingle_sets
from filters.shingles import shingle_hashes
from filters.signatures import lsh_params, signatures_of


class NearDupIndex:
    """Streaming near-duplicate detector. add(texts) -> one int per text: -1 keep (indexed),
    else the global position (0-based, over all texts ever added) of the kept text it duplicates.
    verify="exact" (default) decides each candidate on the exact Jaccard of the shingle sets
    (filters/shingle_sets.py, the kept sets held at 4 bytes a shingle); "estimate" on the share of
    equal 16-bit signature values (b-bit minwise hashing, Li & Koenig 2010; 2 bytes a permutation).

        idx = NearDupIndex(); idx.add(["x y z w v u", "x y z w v u t"]) -> array([-1, 0])
    """

    def __init__(self, threshold: float = 0.75, num_perm: int = 256, shingle_size: int = 5,
                 bands: int | None = None, rows: int | None = None, seed: int = 1,
                 backend: str = "compact", verify: str = "exact") -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if shingle_size < 1 or num_perm < 2:
            raise ValueError("shingle_size must be >= 1 and num_perm >= 2")
        if (bands is None) != (rows is None):
            raise ValueError("give both bands and rows, or neither")
        if verify not in ("exact", "estimate"):
            raise ValueError(f"verify must be exact or estimate, got {verify!r}")
        self.bands, self.rows = (bands, rows) if bands else lsh_params(threshold, num_perm)
        if self.bands * self.rows > num_perm:
            raise ValueError(f"bands * rows = {self.bands * self.rows} exceeds num_perm {num_perm}")
        self.threshold, self.num_perm, self.k, self.seed = threshold, num_perm, shingle_size, seed
        if backend == "compact":
            self.index = BandIndex()
        elif backend == "datasketch":
            self.index = DatasketchIndex(num_perm, self.bands, self.rows, seed)
        else:
            raise ValueError(f"backend must be compact or datasketch, got {backend!r}")
        self.verify = verify
        self.store = ShingleStore() if verify == "exact" else None
        self.sig16 = Rows((num_perm,), np.uint16) if verify == "estimate" else None
        self.where = Rows((), np.int64)  # kept ordinal -> global position
        self.kept = 0
        self.seen = 0

    def add(self, texts: list[str]) -> np.ndarray:
        hashes, owner = shingle_hashes(texts, self.k)
        sig, has = signatures_of(hashes, owner, len(texts), self.num_perm, self.seed)
        sets = shingle_sets(hashes, owner, len(texts)) if self.verify == "exact" else None
        return self.add_signatures(sig, has, sets)

    def _similarity(self, sig, sets):
        """sim(rows, kept_ords) against the index and within(i, j) inside the batch."""
        if self.verify == "exact":
            if sets is None:
                raise ValueError("verify=exact needs the shingle sets with the signatures")
            return (lambda q, c: pair_jaccard(sets, q, self.store.sets(c), np.arange(len(c))),
                    lambda i, j: pair_jaccard(sets, i, sets, j))
        s16 = (sig & np.uint32(0xFFFF)).astype(np.uint16)
        return (lambda q, c: (s16[q] == self.sig16.take(c)).mean(axis=1) if len(c) else np.zeros(0),
                lambda i, j: (s16[i] == s16[j]).mean(axis=1) if len(i) else np.zeros(0))

    def add_signatures(self, sig: np.ndarray, has: np.ndarray, sets=None) -> np.ndarray:
        """add() for signatures (and shingle sets) computed elsewhere (on Ray workers, say): same decisions."""
        n = len(sig)
        keys = band_keys(sig, self.bands, self.rows)
        kept_sim, batch_sim = self._similarity(sig, sets)
        out = np.full(n, -1, np.int64)
        best = np.full(n, -1, np.int64)  # global position of the best kept match so far
        best_sim = np.zeros(n)
        # against the kept index: per text, the most similar verified neighbour (earliest on ties)
        q, cand = self.index.query(keys, has, sig)
        if q.size:
            sims = kept_sim(q, cand)
            ok = sims >= self.threshold
            q, cand, sims = q[ok], cand[ok], sims[ok]
            order = np.lexsort((cand, -sims, q))
            first = order[np.concatenate(([True], q[order][1:] != q[order][:-1]))] if q.size else order
            best[q[first]], best_sim[q[first]] = self.where.take(cand[first]), sims[first]
        # within the batch: pairs sharing a band key, verified, resolved in order
        pairs = np.array(batch_pairs(keys, has), np.int64).reshape(-1, 2)
        sims = batch_sim(pairs[:, 0], pairs[:, 1])
        later: dict[int, list[tuple[int, float]]] = {}
        for (i, j), sim in zip(pairs.tolist(), sims.tolist()):
            if sim >= self.threshold:
                later.setdefault(j, []).append((i, sim))
        new = []
        for j in range(n):
            for i, sim in later.get(j, ()):
                pos = self.seen + i
                if out[i] == -1 and (sim > best_sim[j] or (sim == best_sim[j] and pos < best[j])):
                    best[j], best_sim[j] = pos, sim
            if best[j] >= 0:
                out[j] = best[j]
            elif has[j]:
                new.append(j)
        self._insert(np.asarray(new, np.int64), keys, sig, sets)
        self.seen += n
        return out

    def _insert(self, rows: np.ndarray, keys, sig, sets) -> None:
        if rows.size == 0:
            return
        ords = np.arange(self.kept, self.kept + rows.size)
        if self.store is not None:
            self.store.add(sets, rows)
        else:
            self.sig16.append((sig[rows] & np.uint32(0xFFFF)).astype(np.uint16))
        self.where.append(self.seen + rows)
        self.index.add(keys[rows], ords.astype(np.uint32), sig[rows])
        self.kept += rows.size

    def nbytes(self) -> int:
        held = self.store.nbytes() if self.store is not None else self.sig16.nbytes
        return held + self.where.nbytes + self.index.nbytes()


def text_of(r: Record, fields: tuple[str, ...]) -> str:
    """The text shingled: the fields joined, or for a conversation (`messages`) every turn."""
    if r.messages is not None:
        return r.conversation_text()
    return "\n".join(str(getattr(r, f) or "") for f in fields)


@dataclass
class MinHash(Filter):
    """Drop a record whose word 5-gram set has Jaccard >= threshold with an earlier kept record
    (MinHash LSH proposes candidates, each verified on the exact Jaccard of the shingle sets);
    detail = that record's id. Defaults: 5-word shingles as in Lee et al. 2022
    ("Deduplicating Training Data Makes Language Models Better", NearDup) and FineWeb's MinHash
    stage (Penedo et al. 2024), whose 14x8-band setting targets pairs >= 0.75 similar; Lee et al.
    and Gopher (Rae et al. 2021) use 0.8. 0.75 sits between, in the 0.7-0.8 range in use.
    Two stages for a distributed run: signatures per block (map), then one ordered pass (reduce)."""
    two_stage: ClassVar[bool] = True
    fields: list[str] = field(default_factory=lambda: ["instruction", "input", "output"],
                              metadata={"help": "fields hashed together"})
    threshold: float = field(default=0.75, metadata={"help": "Jaccard at which a record is a near "
                                                             "duplicate", "min": 0.0, "max": 1.0})
    shingle_size: int = field(default=5, metadata={"help": "words per shingle", "min": 1})
    num_perm: int = field(default=256, metadata={"help": "MinHash permutations", "min": 1})
    bands: int | None = field(default=None, metadata={"help": "LSH bands (empty = chosen from threshold)",
                                                      "min": 1})
    rows: int | None = field(default=None, metadata={"help": "rows per band (empty = chosen from threshold)",
                                                     "min": 1})
    seed: int = field(default=1, metadata={"help": "hash seed"})
    batch_size: int = field(default=4096, metadata={"help": "records hashed at once", "min": 1})
    backend: str = field(default="compact", metadata={"help": "compact | datasketch (index implementation)"})
    keep: str = field(default="first", metadata={"help": "first (a record duplicating an earlier kept one goes) | "
                                                         "smallest_id (each duplicate cluster keeps its smallest "
                                                         "id: order-free)"})
    verify: str = field(default="exact", metadata={"help": "exact (candidates decided on the exact Jaccard of "
                                                           "their shingle sets) | estimate (on the signatures)"})

    def __post_init__(self) -> None:
        for f in self.fields:
            if f not in ("instruction", "input", "output", "rejected"):
                raise ValueError(f"unknown field {f!r}")
        check_keep(self.keep)
        self._index()  # validate the options now

    def _index(self) -> NearDupIndex:
        return NearDupIndex(self.threshold, self.num_perm, self.shingle_size, self.bands, self.rows, self.seed,
                            self.backend, self.verify)

    def _hashed(self, records: list[Record]) -> tuple:
        """(signatures, has-shingles, shingle sets or None) of a batch."""
        hashes, owner = shingle_hashes([text_of(r, tuple(self.fields)) for r in records], self.shingle_size)
        sig, has = signatures_of(hashes, owner, len(records), self.num_perm, self.seed)
        return sig, has, (shingle_sets(hashes, owner, len(records)) if self.verify == "exact" else None)

    def map(self, records: list[Record]) -> list:
        """Per record, independent of the others: (signature, has-shingles, shingle set or None)."""
        sig, has, sets = self._hashed(records)
        if sets is None:
            return [(s, h, None) for s, h in zip(sig, has)]
        flat, starts, lens = sets
        return [(s, h, flat[b:b + n]) for s, h, b, n in zip(sig, has, starts.tolist(), lens.tolist())]

    @staticmethod
    def _stack(mapped: list) -> tuple:
        sig = np.stack([m[0] for m in mapped]).astype(np.uint32)
        has = np.array([bool(m[1]) for m in mapped])
        if mapped[0][2] is None:
            return sig, has, None
        lens = np.array([len(m[2]) for m in mapped], np.int64)
        flat = np.concatenate([m[2] for m in mapped]).astype(np.uint32)
        return sig, has, (flat, np.cumsum(lens) - lens, lens)

    def reduce(self, records: list[Record], mapped: list) -> list:
        """One ordered pass over precomputed signatures: the local filter's exact decisions."""
        if not records:
            return []
        if self.keep == "smallest_id":
            return self._clusters(records, *self._stack(mapped))
        step, out = self.stream(), []
        for lo in range(0, len(records), self.batch_size):
            out += step(records[lo:lo + self.batch_size], self._stack(mapped[lo:lo + self.batch_size]))
        return out

    def _clusters(self, records: list[Record], sig: np.ndarray, has: np.ndarray, sets) -> list:
        idx = self._index()
        keys = band_keys(sig, idx.bands, idx.rows)
        if sets is None:
            s16 = (sig & np.uint32(0xFFFF)).astype(np.uint16)
            similar = lambda u, v: (s16[u] == s16[v]).mean(axis=1)  # noqa: E731
        else:
            similar = lambda u, v: pair_jaccard(sets, u, sets, v)  # noqa: E731
        winners = near_duplicate_clusters([r.id for r in records], keys, has, similar, self.threshold)
        return [None if w is None else ("near_duplicate", w) for w in winners]

    def stream(self):
        """keep=first batch by batch: the index of kept records (and their ids) lives between calls;
        step(records[, hashed]) -> verdicts. None under smallest_id (it needs every record)."""
        if self.keep != "first":
            return None
        idx, kept_ids = self._index(), {}

        def step(records: list[Record], hashed=None) -> list:
            if hashed is None and len(records) > self.batch_size:
                return [v for lo in range(0, len(records), self.batch_size)
                        for v in step(records[lo:lo + self.batch_size])]
            out, start = [], idx.seen
            sig, has, sets = hashed if hashed is not None else self._hashed(records)
            for i, pos in enumerate(idx.add_signatures(sig, has, sets).tolist()):
                if pos >= 0:
                    out.append(("near_duplicate", kept_ids[pos]))
                    continue
                if has[i]:
                    kept_ids[start + i] = records[i].id
                out.append(None)
            return out
        return step

    def __call__(self, records: list[Record]) -> list:
        if self.keep == "smallest_id":
            return self._clusters(records, *self._hashed(records)) if records else []
        step, out = self.stream(), []
        for lo in range(0, len(records), self.batch_size):
            out += step(records[lo:lo + self.batch_size])
        return out
