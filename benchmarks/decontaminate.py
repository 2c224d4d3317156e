"""Decontamination benchmark, one core: synthetic records streamed batch by batch through
filters.decontaminate against a synthetic eval set, with planted 13-gram overlaps (must be dropped,
with the right eval id and n-gram) and planted 12-gram near misses (must be kept).

    .venv/bin/python benchmarks/decontaminate.py --records 1000000 --eval-prompts 10000 --batch 10000
    -> {"records": 1000000, ..., "precision": 1.0, "recall": 1.0, "near_misses_kept": 1.0}

Records are made one batch at a time from seeded word ids (Zipf frequencies over made-up words);
only the planted positions and the verdict counts are kept, never the records. Exit 1 unless
exactly the planted overlaps are dropped.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one core

from measure import peak_rss_mb  # noqa: E402
import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from datagen.record import Record  # noqa: E402
from filters.decontaminate import GPT3_NGRAM, Decontaminate  # noqa: E402

N = GPT3_NGRAM
LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
SEPS = (" ", ", ", "; ", " - ", "... ", ": ")


def vocabulary(rng: np.random.Generator, size: int) -> tuple[list[str], np.ndarray]:
    """`size` distinct made-up lower-case words (3-10 letters) and Zipf probabilities (rank^-1)."""
    words: set[str] = set()
    while len(words) < size:
        lens = rng.integers(3, 11, size)
        words.update("".join(LETTERS[rng.integers(0, 26, k)]) for k in lens)
    vocab = sorted(words)[:size]
    order = rng.permutation(size)
    p = 1.0 / np.arange(1, size + 1)
    return [vocab[i] for i in order], p / p.sum()


def eval_set(rng, vocab, p, count: int, path: Path) -> list[np.ndarray]:
    """`count` prompts of 30-50 words (mean 40) written to a JSONL file; returns their word ids."""
    prompts = []
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            ids = rng.choice(len(vocab), size=int(rng.integers(30, 51)), p=p)
            prompts.append(ids)
            text = " ".join(vocab[t] for t in ids).capitalize() + "?"
            fh.write(json.dumps({"id": f"ev-{i:05d}", "prompt": text, "constraints": []}) + "\n")
    return prompts


def plan(rng, records: int, prompts: list[np.ndarray], planted: int) -> dict[int, tuple]:
    """record index -> (kind, eval prompt, word offset, field): `planted` overlaps of N words and
    as many near misses of N-1 words, at distinct records."""
    where = rng.choice(records, size=2 * planted, replace=False)
    out = {}
    for k, r in enumerate(where.tolist()):
        kind = "overlap" if k < planted else "near"
        length = N if kind == "overlap" else N - 1
        j = int(rng.integers(len(prompts)))
        off = int(rng.integers(0, len(prompts[j]) - length + 1))
        field = ("output", "output", "output", "instruction", "input")[int(rng.integers(5))]
        out[r] = (kind, j, off, length, field)
    return out


def render(ids: list[int], vocab, span: tuple[int, int] | None, rng) -> str:
    """Word ids -> text; inside `span` words get other case and punctuation between them."""
    if span is None:
        return " ".join(vocab[t] for t in ids).capitalize() + "."
    out = []
    for i, t in enumerate(ids):
        w = vocab[t]
        if span[0] <= i < span[1]:
            w = (w.upper(), w.capitalize(), w)[int(rng.integers(3))] + SEPS[int(rng.integers(len(SEPS)))]
        else:
            w += " "
        out.append(w)
    return "".join(out).strip() + "."


def plant(rng, field_ids: list[int], src: np.ndarray, off: int, length: int, V: int) -> tuple[list[int], tuple]:
    """Insert src[off:off+length] into field_ids; the words next to it differ from the eval
    prompt's neighbours, so the shared run is exactly `length` words long."""
    q = int(rng.integers(0, len(field_ids) + 1))
    ids = field_ids[:q] + src[off:off + length].tolist() + field_ids[q:]
    before = int(src[off - 1]) if off > 0 else -1
    after = int(src[off + length]) if off + length < len(src) else -1
    for pos, avoid in ((q - 1, before), (q + length, after)):
        while 0 <= pos < len(ids) and ids[pos] == avoid:
            ids[pos] = int(rng.integers(V))
    return ids, (q, q + length)


def batch(rng, start: int, size: int, vocab, p, plants, prompts) -> list[Record]:
    """Records start..start+size-1: instruction ~15 words, output ~80, 30% with an input ~20."""
    lens = np.stack([np.clip(rng.normal(15, 5, size), 3, 40), np.clip(rng.normal(80, 30, size), 10, 250),
                     np.where(rng.random(size) < 0.3, np.clip(rng.normal(20, 8, size), 3, 60), 0)]).astype(int)
    words = rng.choice(len(vocab), size=int(lens.sum()), p=p).tolist()
    out, at = [], 0
    for i in range(size):
        parts = {}
        for f, k in zip(("instruction", "output", "input"), lens[:, i]):
            parts[f], at = words[at:at + k], at + k
        spans = dict.fromkeys(parts)
        if start + i in plants:
            _, j, off, length, f = plants[start + i]
            parts[f], spans[f] = plant(rng, parts[f], prompts[j], off, length, len(vocab))
        text = {f: render(ids, vocab, spans[f], rng) if ids else "" for f, ids in parts.items()}
        out.append(Record.make(text["instruction"], text["input"], text["output"]))
    return out


def run(args) -> dict:
    rng = np.random.default_rng(args.seed)
    vocab, p = vocabulary(rng, args.vocab)
    with tempfile.TemporaryDirectory() as tmp:
        prompts = eval_set(rng, vocab, p, args.eval_prompts, Path(tmp) / "eval.jsonl")
        w0 = time.perf_counter()
        filt = Decontaminate(eval_sets=[str(Path(tmp) / "eval.jsonl")])
        build_s = time.perf_counter() - w0
    plants = plan(rng, args.records, prompts, args.planted)
    gen_s = wall = cpu = 0.0
    dropped, wrong_detail = [], 0
    for start in range(0, args.records, args.batch):
        g0 = time.perf_counter()
        recs = batch(rng, start, min(args.batch, args.records - start), vocab, p, plants, prompts)
        gen_s += time.perf_counter() - g0
        w0, c0 = time.perf_counter(), time.process_time()
        verdicts = filt(recs)
        wall, cpu = wall + time.perf_counter() - w0, cpu + time.process_time() - c0
        for i, v in enumerate(verdicts):
            if v is not None:
                dropped.append(start + i)
                wrong_detail += v[1] != expected_detail(plants.get(start + i), prompts, vocab)
    truth = {r for r, (kind, *_) in plants.items() if kind == "overlap"}
    near = {r for r, (kind, *_) in plants.items() if kind == "near"}
    hit = truth & set(dropped)
    return {"records": args.records, "eval_prompts": args.eval_prompts, "n": N, "batch": args.batch,
            "eval_ngrams": filt._index.size, "index_mb": round(filt.nbytes() / 2**20, 2),
            "build_s": round(build_s, 2), "filter_wall_s": round(wall, 1), "filter_cpu_s": round(cpu, 1),
            "records_per_s": round(args.records / wall), "records_per_cpu_s": round(args.records / cpu),
            "generate_s": round(gen_s, 1), "planted": len(truth), "dropped": len(dropped),
            "precision": round(len(hit) / max(1, len(dropped)), 6), "recall": round(len(hit) / max(1, len(truth)), 6),
            "near_misses": len(near), "near_misses_kept": round(1 - len(near & set(dropped)) / max(1, len(near)), 6),
            "wrong_details": wrong_detail,
            "peak_rss_mb": peak_rss_mb()}


def expected_detail(planted, prompts, vocab) -> str | None:
    if planted is None or planted[0] != "overlap":
        return None
    _, j, off, length, _ = planted
    return f"ev-{j:05d}: '{' '.join(vocab[t] for t in prompts[j][off:off + length])}'"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--eval-prompts", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--planted", type=int, default=1_000, help="13-gram overlaps (and as many 12-gram near misses)")
    ap.add_argument("--vocab", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = run(args)
    print(json.dumps(out, indent=2))
    ok = out["precision"] == 1.0 and out["recall"] == 1.0 and out["near_misses_kept"] == 1.0
    return 0 if ok and not out["wrong_details"] else 1


if __name__ == "__main__":
    sys.exit(main())
