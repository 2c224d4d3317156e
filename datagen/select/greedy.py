"""The choosing half of `datagen select`: records in score order, each taken unless its embedding
is closer than `threshold` (cosine) to one already taken, until `budget` are taken (DEITA's
score-first, diversity-aware selection, Liu et al. 2023, section 3; the embedding is the semantic
filter's all-MiniLM-L6-v2).

    order_by_score([1.0, 3.0, None, 3.0], seed=0) -> [1, 3, 0, 2]   (ties in a seeded order, None last)
    choose(np.eye(2)[[0, 0, 1]], [0, 1, 2], budget=2, threshold=0.9) -> ([0, 2], {1: (0, 1.0)})
"""
from __future__ import annotations

import random

import numpy as np

from datagen.record import Record


def order_by_score(scores: list[float | None], seed: int) -> list[int]:
    """Indices best first; equal scores in an order fixed by the seed; unscored records last."""
    idx = list(range(len(scores)))
    random.Random(seed).shuffle(idx)
    return sorted(idx, key=lambda i: (scores[i] is None, -(scores[i] or 0.0)))


def embed(records: list[Record], fields: list[str], model: str, batch_size: int = 64,
          what: str = "datagen select") -> np.ndarray:
    """Unit-norm rows; an empty text is the zero row (it never matches anything). `what` names the
    feature when the semantic extra is missing."""
    from filters.semantic import load_model

    texts = ["\n".join(str(getattr(r, f) or "") for f in fields).strip() for r in records]
    if not texts:
        return np.zeros((0, 1), np.float32)
    emb = load_model(model, what).encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
    emb[np.array([not t for t in texts])] = 0.0
    return emb


def choose(emb: np.ndarray | None, order: list[int], budget: int, threshold: float):
    """(chosen indices in order, {skipped index: (index of the chosen neighbour, cosine)}).
    With emb None every record is taken in order until the budget is met."""
    if emb is None:
        return list(order[:budget]), {}
    chosen: list[int] = []
    taken = np.empty((min(budget, len(order)), emb.shape[1]), np.float32)
    skipped: dict[int, tuple[int, float]] = {}
    for i in order:
        if len(chosen) >= budget:
            break
        if chosen:
            sims = taken[:len(chosen)] @ emb[i]
            j = int(sims.argmax())
            if sims[j] > threshold:
                skipped[i] = (chosen[j], float(sims[j]))
                continue
        taken[len(chosen)] = emb[i]
        chosen.append(i)
    return chosen, skipped
