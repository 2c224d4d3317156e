"""Toxicity, offline. Default scorer: alt-profanity-check (a linear SVM on bag-of-words that ships
its own model files, so it needs no download). A stronger classifier can be named instead when its
weights are already on disk: `model: detoxify` (or detoxify:unbiased, detoxify:multilingual) or
`model: hf:/path/to/a/text-classification/model`. Nothing is ever downloaded: the load runs with
HF_HUB_OFFLINE=1 and local_files_only, and missing weights are a DatagenError.

    Toxicity()([Record("Say hi", output="Go to hell, you stupid idiot.")]) -> [("toxic", "output p=1.00")]
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

from datagen.errors import DatagenError
from datagen.extras import require
from datagen.record import Record
from filters.base import Filter

Scorer = Callable[[list[str]], list[float]]


@contextlib.contextmanager
def offline():
    """HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE set for the duration of a model load."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update(dict.fromkeys(keys, "1"))
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def profanity_scorer() -> Scorer:
    profanity_check, = require("the toxicity filter", "profanity_check")
    return lambda texts: [float(p) for p in profanity_check.predict_prob(texts)]


def detoxify_scorer(kind: str = "original") -> Scorer:
    try:
        import torch
        from detoxify import detoxify as dx
    except ImportError:
        raise DatagenError("model detoxify needs the detoxify package (pip install detoxify) and its checkpoint "
                           "already on disk; this filter never downloads") from None
    if kind not in dx.MODEL_URLS:
        raise DatagenError(f"unknown detoxify model {kind!r}; choose from: {', '.join(dx.MODEL_URLS)}")
    ckpt = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(dx.MODEL_URLS[kind])
    if not ckpt.is_file():
        raise DatagenError(f"detoxify {kind} weights not found at {ckpt}; copy the checkpoint there "
                           "(nothing is downloaded)")
    try:
        with offline():
            model = dx.Detoxify(kind, checkpoint=str(ckpt), device="cpu")
    except Exception as exc:  # noqa: BLE001 - its tokenizer/config must be cached too
        raise DatagenError(f"detoxify {kind} could not load offline: {type(exc).__name__}: {exc}") from None
    return lambda texts: [float(p) for p in model.predict(texts)["toxicity"]]


def hf_scorer(path: str, label: str = "toxic", batch_size: int = 32) -> Scorer:
    """A local Hugging Face sequence classifier; the score is the probability of `label`
    (matched case-insensitively in id2label; with two anonymous labels, index 1)."""
    p = Path(path).expanduser()
    if not (p / "config.json").is_file():
        raise DatagenError(f"hf toxicity model not found: {p} has no config.json (give a local model "
                           "directory; nothing is downloaded)")
    try:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        with offline():
            tok = AutoTokenizer.from_pretrained(str(p), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(str(p), local_files_only=True).eval()
    except DatagenError:
        raise
    except Exception as exc:  # noqa: BLE001 - any load failure is a user-facing config problem
        raise DatagenError(f"hf toxicity model {p} could not load offline: {type(exc).__name__}: {exc}") from None
    names = {i: str(n).lower() for i, n in model.config.id2label.items()}
    idx = next((i for i, n in names.items() if n == label.lower()), None)
    if idx is None:
        if len(names) != 2:
            raise DatagenError(f"hf toxicity model {p}: no label {label!r} among {sorted(names.values())}")
        idx = 1
    multi = model.config.problem_type == "multi_label_classification"

    def score(texts: list[str]) -> list[float]:
        out: list[float] = []
        for lo in range(0, len(texts), batch_size):
            enc = tok(texts[lo:lo + batch_size], padding=True, truncation=True, max_length=512, return_tensors="pt")
            with torch.no_grad():
                logits = model(**enc).logits
            probs = torch.sigmoid(logits) if multi else torch.softmax(logits, dim=-1)
            out.extend(float(v) for v in probs[:, idx])
        return out
    return score


def make_scorer(model: str, label: str = "toxic") -> Scorer:
    if model == "profanity_check":
        return profanity_scorer()
    if model == "detoxify" or model.startswith("detoxify:"):
        return detoxify_scorer(model.partition(":")[2] or "original")
    if model.startswith("hf:"):
        return hf_scorer(model[3:], label)
    raise DatagenError(f"unknown toxicity model {model!r}; use profanity_check, detoxify[:kind] or hf:<path>")


@dataclass
class Toxicity(Filter):
    """Drop a record when any of its fields scores >= threshold. 0.9 rather than the library's 0.5:
    profanity-check scores words, not intent; it gives "Kill the process with kill -9" 0.83 and
    "Add salt to taste" 0.50, while the insults in tests/test_filters_toxicity.py score 0.97-1.0.
    No paper fixes this number: tune it on your data (the rejected rows show each score)."""
    per_record: ClassVar[bool] = True
    threshold: float = field(default=0.9, metadata={"help": "score at which a text is toxic", "min": 0.0,
                                                    "max": 1.0})
    model: str = field(default="profanity_check", metadata={"help": "profanity_check | detoxify[:kind] | "
                                                                    "hf:<local model folder>"})
    label: str = field(default="toxic", metadata={"help": "the toxic label's name (hf models)"})
    fields: list[str] = field(default_factory=lambda: ["instruction", "input", "output"],
                              metadata={"help": "fields scored"})

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        self._score: Scorer | None = None  # loaded on first use: the model is heavy

    def __call__(self, records: list[Record]) -> list:
        if self._score is None:
            self._score = make_scorer(self.model, self.label)
        texts, owners = [], []
        for i, r in enumerate(records):
            for f in self.fields:
                t = getattr(r, f, None)
                if t and t.strip():
                    texts.append(t)
                    owners.append((i, f))
        scores = self._score(texts) if texts else []
        worst: dict[int, tuple[float, str]] = {}
        for (i, f), s in zip(owners, scores):
            if s > worst.get(i, (-1.0, ""))[0]:
                worst[i] = (s, f)
        out = []
        for i in range(len(records)):
            s, f = worst.get(i, (0.0, ""))
            out.append(("toxic", f"{f} p={s:.2f}") if s >= self.threshold else None)
        return out

    def __getstate__(self) -> dict:
        """Ray ships the filter to workers: the scorer is rebuilt there, never pickled."""
        return {**self.__dict__, "_score": None}
