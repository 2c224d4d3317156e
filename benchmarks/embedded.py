"""The embedded teacher's speed (issue 31): prompt and generated tokens/s, one sequence against many,
idle and with another program holding a core, through the teacher itself beside a bare llama.cpp batch
loop on the same build and weights, and llama-cpp-python's one-at-a-time Llama (the teacher before).

    .venv/bin/python benchmarks/embedded.py                 # every row, the other core idle, then busy
    .venv/bin/python benchmarks/embedded.py --only teacher,bare --busy no
    .venv/bin/python benchmarks/embedded.py --check         # batching changes no logit (bit for bit)
    -> | teacher | 2 x 1 thread x 16 seqs | Q8_0 | idle | prompt 612 tok/s | gen 350 tok/s | load 0.4 |

Rows: `before` = llama_cpp.Llama.create_completion, shipped Q4_1 file, 1 thread, one request after
another (the old EmbeddedTeacher); `bare` = a plain loop over llama_decode in each of `workers` processes
(waves of n_seq prompts: prefill each whole, then one token of every sequence per call, greedy, no stop
test, EOS ignored; the same prompts as the teacher's);
`teacher` = EmbeddedTeacher.complete() (LlamaPool of LlamaBatchEngine). "prompt" runs ask max_tokens=1
of long prompts; "gen" runs ask 128 tokens of short ones. `busy`: a `python -c 'while 1: pass'` runs
alongside. Figures in benchmarks/README.md ("Embedded teacher").
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOPICS = ["a lighthouse", "rain in a city", "how bread is made", "a letter to a friend", "the ocean at night",
          "why the sky is blue", "autumn leaves", "a busy market", "how a bicycle works", "a lost cat",
          "a mountain village", "the first train", "a chess game", "a volcano", "green tea", "a robot"]


def gen_prompts(n: int) -> list[str]:
    """Chat turns asking for long stories (the GGUF's own template), so most answers run to max_tokens."""
    from datagen.backends.embedded import smollm2_path
    from datagen.backends.llama_batch import LlamaBatchEngine

    vocab = LlamaBatchEngine(str(smollm2_path()), vocab_only=True)
    return [vocab.chat_prompt([{"role": "user", "content": f"Write a long story about {TOPICS[i % len(TOPICS)]}, "
                                                           f"with many details (story {i})."}]) for i in range(n)]


def long_prompts(n: int) -> list[str]:
    facts = " ".join(f"Fact {k}: the {TOPICS[k % len(TOPICS)]} is item {k * 7}." for k in range(40))
    return [f"Task {i}: {TOPICS[i % len(TOPICS)]}. {facts} Summarize fact {i}." for i in range(n)]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the bare loop -------------------------------------------------------------------------------------

def bare_worker(model: str, prompts: list[str], max_tokens: int, n_seq: int, q) -> None:
    """Waves of n_seq prompts: prefill each whole, then one token of every sequence a call, greedy."""
    from datagen.backends.llama_batch import LlamaBatchEngine

    e = LlamaBatchEngine(model, threads=1, n_seq=n_seq, n_ctx=1024)
    ll, b = e.ll, e.batch
    greedy = ll.llama_sampler_init_greedy()
    n_prompt = gen = 0
    t0 = time.perf_counter()
    for w in range(0, len(prompts), n_seq):
        ll.llama_memory_clear(e.mem, True)
        pos, last = [], []
        for s, p in enumerate(prompts[w:w + n_seq]):
            toks = e.tokenize(p)
            for a in range(0, len(toks), e.n_batch):  # the whole prompt at once, up to n_batch a call
                part = toks[a:a + e.n_batch]
                for j, t in enumerate(part):
                    b.token[j], b.pos[j], b.n_seq_id[j], b.logits[j] = t, a + j, 1, a + j == len(toks) - 1
                    b.seq_id[j][0] = s
                b.n_tokens = len(part)
                assert ll.llama_decode(e.ctx, b) == 0
            n_prompt += len(toks)
            pos.append(len(toks))
            last.append(ll.llama_sampler_sample(greedy, e.ctx, -1))
        gen += len(last)
        for _ in range(max_tokens - 1):
            for s in range(len(last)):
                b.token[s], b.pos[s], b.n_seq_id[s], b.logits[s] = last[s], pos[s], 1, True
                b.seq_id[s][0] = s
                pos[s] += 1
            b.n_tokens = len(last)
            assert ll.llama_decode(e.ctx, b) == 0
            last = [ll.llama_sampler_sample(greedy, e.ctx, s) for s in range(len(last))]
            gen += len(last)
    q.put((n_prompt, gen, time.perf_counter() - t0))


def bare(model: str, prompts: list[str], max_tokens: int, workers: int, n_seq: int) -> tuple[int, int, float]:
    """The same prompts as the teacher gets, split between `workers` processes; the slowest one's time
    (process start and model load not counted)."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=bare_worker, args=(model, prompts[w::workers], max_tokens, n_seq, q))
             for w in range(workers)]
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] for r in res), sum(r[1] for r in res), max(r[2] for r in res)


# --- the teacher and the one before -----------------------------------------------------------------

def teacher_run(teacher, prompts: list[str], max_tokens: int) -> tuple[int, int, float]:
    from datagen.teacher import Request, Sampling

    s = Sampling(max_tokens=max_tokens, temperature=0.7, top_p=0.95)
    reqs = [Request(prompt=p, sampling=s.replace(seed=1000 + i)) for i, p in enumerate(prompts)]
    t = time.perf_counter()
    out = teacher.complete(reqs)
    wall = time.perf_counter() - t
    assert all(c.ok for c in out), [c.error for c in out if not c.ok][:1]
    return (sum(c.usage["prompt_tokens"] for c in out), sum(c.usage["completion_tokens"] for c in out), wall)


def before_run(llm, prompts: list[str], max_tokens: int) -> tuple[int, int, float]:
    t = time.perf_counter()
    usage = [llm.create_completion(p, max_tokens=max_tokens, temperature=0.7, top_p=0.95, seed=1000 + i)["usage"]
             for i, p in enumerate(prompts)]
    return sum(u["prompt_tokens"] for u in usage), sum(u["completion_tokens"] for u in usage), time.perf_counter() - t


def row(name: str, shape: str, weights: str, busy: bool, kind: str, r: tuple[int, int, float]) -> None:
    tok = r[0] if kind == "prompt" else r[1]
    print(f"| {name} | {shape} | {weights} | {'yes' if busy else 'no'} | {kind} | {tok} tok in {r[2]:.1f} s"
          f" = {tok / r[2]:.0f} tok/s | {load()} |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="before,bare,teacher", help="rows to run (default: %(default)s)")
    ap.add_argument("--busy", default="both", choices=("no", "yes", "both"), help="another core held (default: both)")
    ap.add_argument("--n-seq", type=int, default=16, help="sequences a worker (default: %(default)s)")
    ap.add_argument("--workers", type=int, default=0, help="processes (default: one a core)")
    ap.add_argument("--requests", type=int, default=64, help="generation requests (default: %(default)s)")
    ap.add_argument("--weights", default="", help="Q8_0 | BF16 | F16 (default: the build's best format)")
    ap.add_argument("--check", action="store_true", help="only check that batching changes no logit")
    a = ap.parse_args(argv)
    from datagen.backends import TeacherConfig
    from datagen.backends.embedded import EmbeddedTeacher, smollm2_path
    from datagen.backends.llama_pool import usable_cores
    from datagen.backends.weights import fast_weights

    if a.check:
        from benchmarks.embedded_check import check

        return check(str(fast_weights(smollm2_path())))
    workers = a.workers or usable_cores()
    fast = fast_weights(smollm2_path(), a.weights or None)
    wname = fast.name.split(".")[-2]
    print("| row | shape | weights | spinner | kind | tokens | load average |\n|---|---|---|---|---|---|---|")
    for busy in {"no": [False], "yes": [True], "both": [False, True]}[a.busy]:
        spinner = subprocess.Popen([sys.executable, "-c", "while 1: pass"]) if busy else None
        try:
            if "before" in a.only:
                import llama_cpp

                llm = llama_cpp.Llama(str(smollm2_path()), n_ctx=2048, n_threads=1, n_threads_batch=1,
                                      verbose=False, seed=0)
                row("before", "1 x 1 thread x 1 seq", "Q4_1", busy, "prompt", before_run(llm, long_prompts(4), 1))
                row("before", "1 x 1 thread x 1 seq", "Q4_1", busy, "gen", before_run(llm, gen_prompts(4), 128))
                del llm
            if "bare" in a.only:
                shape = f"{workers} x 1 thread x {a.n_seq} seqs"
                row("bare", shape, wname, busy, "prompt", bare(str(fast), long_prompts(16), 1, workers, a.n_seq))
                row("bare", shape, wname, busy, "gen", bare(str(fast), gen_prompts(a.requests), 128, workers, a.n_seq))
            if "teacher" in a.only:
                t = EmbeddedTeacher(TeacherConfig(endpoint="completions", n_ctx=1024,
                                                  options={"n_seq": a.n_seq, "workers": workers,
                                                           "weights": a.weights or "fast"}))
                shape = f"{workers} x 1 thread x {a.n_seq} seqs"
                teacher_run(t, gen_prompts(workers), 4)  # warm: the workers are up
                row("teacher", shape, wname, busy, "prompt", teacher_run(t, long_prompts(16), 1))
                row("teacher", shape, wname, busy, "gen", teacher_run(t, gen_prompts(a.requests), 128))
                t.close()
        finally:
            if spinner:
                spinner.kill()
                spinner.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
