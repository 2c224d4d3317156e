"""ROUGE-L novelty, exactly as rouge_score computes it, without comparing every pair.

Self-Instruct (Wang et al. 2022, sec. 2.3): "a new instruction is added to the task pool only when
its ROUGE-L similarity with any existing instruction is less than 0.7". `rouge_l` reproduces
`RougeScorer(["rougeL"], use_stemmer=False).score(a, b)["rougeL"].fmeasure`; `NoveltyIndex` answers
"is this new text novel against everything added so far?" with the same decisions as the all-pairs
loop, pruning with bounds that can never drop a match:

- LCS(a, b) <= bag overlap ov = sum over tokens of min(count_a, count_b), so F <= 2*ov/(|a|+|b|);
- a text reaching F >= t against a query of n tokens shares >= ceil(t*n/(2-t)) tokens with it, so
  it shares at least one of the query's n - need + 1 rarest tokens (prefix filtering): only their
  posting lists are scanned; the long lists of common words ("the", "a") are only binary-searched
  for the few candidates, which are dropped as soon as their overlap cannot reach the bound;
- the exact LCS (bit-parallel, Hyyroe 2004, on Python ints) runs only while the bound can still win.

    rouge_l("Write a poem.", "Write a short poem!") -> 0.8571428571428571  (LCS 3, lengths 3 and 4)
    NoveltyIndex().add_if_novel("Write a poem.") -> (True, 0.0, -1)
"""
from __future__ import annotations

import math
import re
from array import array
from dataclasses import dataclass
from dataclasses import field as option  # a filter option is called `field`

import numpy as np

from datagen.record import Record
from filters.base import Filter

__all__ = ["Novelty", "NoveltyIndex", "lcs_length", "rouge_l", "tokenize"]

# Self-Instruct sec. 2.3: kept only when ROUGE-L with every pool instruction is below 0.7.
SELF_INSTRUCT_THRESHOLD = 0.7
# Slack on float comparisons in the *pruning* only (never in the final decision), so that a
# bound computed in floats cannot drop a pair whose exact F rounds onto the threshold.
_EPS = 1e-9
_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """rouge_score's tokenizer without stemming: lowercase, every run of characters outside [a-z0-9]
    is a separator (so accents, CJK and emoji vanish), empty pieces dropped.

        tokenize("Café: 2 résumés!") -> ["caf", "2", "r", "sum", "s"]
    """
    # rouge_score: lower(), sub("[^a-z0-9]+", " "), split on whitespace, keep ^[a-z0-9]+$ pieces;
    # that leaves exactly the maximal [a-z0-9] runs of the lowercased text.
    return _TOKEN.findall(text.lower())


def _masks(tokens) -> dict[str, int]:
    """token -> bit mask of its positions: ["a", "b", "a"] -> {"a": 0b101, "b": 0b010}."""
    masks: dict[str, int] = {}
    bit = 1
    for t in tokens:
        masks[t] = masks.get(t, 0) | bit
        bit <<= 1
    return masks


def _lcs_masks(masks: dict[str, int], n: int, other) -> int:
    """Bit-parallel LCS length (Hyyroe 2004, "Bit-parallel LCS-length computation revisited"):
    one row of the DP table as the zero bits of v; each token of `other` is a few int operations."""
    full = (1 << n) - 1
    v = full
    get = masks.get
    for t in other:
        u = v & get(t, 0)
        if u:
            v = ((v + u) | (v - u)) & full
    return n - v.bit_count()


def lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence of two token lists: (["a","b","c"], ["a","c"]) -> 2."""
    if not a or not b:
        return 0
    return _lcs_masks(_masks(a), len(a), b)


def _fmeasure(lcs: int, len_target: int, len_prediction: int) -> float:
    """rouge_score's _score_lcs + scoring.fmeasure, same operations in the same order."""
    if not len_target or not len_prediction:
        return 0.0
    precision = lcs / len_prediction
    recall = lcs / len_target
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def rouge_l(a: str, b: str) -> float:
    """ROUGE-L F-measure of target a and prediction b (symmetric): ("a b c", "a c") -> 0.8."""
    ta, tb = tokenize(a), tokenize(b)
    return _fmeasure(lcs_length(ta, tb), len(ta), len(tb))


def _bag_keys(tokens):
    """A multiset as a set: ["a", "b", "a"] -> [("a", 1), ("b", 1), ("a", 2)]; so the number of
    shared keys of two texts is their bag overlap sum(min(count_a, count_b))."""
    seen: dict[str, int] = {}
    keys = []
    for t in tokens:
        k = seen.get(t, 0) + 1
        seen[t] = k
        keys.append((t, k))
    return keys


def _need(th: float, n: int) -> int:
    """Fewest shared tokens with which a text of n tokens can reach F >= th against any length m:
    F <= 2*ov/(n+m) and ov <= m give ov >= th*n/(2-th)."""
    return max(1, math.ceil(th * n / (2 - th) - _EPS)) if th > 0 else 1


class NoveltyIndex:
    """Texts added so far, searchable by ROUGE-L.

        idx = NoveltyIndex(0.7); idx.add("Write a poem about the sea.")  -> 0
        idx.query("Write a poem about the sea!")                          -> (1.0, 0)
        idx.is_novel("List three prime numbers.")                         -> True

    An inverted index over bag keys (token, occurrence): key id -> ascending entry ids. A search
    for F >= t reads the posting lists of the query's n - need + 1 rarest keys only (prefix
    filtering, Chaudhuri et al. 2006); its common keys only add to the candidates' overlap counts.
    """

    def __init__(self, threshold: float = SELF_INSTRUCT_THRESHOLD):
        if not threshold > 0:
            raise ValueError(f"threshold must be > 0, got {threshold!r}")
        self.threshold = float(threshold)
        self._key_id: dict[tuple[str, int], int] = {}
        self._postings: list[array] = []        # key id -> ascending entry ids (int32)
        self._tokens: list[tuple[str, ...]] = []
        self._lens = array("i")
        self.stats = {"queries": 0, "candidates": 0, "lcs": 0}

    def __len__(self) -> int:
        return len(self._tokens)

    def add(self, text: str) -> int:
        """Add a text; returns its index (0, 1, 2, ...)."""
        return self._add(tokenize(text))

    def _add(self, tokens: list[str]) -> int:
        i = len(self._tokens)
        for key in _bag_keys(tokens):
            kid = self._key_id.get(key)
            if kid is None:
                kid = self._key_id[key] = len(self._postings)
                self._postings.append(array("i"))
            self._postings[kid].append(i)
        self._tokens.append(tuple(tokens))
        self._lens.append(len(tokens))
        return i

    def query(self, text: str) -> tuple[float, int]:
        """Exact max ROUGE-L F against all added texts, and the first index reaching it;
        (0.0, -1) when the index is empty or no added text shares a token with `text`."""
        return self._best(tokenize(text))

    def query_above(self, text: str, threshold: float | None = None) -> tuple[float, int]:
        """(score, index) of some added text with ROUGE-L >= threshold (default: the index's),
        trying the most promising first and stopping at the first hit; (0.0, -1) if none."""
        return self._search(tokenize(text), self.threshold if threshold is None else threshold, True)

    def is_novel(self, text: str) -> bool:
        """True when every added text scores below the threshold (Self-Instruct sec. 2.3)."""
        return self.query_above(text)[1] < 0

    def add_if_novel(self, text: str) -> tuple[bool, float, int]:
        """The Self-Instruct pool step in one call (tokenizes once): adds `text` when novel.
        Returns (added, score, index): when not added, the best match and its score; when
        added, (True, 0.0, -1)."""
        tokens = tokenize(text)
        score, j = self._search(tokens, self.threshold, True)
        if j >= 0:
            return (False, *self._search(tokens, score, False))
        self._add(tokens)
        return True, 0.0, -1

    def _best(self, tokens: list[str]) -> tuple[float, int]:
        score, j = self._search(tokens, self.threshold, True)  # a hit narrows the exact search
        return self._search(tokens, score if j >= 0 else 0.0, False)

    def _search(self, q: list[str], theta: float, first: bool) -> tuple[float, int]:
        """Entries with F >= theta: the first found (first=True), or the max with the smallest
        index (first=False; theta is then a known lower bound on the answer, 0 for none)."""
        self.stats["queries"] += 1
        lq = len(q)
        th = theta - _EPS
        need = _need(th, lq)
        if not self._tokens or need > lq:
            return 0.0, -1
        kids = [self._key_id.get(key) for key in _bag_keys(q)]
        known = [k for k in kids if k is not None]
        n_probe = lq - need + 1 - (lq - len(known))  # unknown keys come first in any order
        if n_probe <= 0:
            return 0.0, -1
        rows = self._candidates(known, n_probe, lq, th)
        self.stats["candidates"] += len(rows)
        masks = _masks(q)
        best, best_i = 0.0, -1
        for neg_bound, i, le in rows:
            if not first and -neg_bound < best - _EPS:
                break
            self.stats["lcs"] += 1
            f = _fmeasure(_lcs_masks(masks, lq, self._tokens[i]), le, lq)
            if first:
                if f >= theta:
                    return f, i
            elif f > best or (f == best and i < best_i):
                best, best_i = f, i
        return (best, best_i) if best_i >= 0 else (0.0, -1)

    def _candidates(self, known: list[int], n_probe: int, lq: int, th: float) -> list:
        """Entries that may reach F >= th, as (-bound, index, length), best bound first: q's
        n_probe rarest keys give the candidates; each common key then adds to their overlap,
        and those that cannot reach the bound even with all remaining keys are dropped."""
        known.sort(key=lambda k: len(self._postings[k]))
        lists = [np.frombuffer(self._postings[k], dtype=np.int32) for k in known]
        cand, ov = np.unique(np.concatenate(lists[:n_probe]), return_counts=True)
        lens = np.frombuffer(self._lens, dtype=np.int32)[cand]
        need = th * (lq + lens) / 2  # overlap needed for 2*ov/(lq+le) >= th
        left = len(lists) - n_probe
        for post in lists[n_probe:]:
            keep = (ov + left >= need) & (lens >= need)
            cand, ov, lens, need = cand[keep], ov[keep], lens[keep], need[keep]
            if not len(cand):
                return []
            pos = np.searchsorted(post, cand)
            np.minimum(pos, len(post) - 1, out=pos)
            ov += post[pos] == cand
            left -= 1
        bound = 2.0 * ov / (lq + lens)
        keep = bound >= th
        cand, bound, lens = cand[keep], bound[keep], lens[keep]
        order = np.lexsort((cand, -bound))
        return list(zip((-bound[order]).tolist(), cand[order].tolist(), lens[order].tolist()))


@dataclass
class Novelty(Filter):
    """Drop a record whose `field` has ROUGE-L >= threshold with an earlier *kept* record of the
    batch (the Self-Instruct pool rule, sec. 2.3); detail = id of the most similar one.
    against_seeds: "true" = also against the bundled seed tasks, a path = against that seed file.

        Novelty()([Record.make("Write a poem."), Record.make("Write a poem!")]) -> [None, ("not_novel", "<id>")]
    """
    threshold: float = option(default=SELF_INSTRUCT_THRESHOLD, metadata={
        "help": "ROUGE-L at which a record is not novel (Self-Instruct: 0.7)", "min": 0.0, "max": 1.0})
    field: str = option(default="instruction", metadata={"help": "record field compared"})
    against_seeds: str = option(default="", metadata={
        "help": "also compare with seed tasks: true = the bundled seeds, or a seed file path"})

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold!r}")
        if self.field not in Record.__dataclass_fields__:
            raise ValueError(f"unknown record field {self.field!r}")
        self._seeds: list[Record] = []
        if self.against_seeds and self.against_seeds.lower() not in ("false", "no", "0"):
            from datagen.seeds import load_seeds
            bundled = self.against_seeds.lower() in ("true", "yes", "1")
            self._seeds = load_seeds(None if bundled else self.against_seeds)

    def __call__(self, records: list[Record]) -> list:
        index = NoveltyIndex(self.threshold)
        ids = []
        for s in self._seeds:
            index.add(s.instruction or "")
            ids.append(s.id)
        out = []
        for r in records:
            added, _, j = index.add_if_novel(str(getattr(r, self.field) or ""))
            if added:
                ids.append(r.id)
                out.append(None)
            else:
                out.append(("not_novel", ids[j]))
        return out
