"""The batch engine under the embedded teacher (datagen/backends/llama_batch.py) on the real SmolLM2-135M GGUF:
decoding prompts together changes no logit against decoding each alone, n candidates share one prefill,
stop strings end the text before them, order is kept. Kept small: a few prompts, <= 24 tokens."""
import pytest

pytest.importorskip("llama_cpp")
from datagen.errors import DatagenError  # noqa: E402

try:
    from datagen.backends.embedded import smollm2_path
    smollm2_path()
except DatagenError as exc:  # pragma: no cover - only without the model package
    pytest.skip(f"no embedded model: {exc}", allow_module_level=True)

from datagen.backends.llama_batch import Job, LlamaBatchEngine  # noqa: E402
from datagen.backends.weights import fast_weights  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    eng = LlamaBatchEngine(str(fast_weights(smollm2_path())), threads=1, n_seq=4, n_ctx=512, seed=0)
    yield eng
    eng.close()


def traced(eng, jobs):
    eng.trace, texts = {}, {}
    eng.run(jobs, lambda i, gens: texts.__setitem__(i, [g.text for g in gens]))
    return texts, eng.trace


def test_batching_changes_no_logit(engine):
    shared = "Below are tasks.\n" + "".join(f"Task {i}: write about item {i}.\n" for i in range(8))
    facts = "Fact: " + " ".join(f"item {k} is {k * 3}." for k in range(40))  # ~250 tokens
    prompts = [engine.chat_prompt([{"role": "user", "content": "Write about rain."}]),  # short: the row kernel
               shared + "Task 8: write about", shared + "Task 8: describe",  # a shared start, reused
               facts + " So", facts + " Then, in a few words,"]  # long: tiled, the second reuses the first
    jobs = [Job(p, max_tokens=24, temperature=0.9, top_p=0.95, n=2 if i == 0 else 1, seed=5 + i)
            for i, p in enumerate(prompts)]
    alone_text, alone = {}, {}
    for i, job in enumerate(jobs):
        engine.forget()  # alone and from scratch: nothing held to reuse
        t, tr = traced(engine, [job])
        alone_text[i] = t[0]
        alone.update({(i, k): v for (_, k), v in tr.items()})
    order = [3, 1, 4, 0, 2]  # 6 sequences on 4 slots: some wait, slots are freed, moved and reused
    t, tr = traced(engine, [jobs[i] for i in order])
    together = {(order[j], k): v for (j, k), v in tr.items()}
    assert sum(len(v) for v in alone.values()) > 60
    assert together == alone
    assert {order[j]: v for j, v in t.items()} == alone_text


def test_candidates_share_one_prefill_and_differ(engine):
    engine.stats.clear()
    out = engine.generate(["Once upon a time, in a small village,"], max_tokens=16, temperature=1.0, n=3)
    assert len(out) == 1 and len(out[0]) == 3
    assert engine.stats["prompt_tokens"] + engine.stats["prompt_reused"] == out[0][0].prompt_tokens  # prefilled once
    assert len({g.text for g in out[0]}) > 1


def test_stop_string_and_order(engine):
    out = engine.generate(["1. apples\n2. pears\n3.", "The capital of France is"], max_tokens=24,
                          temperature=0.0, stop=["\n"])
    assert [len(o) for o in out] == [1, 1]
    first = out[0][0]
    assert "\n" not in first.text and first.finish_reason in ("stop", "length") and first.completion_tokens >= 1


def test_prompt_longer_than_the_window_is_an_error(engine):
    [[gen]] = engine.generate(["word " * 600], max_tokens=4, temperature=0.0)
    assert gen.finish_reason == "error" and "exceed context window of 512" in gen.error


def test_the_pool_spreads_a_small_wave_over_its_workers():
    """Two prompts on two workers of 16 slots: one each (the first worker once took both while the second
    idled), and the answers are the ones a single engine gives."""
    from datagen.backends.llama_pool import LlamaPool

    path = str(fast_weights(smollm2_path()))
    jobs = [Job(f"A short note about {w}:", max_tokens=8, temperature=0.0, n=1, seed=1) for w in ("rain", "bread")]
    pool = LlamaPool(path, workers=2, n_seq=16, n_ctx=512, seed=0)
    try:
        got = {}
        pool.run(jobs, lambda i, gens: got.__setitem__(i, [g.text for g in gens]))
        per_worker = [s.get("generated_tokens", 0) for s in pool.worker_stats()]
    finally:
        pool.close()
    assert all(n > 0 for n in per_worker), per_worker
    one = LlamaBatchEngine(path, threads=1, n_seq=2, n_ctx=512, seed=0)
    try:
        assert [[g.text for g in o] for o in one.generate([j.prompt for j in jobs], max_tokens=8, temperature=0.0)] \
            == [got[0], got[1]]
    finally:
        one.close()
