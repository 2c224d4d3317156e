"""Eval decontamination: drop a record whose instruction, input or output shares a word n-gram
(default 13 words) with a prompt of an eval set, so a student is not trained on its benchmark.

    Decontaminate(eval_sets=["evals.jsonl"])([Record.make("Hi", output=<13 words of eval e7>)])
        -> [("eval_contamination", "e7: 'the thirteen words ...'")]

n = 13 follows GPT-3 (Brown et al. 2020, "Language Models are Few-Shot Learners", Appendix C),
which measured train/benchmark contamination as 13-gram overlap after lowercasing and stripping
punctuation: long enough that shared stock phrases do not count, short enough to catch a copied
question. The same normalization is used here (filters/eval_ngrams.py: lowercase, Unicode word
runs). A text with fewer than n words has no n-gram, so it cannot match: short answers ("Paris.")
are never dropped, and eval prompts shorter than n words take no part.

Memory holds the eval side only (a sorted array of n-gram hashes, built in __post_init__ so a bad
eval file fails before any work). A batch of records is tokenized in one regex pass, mapped to eval
vocabulary ids and hashed with numpy; nothing about records is kept between calls, and a record's
verdict depends on that record alone (per_record: Ray may split batches anywhere).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from dataclasses import field as option  # a filter option is called `fields`
from typing import ClassVar

import numpy as np

from datagen.errors import DatagenError
from datagen.record import Record
from filters.base import Filter, Verdict
from filters.eval_ngrams import EvalIndex, Lookup, load_eval_set

__all__ = ["Decontaminate", "GPT3_NGRAM"]

GPT3_NGRAM = 13  # Brown et al. 2020, Appendix C: contamination = a shared 13-gram
TEXT_FIELDS = ("instruction", "input", "output", "rejected")
_FIELD_SEP, _RECORD_SEP = "\x00", "\x01"  # joined into one string per batch; never word characters
_TOKEN = re.compile(r"\w+|[\x00\x01]")
CHUNK_CHARS = 8_000_000  # ~1.2M words of English text per tokenizing pass


@dataclass
class Decontaminate(Filter):
    """Drop a record that shares a word n-gram with an eval prompt; detail = "<eval id>: '<n-gram>'".

        Decontaminate(n=3, eval_sets=["e.jsonl"])([Record.make("say a b c")]) -> [("eval_contamination", "e1: 'a b c'")]
    """

    eval_sets: list[str] = option(default_factory=lambda: ["bundled"], metadata={
        "help": "eval sets: 'bundled' (prompts/eval/ifeval.jsonl), a .jsonl or .parquet file, or a "
                "datasets.save_to_disk folder; text from 'prompt', else 'instruction', plus 'input'"})
    n: int = option(default=GPT3_NGRAM, metadata={
        "help": "n-gram length in words (GPT-3 App. C: 13)", "min": 1, "max": 200})
    fields: list[str] = option(default_factory=lambda: ["instruction", "input", "output"], metadata={
        "help": "record fields checked: instruction, input, output, rejected"})

    per_record: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.eval_sets = _str_list(self.eval_sets, "eval_sets")
        self.fields = _str_list(self.fields, "fields")
        unknown = [f for f in self.fields if f not in TEXT_FIELDS]
        if unknown:
            raise DatagenError(f"decontaminate: unknown field(s) {', '.join(unknown)}; "
                               f"valid: {', '.join(TEXT_FIELDS)}")
        self.fields = list(dict.fromkeys(self.fields))
        _check_range(self, "n")
        prompts = [p for spec in self.eval_sets for p in load_eval_set(spec)]
        self._index = EvalIndex.build(prompts, self.n)
        if not self._index.size:
            raise DatagenError(f"decontaminate: no eval prompt has {self.n} or more words; lower n")
        self._lookup = Lookup(self._index.vocab)
        self._lookup[_RECORD_SEP] = -2  # record boundary (the field separator is unknown: -1)

    def __call__(self, records: list[Record]) -> list[Verdict]:
        out: list[Verdict] = []
        for chunk in self._chunks(records):
            out += self._verdicts(chunk)
        return out

    def _chunks(self, records: list[Record]):
        """Slices of about CHUNK_CHARS characters of text: the token list and the numpy arrays of
        one slice stay ~100 MB however large the batch a caller passes."""
        start, size = 0, 0
        for i, r in enumerate(records):
            size += sum(len(getattr(r, f) or "") for f in self.fields)
            if size >= CHUNK_CHARS:
                yield records[start:i + 1]
                start, size = i + 1, 0
        if start < len(records):
            yield records[start:]

    def _verdicts(self, records: list[Record]) -> list[Verdict]:
        ids = self._token_ids(records)
        starts, pos = self._index.find(ids)
        out: list[Verdict] = [None] * len(records)
        if starts.size:
            owner = np.cumsum(ids == -2)[starts]  # record of each hit
            rec, first = np.unique(owner, return_index=True)  # its earliest hit (hits are sorted)
            for r, k in zip(rec.tolist(), first.tolist()):
                out[r] = ("eval_contamination", self._index.describe(int(pos[k])))
        return out

    def _token_ids(self, records: list[Record]) -> np.ndarray:
        """Records -> eval vocabulary ids of all their words in one array: -1 for a word no eval
        prompt has and between fields, -2 between records.

            ids of [Record("a b"), Record("c")] -> array([0, 1, -1, -1, -2, 2, -1, -1])  (3 fields)
        """
        parts = [[getattr(r, f) or "" for f in self.fields] for r in records]
        joined = _RECORD_SEP.join(_FIELD_SEP.join(p) for p in parts)
        if (joined.count(_RECORD_SEP) != len(records) - 1
                or joined.count(_FIELD_SEP) != len(records) * (len(self.fields) - 1)):
            # a text holds a separator character itself: blank them out, then join again
            clean = [[t.replace(_FIELD_SEP, " ").replace(_RECORD_SEP, " ") for t in p] for p in parts]
            joined = _RECORD_SEP.join(_FIELD_SEP.join(p) for p in clean)
        tokens = _TOKEN.findall(joined.lower())
        return np.array(list(map(self._lookup.__getitem__, tokens)), np.int64)

    def nbytes(self) -> int:
        """Bytes held by the eval-side index."""
        return self._index.nbytes()


def _str_list(value, name: str) -> list[str]:
    """"a" -> ["a"]; a non-empty list of strings is kept; anything else is a DatagenError."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise DatagenError(f"decontaminate: {name} must be a non-empty list of strings, got {value!r}")
    return list(value)


def _check_range(obj, name: str) -> None:
    """An int option against the `min`/`max` in its field metadata."""
    meta = next(f.metadata for f in dataclasses.fields(obj) if f.name == name)
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, int) or not meta["min"] <= value <= meta["max"]:
        raise DatagenError(f"decontaminate: {name} must be an integer in [{meta['min']}, {meta['max']}], "
                           f"got {value!r}")
