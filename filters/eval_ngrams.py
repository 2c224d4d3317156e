"""The eval side of decontamination: eval prompts loaded from JSONL, Parquet or a datasets folder,
tokenized into words, and every word n-gram hashed into a sorted uint64 array.

    EvalIndex.build(load_eval_set("evals.jsonl"), n=13).size -> 412345  (distinct 13-grams)

Normalization (the idea of GPT-3, Brown et al. 2020, Appendix C: lowercase, words only, so case,
spacing and punctuation cannot hide an overlap): `text.lower()`, then the maximal runs of Unicode
word characters, `re.findall(r"\\w+")`. So "Don't stop!" -> ["don", "t", "stop"], accents are
kept ("café" is one word), "snake_case" is one word, and a run of CJK characters without spaces
is one word.

Words are numbered by the eval vocabulary (a record word that no eval prompt uses can never be
part of a shared n-gram, so it becomes -1 and breaks every window over it). An n-gram's hash is a
polynomial over the mixed word ids mod 2^64, computed for all windows at once from prefix sums;
every hash hit is then verified word by word, so a hash collision can never drop a record. Held
per distinct eval n-gram: its hash (8 B) and where it first occurs (4 B), plus 4 B per eval word
and a packed bitmap (about 4 bits per n-gram) that answers most "not in the eval set" queries
without a binary search.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from datagen.errors import DatagenError
from datagen.extras import require
from datagen.jsonl import json_objects
from filters.shingles import fmix64  # the same MurmurHash3 finalizer as MinHash

WORD = re.compile(r"\w+")
_P = np.uint64(0x100000001B3)                   # FNV-64 prime: odd, so invertible mod 2^64
_PINV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_POWERS = {"pw": np.ones(1, np.uint64), "ipw": np.ones(1, np.uint64)}  # memo, grown on demand


def words(text: str) -> list[str]:
    """"Don't STOP, café!" -> ["don", "t", "stop", "café"]: the words n-grams are made of."""
    return WORD.findall(text.lower())


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^i and P^-i mod 2^64 for i < n."""
    if _POWERS["pw"].size < n:
        size = 1 << max(16, (n - 1).bit_length())
        with np.errstate(over="ignore"):
            for key, base in (("pw", _P), ("ipw", _PINV)):
                _POWERS[key] = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, base))))
    return _POWERS["pw"][:n], _POWERS["ipw"][:n]


def ngram_hashes(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(start positions, uint64 hashes) of every window of n ids that holds no negative id
    (negative = unknown word or a text boundary).

        ngram_hashes(np.array([4, 7, -1, 2, 3]), 2) -> (array([0, 3]), array([h(4,7), h(2,3)]))
    """
    size = ids.size
    if size < n:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    bad = np.concatenate(([0], np.cumsum(ids < 0)))
    starts = np.flatnonzero(bad[n:] == bad[:-n])
    pw, ipw = _powers(size + 1)
    with np.errstate(over="ignore"):
        v = fmix64(ids.astype(np.uint64) + np.uint64(1)) * pw[:size]
        prefix = np.concatenate(([np.uint64(0)], np.cumsum(v)))
        h = (prefix[starts + n] - prefix[starts]) * ipw[starts]  # sum_k v[s+k] P^k
        return starts, fmix64(h)


# --- loading eval sets -----------------------------------------------------------------------

_COLUMNS = ("prompt", "instruction", "input", "id")


def bundled_path() -> Path:
    from datagen.assets import asset_dir
    return asset_dir("prompts") / "eval" / "ifeval.jsonl"


def _text_columns(columns, label: str) -> tuple[str, ...]:
    """The text columns of an eval row: `prompt`, else `instruction`; plus `input` if present."""
    main = "prompt" if "prompt" in columns else "instruction" if "instruction" in columns else None
    if main is None:
        raise DatagenError(f"{label}: no text column (expected 'prompt' or 'instruction')")
    return (main, "input") if "input" in columns else (main,)


def _texts(row: dict, cols: tuple[str, ...], label: str) -> list[str]:
    out = []
    for c in cols:
        v = row.get(c)
        if v is not None and not isinstance(v, str):
            raise DatagenError(f"{label}: '{c}' is {type(v).__name__}, expected a string")
        out.append(v or "")
    return out


def _prompt_id(row: dict, fallback: str) -> str:
    return fallback if row.get("id") is None else str(row["id"])


def _from_jsonl(path: Path) -> list[tuple[str, list[str]]]:
    label = f"eval set {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatagenError(f"{label}: cannot read ({exc})") from None
    out = []
    for lineno, row in json_objects(text, label):
        where = f"{label} line {lineno}"
        out.append((_prompt_id(row, f"{path.name}:{lineno}"),
                    _texts(row, _text_columns(row, where), where)))
    return out


def _from_columns(columns: dict[str, list], path: Path) -> list[tuple[str, list[str]]]:
    label = f"eval set {path}"
    cols = _text_columns(columns, label)
    keys = [c for c in (*cols, "id") if c in columns]
    rows = (dict(zip(keys, vals)) for vals in zip(*(columns[k] for k in keys)))
    return [(_prompt_id(row, f"{path.name}:{i}"), _texts(row, cols, f"{label} row {i}"))
            for i, row in enumerate(rows, 1)]


def _from_parquet(path: Path) -> list[tuple[str, list[str]]]:
    import pyarrow.parquet as pq
    try:
        names = pq.read_schema(path).names
        _text_columns(names, f"eval set {path}")
        keep = [c for c in _COLUMNS if c in names]
        return _from_columns(pq.read_table(path, columns=keep).to_pydict(), path)
    except DatagenError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        raise DatagenError(f"eval set {path}: not a readable Parquet file ({_line(exc)})") from None


def _from_datasets(path: Path) -> list[tuple[str, list[str]]]:
    datasets, = require(f"the eval set {path} (a datasets folder)", "datasets")  # heavy: only for such a folder
    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise DatagenError(f"eval set {path}: not a datasets.save_to_disk folder ({_line(exc)})") from None
    splits = list(ds.values()) if hasattr(ds, "keys") else [ds]  # a DatasetDict: every split
    out = []
    for split in splits:
        out += _from_columns({c: list(split[c]) for c in split.column_names if c in _COLUMNS}, path)
    return out


def _line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def load_eval_set(spec: str) -> list[tuple[str, list[str]]]:
    """"bundled" or a path -> [(prompt id, [texts])]: one entry per eval prompt, its id from the
    `id` column or "<file name>:<line or row>".

        load_eval_set("bundled")[0] -> ("if-0001", ["Write a 300+ word summary ..."])
    """
    path = bundled_path() if spec == "bundled" else Path(spec).expanduser()
    if not path.exists():
        what = "bundled eval set" if spec == "bundled" else "eval set"
        raise DatagenError(f"{what} {path}: file not found")
    if path.is_dir():
        prompts = _from_datasets(path)
    elif path.suffix == ".jsonl":
        prompts = _from_jsonl(path)
    elif path.suffix == ".parquet":
        prompts = _from_parquet(path)
    else:
        raise DatagenError(f"eval set {path}: unknown format (expected .jsonl, .parquet or a "
                           "datasets.save_to_disk folder)")
    if not prompts:
        raise DatagenError(f"eval set {path}: no prompts")
    return prompts


# --- the index -------------------------------------------------------------------------------

class Lookup(dict):
    """word -> eval vocabulary id; any other word -> -1 (it breaks every window over it)."""

    def __missing__(self, key: str) -> int:
        return -1


class EvalIndex:
    """Every word n-gram of the eval prompts: hash -> first (prompt, word offset).

        idx = EvalIndex.build([("e1", ["A b, c!"])], n=3); idx.describe(int(idx.pos[0])) -> "e1: 'a b c'"
    """

    def __init__(self, n: int, vocab: Lookup, tokens: np.ndarray, starts: np.ndarray,
                 prompt_ids: list[str]) -> None:
        self.n, self.vocab, self.tokens, self.starts, self.prompt_ids = n, vocab, tokens, starts, prompt_ids
        self.words = list(vocab)  # id -> word (ids are assigned in insertion order)
        where, hashes = ngram_hashes(tokens.astype(np.int64), n)
        self.hashes, first = np.unique(hashes, return_index=True)  # sorted; first occurrence wins
        self.pos = where[first].astype(np.int32)
        # Bitmap over the top `bits` bits of each hash, ~32 bits per n-gram: a query that hits an
        # unset bit (~97% of non-eval n-grams) skips the binary search.
        self.bits = int(min(32, max(10, (max(1, self.hashes.size) * 32 - 1).bit_length())))
        self.bitmap = np.zeros(1 << (self.bits - 3), np.uint8)
        slot = self.hashes >> np.uint64(64 - self.bits)
        np.bitwise_or.at(self.bitmap, (slot >> np.uint64(3)).astype(np.intp),
                         np.left_shift(1, (slot & np.uint64(7)).astype(np.uint8)).astype(np.uint8))

    @classmethod
    def build(cls, prompts: list[tuple[str, list[str]]], n: int) -> "EvalIndex":
        vocab, stream, starts = Lookup(), [], []
        for _, texts in prompts:
            starts.append(len(stream))
            for t in texts:
                stream += [vocab.setdefault(w, len(vocab)) for w in words(t)]
                stream.append(-1)  # no n-gram spans two texts or two prompts
        return cls(n, vocab, np.asarray(stream, np.int32), np.asarray(starts, np.int64),
                   [pid for pid, _ in prompts])

    @property
    def size(self) -> int:
        return int(self.hashes.size)

    def find(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of some texts (-1 = unknown word or boundary) -> (start in ids, eval offset)
        of every window equal to an eval n-gram, verified word by word, in ascending start."""
        n = self.n
        starts, h = ngram_hashes(ids, n)
        if not starts.size or not self.size:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        slot = h >> np.uint64(64 - self.bits)
        maybe = (self.bitmap[(slot >> np.uint64(3)).astype(np.intp)]
                 >> (slot & np.uint64(7)).astype(np.uint8)) & 1
        sel = np.flatnonzero(maybe)
        k = np.minimum(np.searchsorted(self.hashes, h[sel]), self.size - 1)
        hit = self.hashes[k] == h[sel]
        s, p = starts[sel[hit]], self.pos[k[hit]].astype(np.int64)
        if s.size:
            span = np.arange(n)
            same = (ids[s[:, None] + span] == self.tokens[p[:, None] + span]).all(axis=1)
            s, p = s[same], p[same]
        return s, p

    def describe(self, pos: int) -> str:
        """Eval offset -> "<prompt id>: '<the n words>'"."""
        prompt = self.prompt_ids[int(np.searchsorted(self.starts, pos, "right")) - 1]
        text = " ".join(self.words[t] for t in self.tokens[pos:pos + self.n])
        return f"{prompt}: '{text}'"

    def nbytes(self) -> int:
        """Bytes held: arrays, the vocabulary (dict + word strings) and the prompt ids."""
        arrays = sum(a.nbytes for a in (self.hashes, self.pos, self.tokens, self.starts, self.bitmap))
        strings = sum(sys.getsizeof(w) for w in self.words) + sum(sys.getsizeof(p) for p in self.prompt_ids)
        return arrays + strings + sys.getsizeof(self.vocab) + sys.getsizeof(self.words) \
            + sys.getsizeof(self.prompt_ids)
