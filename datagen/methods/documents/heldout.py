"""The knowledge eval's held-out questions (pure): per document, a seeded draw of its grounded question
and answer pairs whose answer the chunk supports (the reference the eval scores against), which no
training record may hold. They leave the training records, and every training
record whose question is near one of them (content-word Jaccard, or a shared 8-word run) leaves too, so
the eval asks what the documents taught, never a question trained on.

    split_heldout(records, per_document=2, seed=7, min_support=0.6) -> (train, heldout)
    decontaminate(train, heldout, jaccard=0.6) -> (kept, [(record, held-out id it overlaps)])
"""
from __future__ import annotations

import random
from collections import defaultdict

from datagen.documents.words import content_words, normalize_answer, numbers, support
from datagen.record import Record

NGRAM = 8  # words: a shared run this long is the same question reworded around it


def supported(r: Record, min_support: float) -> bool:
    """The answer passes the lexical support check against its chunk (filters/grounding.py's Support:
    share of content words >= min_support, no number the chunk lacks): a reference worth scoring against."""
    chunk = r.meta["source"]["text"]
    return support(r.output or "", chunk)[0] >= min_support and numbers(r.output or "") <= numbers(chunk)


def split_heldout(records: list[Record], per_document: int, seed: int,
                  min_support: float = 0.0) -> tuple[list[Record], list[Record]]:
    """At most `per_document` records of each document (by its sha256) held out, drawn among those whose
    answer its chunk supports (`supported`) with a RNG seeded by the run's seed and the document, so a
    document's draw does not depend on the others; a document keeps at least one record for training."""
    if per_document <= 0:
        return list(records), []
    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_doc[r.meta["source"]["sha256"]].append(i)
    held: set[int] = set()
    for sha, idx in by_doc.items():
        ok = [i for i in idx if supported(records[i], min_support)]
        k = min(per_document, len(idx) - 1, len(ok))
        if k > 0:
            held.update(random.Random(f"{seed}:{sha}").sample(ok, k))
    return ([r for i, r in enumerate(records) if i not in held],
            [r for i, r in enumerate(records) if i in held])


def _grams(text: str) -> set[tuple[str, ...]]:
    words = normalize_answer(text).split()
    return {tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def overlaps(question: str, heldout_question: str, jaccard: float) -> bool:
    a, b = set(content_words(question)), set(content_words(heldout_question))
    if a and b and len(a & b) / len(a | b) >= jaccard:
        return True
    return bool(_grams(question) & _grams(heldout_question))


def decontaminate(train: list[Record], heldout: list[Record], jaccard: float) -> tuple[list[Record], list]:
    """Training records whose question overlaps a held-out question of any document are dropped."""
    kept, dropped = [], []
    for r in train:
        hit = next((h for h in heldout if overlaps(r.instruction, h.instruction, jaccard)), None)
        if hit is None:
            kept.append(r)
        else:
            dropped.append((r, hit.id))
    return kept, dropped
