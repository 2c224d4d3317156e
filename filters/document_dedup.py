"""Per-document question dedup: the MinHash or the semantic filter run on each document's records
apart (grouped by meta["source"]["sha256"]), so one document's many wordings of the same question
collapse to one while two documents may each keep their own "What is the notice period?" (their
answers differ). Records without a source form one group of their own.

Defaults are for questions, which are short: word 2-gram shingles and Jaccard 0.6 for MinHash. Measured
on 2-grams: "How many days of paid leave does an employee get each year?" / "... per year?" 0.69 (the
same question: dropped), "How many days of paid leave carry over?" / "... do employees get?" 0.50 (two
facts: both kept); a rewording ("... do employees get?" / "... does an employee get?" 0.42) is left to
method semantic (all-MiniLM-L6-v2, cosine 0.9 as the semantic filter).

    DocumentDedup()(records) -> [None, ("near_duplicate", "<id of the kept question>"), ...]
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from datagen.record import Record
from filters.base import Filter

METHODS = ("minhash", "semantic")


@dataclass
class DocumentDedup(Filter):
    method: str = field(default="minhash", metadata={"help": "minhash | semantic (needs the semantic extra)"})
    fields: list[str] = field(default_factory=lambda: ["instruction"], metadata={"help": "fields compared "
                                                                                         "(the question)"})
    threshold: float | None = field(default=None, metadata={
        "help": "minhash: Jaccard, semantic: cosine at which two questions are the same (empty = 0.6 | 0.9)",
        "min": -1.0, "max": 1.0})
    shingle_size: int = field(default=2, metadata={"help": "minhash: words per shingle", "min": 1})
    model: str = field(default="bundled", metadata={"help": "semantic: the embedding model"})

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        self._inner()  # bad options fail now

    def _inner(self) -> Filter:
        if self.method == "minhash":
            from filters.minhash import MinHash

            return MinHash(fields=list(self.fields), threshold=0.6 if self.threshold is None else self.threshold,
                           shingle_size=self.shingle_size)
        from filters.semantic import Semantic

        return Semantic(fields=list(self.fields), threshold=0.9 if self.threshold is None else self.threshold,
                        model=self.model)

    def __call__(self, records: list[Record]) -> list:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(records):
            src = r.meta.get("source")
            groups[src.get("sha256", "") if isinstance(src, dict) else ""].append(i)
        out: list = [None] * len(records)
        inner = self._inner()
        for idx in groups.values():
            for i, v in zip(idx, inner([records[i] for i in idx])):
                out[i] = v
        return out
