"""Batching changes no number: every prompt decoded alone, then all together in shuffled orders and with
fewer slots, comparing the bytes of every logits row a token was sampled from (a changed text is a weak
test: a sampled token flips only when a logit moves across the drawn number).

    .venv/bin/python benchmarks/embedded.py --check     # or: benchmarks/embedded_check.py MODEL.gguf
    -> batching check: 14 prompts, 560 logits rows, 4 schedules: all equal to decoding alone
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOPICS = ["rain", "a lighthouse", "bread", "the ocean", "autumn", "a cat", "bicycles", "markets", "chess",
          "volcanoes", "tea", "trains"]


def prompts(eng) -> list[str]:
    listing = "Below are tasks.\n" + "".join(f"Task {i}: write about {t}.\n" for i, t in enumerate(TOPICS))
    facts = " ".join(f"Fact {k}: the {TOPICS[k % 12]} is item {k * 7}." for k in range(30))
    out = [eng.chat_prompt([{"role": "user", "content": f"Write about {t}."}]) for t in TOPICS[:6]]
    out += [listing + f"Task 12: write about {t} and" for t in TOPICS[6:]]  # a shared start, reused
    out += [f"{t}: {facts} So" for t in TOPICS[:2]]  # ~400 tokens each
    out += [f"{TOPICS[0]}: {facts} Then, to put it in a few words,"]  # reuses ~400 tokens, computes 64
    # few-shot prompts: shared examples up to the last blank line, then a short (row kernel) or a long
    # (tiled) last paragraph; the short ones reuse every example row
    shots = "Answer each task.\n\n" + "".join(f"Task: write about {t}.\nAnswer: {t} is fine.\n\n" for t in TOPICS)
    out += [shots + f"Task: write about {t} again.\nAnswer:" for t in TOPICS[:3]]
    out += [shots + f"Task: {facts}\nAnswer:", shots[:-2] + "\nTask: one more.\nAnswer:"]
    return out


def run(eng, texts: list[str], order: list[int]) -> tuple[dict, dict]:
    from datagen.backends.llama_batch import Job

    eng.trace = {}
    jobs = [Job(texts[i], max_tokens=40, temperature=0.9, top_p=0.95, n=2 if i % 3 == 0 else 1, seed=7 + i)
            for i in order]
    res: dict = {}
    eng.run(jobs, lambda j, gens: res.__setitem__(order[j], [g.text for g in gens]))
    return res, {(order[j], k): v for (j, k), v in eng.trace.items()}


def check(model: str) -> int:
    from datagen.backends.llama_batch import LlamaBatchEngine

    eng = LlamaBatchEngine(model, threads=1, n_seq=8, n_ctx=1024, seed=0)
    texts = prompts(eng)
    ref_text, ref = {}, {}
    for i in range(len(texts)):
        eng.forget()  # alone and from scratch: nothing held to reuse
        t, tr = run(eng, texts, [i])
        ref_text.update(t)
        ref.update(tr)
    bad = []
    schedules = [("8 slots", eng, random.Random(s).sample(range(len(texts)), len(texts))) for s in range(3)]
    schedules.append(("3 slots", LlamaBatchEngine(model, threads=1, n_seq=3, n_ctx=1024, seed=0),
                      list(range(len(texts)))))
    for name, e, order in schedules:
        text, tr = run(e, texts, order)
        bad += [(name, key) for key in ref if ref[key] != tr.get(key)]
        bad += [(name, "text", i) for i in ref_text if ref_text[i] != text.get(i)]
    rows = sum(len(v) for v in ref.values())
    if bad:
        print(f"batching check FAILED: {len(bad)} differences, first {bad[:4]}")
        return 1
    print(f"batching check: {len(texts)} prompts, {rows} logits rows, {len(schedules)} schedules: "
          f"all equal to decoding alone ({Path(model).name})")
    return 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1]))
