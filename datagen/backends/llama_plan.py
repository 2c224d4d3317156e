"""How a prompt is prefilled so that its numbers never depend on what it reuses (datagen/backends/llama_steps.py).

llama.cpp's CPU kernels compute each row alone, but which kernel a row takes depends on its call: flash
attention tiles the queries of a stream when a call holds 64 or more of them (GGML_FA_TILE_Q) and takes its
row kernel for fewer, and a lone row goes through the single-row matmul. Measured (benchmarks/embedded.py
--check, and a 230-token prompt split at 100, 130, 166 or not at all): rows computed in calls of 64+ rows
give the same numbers wherever the call starts, while the same rows in a call of 38 differ. So each prompt
row gets a class from the prompt alone, and every way of computing the prompt keeps every row in its class:

- the prompt splits into two regions at its last blank line (the start of the last paragraph: a few-shot
  prompt's shared examples, then the part that differs); a prompt with no blank line is one region;
- a region of 64+ rows is class "T": computed in calls of 64-512 rows (tiled attention);
  2-63 rows "R": one call of its own (row kernel); 1 row "L": a lone row.

A prompt may reuse the rows another prompt left in a slot up to `c` when the tokens and the classes agree
on [0, c) and its own rows from `c` can still be computed in class: anywhere in an R region short of its
last row, at most 64 rows before the end of a T region (the call then holds 64), or at a region's start.

    segments([...170 tokens, blank line after token 20...], breaks)  -> [(0, 21, "R"), (21, 170, "T")]
    cut(new_segments, held_segments, common=150, n=170)              -> 106   (compute [106, 170): 64 rows)
    calls([(0, 21, "R"), (21, 170, "T")], start=0, n_batch=512)      -> [(0, 21), (21, 170)]
"""
from __future__ import annotations

from typing import Sequence

TILE = 64  # GGML_FA_TILE_Q: 64+ queries of a stream in a call take flash attention's tiled kernel

Segment = tuple[int, int, str]  # [start, end) and class: "T" (tiled calls), "R" (one row-kernel call), "L" (1 row)


def region_class(length: int) -> str:
    return "T" if length >= TILE else "R" if length >= 2 else "L"


def segments(toks: Sequence[int], breaks) -> list[Segment]:
    """The prompt's regions with their classes; `breaks(prev, token)` tells whether a blank line ends at
    a token (prev: the token before it, None for the first)."""
    n = len(toks)
    split = next((i + 1 for i in range(n - 2, -1, -1) if breaks(toks[i - 1] if i else None, toks[i])), 0)
    bounds = [0, split, n] if split else [0, n]
    return [(a, b, region_class(b - a)) for a, b in zip(bounds, bounds[1:])]


def agree(a: list[Segment], b: list[Segment]) -> int:
    """How many leading rows have the same class in both plans."""
    i = j = pos = 0
    while i < len(a) and j < len(b):
        if a[i][2] != b[j][2]:
            return pos
        pos = min(a[i][1], b[j][1])
        i, j = i + (a[i][1] == pos), j + (b[j][1] == pos)
    return pos


def cut(segs: list[Segment], held: list[Segment], common: int, n: int) -> int:
    """The furthest row c <= min(common, n - 1, rows whose class agrees) from which `segs` can be computed
    in class: 0 when nothing can be reused."""
    limit = min(common, n - 1, agree(segs, held))
    best = 0
    for a, b, cls in segs:
        if a > limit:
            break
        last = {"T": b - TILE, "R": b - 2, "L": a}[cls]  # the furthest start that keeps the region in class (>= a)
        best = max(best, min(limit, last))
    return best


def calls(segs: list[Segment], start: int, n_batch: int) -> list[tuple[int, int]]:
    """The prefill calls for rows [start, n): one for an R or L region, T regions in chunks of 64-n_batch."""
    out = []
    for a, b, cls in segs:
        a = max(a, start)
        if a >= b:
            continue
        if cls != "T":
            out.append((a, b))
            continue
        k = -(-(b - a) // n_batch)  # chunks, each of at least TILE rows since b - a >= TILE and n_batch >= 2 * TILE
        size = -(-(b - a) // k)
        out.extend((x, min(b, x + size)) for x in range(a, b, size))
    return out
