"""Sampling one token from a logits row: temperature, then nucleus (top_p), then a draw from the
sequence's own seeded generator; greedy at temperature 0. In numpy because llama.cpp's top_p sampler
sorts the whole vocabulary (2.6 ms a token for SmolLM2's 49,152 here, as long as a decode step of several
sequences); this one sorts only the most likely tokens until they hold top_p of the mass (exact).

    s = Sampler(temperature=0.7, top_p=0.95, seed=3)
    s.sample(logits)  -> 1234     # the same seed and logits give the same tokens
"""
from __future__ import annotations

import numpy as np

FIRST_K = 64  # tokens sorted first; widened x8 until they hold top_p of the probability


class Sampler:
    def __init__(self, temperature: float, top_p: float = 1.0, seed: int = 0) -> None:
        self.temperature, self.top_p = float(temperature), float(top_p)
        self.rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))

    def sample(self, logits: np.ndarray) -> int:
        if self.temperature <= 0:
            return int(np.argmax(logits))
        z = logits.astype(np.float64) / self.temperature
        w = np.exp(z - z.max())
        total = w.sum()
        if self.top_p >= 1.0:  # the whole vocabulary, in token order: no sort
            r = self.rng.random() * total
            return int(min(len(w) - 1, np.searchsorted(np.cumsum(w), r, side="right")))
        n, k = len(w), FIRST_K
        while True:
            if k >= n:
                top = np.argsort(-w, kind="stable")
            else:
                top = np.argpartition(-w, k)[:k]
                top = top[np.lexsort((top, -w[top]))]  # most likely first, ties by token id
            cum = np.cumsum(w[top]) / total
            if k >= n or cum[-1] >= self.top_p:
                break
            k *= 8
        cut = min(len(top), int(np.searchsorted(cum, self.top_p)) + 1)
        keep = w[top[:cut]]
        r = self.rng.random() * keep.sum()
        return int(top[min(cut - 1, int(np.searchsorted(np.cumsum(keep), r, side="right")))])
