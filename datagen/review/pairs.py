"""Pairs mode: two answers to one prompt. From a pair version (chosen against rejected), from a
best-of-n version (the kept best answer against the candidate scored closest to it), or from a
`datagen eval` (two models' answers, with the judge's order-swapped verdicts).

Each item's sides are drawn per item from random.Random(f"{seed}:{key}") so a person never learns that
the left answer is the machine's pick; the draw is written into every journal line ("sides"), and a
label is stored as the answer it names ("choice": "chosen" | "rejected" | a model | "tie"), so the
randomization is undone from the journal alone.

The queue puts first the items the judge found hard: a verdict that flipped when the order was swapped
(Zheng et al. 2023, sec. 3.4), then the closest scores, then the rest in their order.

    items = pair_items(target)                 # [PairItem(key, prompt, answers=(("chosen", ..), ("rejected", ..)))]
    sides("3f1c..", seed=0) -> (1, 0)           # A shows answers[1], B shows answers[0]
    pair_labels(entries, "pairs") -> {key: {annotator: "chosen" | "rejected" | "tie"}}
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

import pyarrow.parquet as pq

from datagen.record import Record, sha256_text
from datagen.versions import DatasetVersion

LABELS = ("A", "B", "tie", "skip")
TIE, SKIP = "tie", "skip"


@dataclass
class PairItem:
    key: str
    prompt: str
    answers: tuple[tuple[str, str], tuple[str, str]]   # ((name, text), (name, text)): machine's pick first
    judge: str | None = None     # the judge's (or the dataset's) choice: a name, "tie", or None
    reason: str = ""             # eval judge: consistent | order_flip | judge_tie | unparsed
    gap: float | None = None     # |score difference| when both answers were scored
    record: Record | None = None  # the source pair or best answer (a version)
    extra: dict = field(default_factory=dict)

    @property
    def hard(self) -> tuple:
        return (self.reason != "order_flip", self.gap is None, self.gap or 0.0)


def sides(key: str, seed: int) -> tuple[int, int]:
    """(index shown as A, index shown as B), drawn per item: the same for the same key and seed."""
    return (1, 0) if random.Random(f"{seed}:{key}").random() < 0.5 else (0, 1)


def version_has_pairs(version: DatasetVersion) -> bool:
    first = next(iter(version.iter_records(64)), [])
    return any(r.is_pair for r in first) or any(j.stage == "best_of_n" and j.reason == "not_best"
                                                for b in version.iter_rejected() for j in b)


def _score(meta: dict) -> float | None:
    s = (meta or {}).get("score")
    return float(s) if isinstance(s, (int, float)) else None


def version_pairs(version: DatasetVersion) -> list[PairItem]:
    """Pairs of a pair version, else best-of-n pairs (best against the closest-scored other candidate)."""
    records = version.records()
    out = []
    for r in records:
        if r.is_pair:
            a, b = _score(r.meta.get("chosen")), _score(r.meta.get("rejected"))
            out.append(PairItem(r.id, r.prompt_text(), (("chosen", r.output), ("rejected", r.rejected)), "chosen",
                                gap=abs(a - b) if a is not None and b is not None else None, record=r))
    if out:
        return out
    losers: dict[str, list[Record]] = {}
    for j in (j for b in version.iter_rejected() for j in b if j.stage == "best_of_n" and j.reason == "not_best"):
        losers.setdefault(j.record.lineage.parents[0] if j.record.lineage.parents else "", []).append(j.record)
    for r in records:
        cands = losers.get(r.lineage.parents[0] if r.lineage.parents else "", [])
        best = _score(r.meta)
        if not cands or best is None or r.output is None:
            continue
        other = min(cands, key=lambda c: abs(best - (_score(c.meta) or 0.0)))
        answers = (("best", r.output), ("candidate", other.output or ""))
        out.append(PairItem(f"{r.id}|{other.id}", r.prompt_text(), answers, "best",
                            gap=abs(best - (_score(other.meta) or 0.0)), record=r))
    return out


def eval_pairs(folder) -> list[PairItem]:
    """One item per prompt and judged pair of models (students vs base, student vs student) of an eval."""
    rows = pq.read_table(folder / "results.parquet").to_pylist()
    answer = {(r["prompt_id"], r["model"]): r["answer"] for r in rows if r["set"] == "eval"}
    out = []
    for r in (r for r in rows if r["set"] == "eval"):
        for v in json.loads(r["judge"] or "[]"):
            a, b = r["model"], v["against"]
            if (r["prompt_id"], b) not in answer:
                continue
            pick = {"win": a, "loss": b, "tie": TIE}.get(v.get("outcome"))
            key = sha256_text(f"{r['prompt_id']}|{a}|{b}")[:24]  # opaque: blind mode must not leak the names
            out.append(PairItem(key, r["prompt"],
                                ((a, r["answer"] or ""), (b, answer[(r["prompt_id"], b)] or "")), pick,
                                v.get("reason", ""), extra={"models": [a, b], "prompt_id": r["prompt_id"]}))
    return out


def pair_items(target) -> list[PairItem]:
    """The queue: hard items first (order flips, then the closest scores), then the rest in order."""
    items = eval_pairs(target.path) if target.kind == "eval" else version_pairs(target.version)
    return sorted(items, key=lambda it: it.hard)  # stable: equal items keep their order


def pair_labels(entries: list[dict], mode: str) -> dict[str, dict[str, str]]:
    """{key: {annotator: choice}} from the journal's label lines of this mode (latest per annotator wins;
    a skip is kept as "skip")."""
    out: dict[str, dict[str, str]] = {}
    for e in entries:
        if e.get("mode") == mode and e.get("action") == "label" and e.get("choice"):
            out.setdefault(e["item"], {})[e["annotator"]] = e["choice"]
    return out


def choice_of(item: PairItem, label: str, shown: tuple[int, int]) -> str:
    """A key pressed on a shown item -> the answer it names: "A" with sides (1, 0) -> answers[1]'s name."""
    if label in (TIE, SKIP):
        return label
    return item.answers[shown[0] if label == "A" else shown[1]][0]


def resume_at(queue: list[PairItem], labels: dict[str, dict[str, str]], annotator: str) -> int:
    """The first item this annotator has not labelled (or skipped); len(queue) when all are done."""
    return next((i for i, it in enumerate(queue) if annotator not in labels.get(it.key, {})), len(queue))
