"""Many sequences decoded together on one llama.cpp context (llama-cpp-python's low-level bindings):
continuous batching, one shared prefill for the n candidates of a prompt, a prompt's start reused
from whatever a sequence slot still holds, a seeded sampler per sequence. One process, `threads`
threads (1 is best where other programs share the cores: see datagen/backends/llama_pool.py for one
such engine a core).

    eng = LlamaBatchEngine("model.gguf", threads=1, n_seq=16, n_ctx=2048, seed=0)
    eng.generate(["Once upon a time", "The capital of France is"], max_tokens=32, temperature=0.7,
                 top_p=0.95, n=2, stop=["\\n\\n"])
    -> [[Generated(text=" there was...", finish_reason="length", prompt_tokens=4, completion_tokens=32),
         Generated(...)],                       # n=2 candidates of prompt 0, in order
        [Generated(text=" Paris.", finish_reason="stop", ...), Generated(...)]]
    eng.chat_prompt([{"role": "user", "content": "Hi"}]) -> "<|im_start|>system\\n...<|im_start|>assistant\\n"
    eng.run([Job(prompt, max_tokens, temperature, top_p, n, stop, seed)], on_done=lambda i, gens: ...)

`generate` is batch in, batch out, order kept; `run` takes per-prompt sampling and calls `on_done(i, gens)`
as each prompt's candidates are all finished (in finishing order). Candidate k of a prompt samples with
seed `seed + k` (the job's seed, else the engine's). A prompt's text depends only on its prompt, its
sampling and the seed, not on what else is decoded beside it: every sequence has its own KV stream
(kv_unified off, so its attention never sees another's cells) and llama.cpp's CPU kernels compute each
row alone (checked bit for bit: benchmarks/embedded.py --check). finish_reason: "stop" (end-of-turn
token or a stop string; the text ends before it), "length" (max_tokens or the window), "error" (with
`error`: a prompt longer than the window). n_ctx is each sequence's window; the KV cache holds
n_seq x n_ctx tokens (~23 KB a token for SmolLM2-135M).
"""
from __future__ import annotations

import ctypes
import logging
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from datagen.backends.llama_sample import Sampler
from datagen.backends.llama_steps import Generated, Job, Scheduler  # noqa: F401 (Generated: part of the API)


class LlamaBatchEngine:
    def __init__(self, model_path: str, threads: int = 1, n_seq: int = 16, n_ctx: int = 2048, seed: int = 0,
                 n_batch: int = 512, vocab_only: bool = False) -> None:
        import llama_cpp as ll

        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # no load chatter on stderr
        self.ll, self.n_seq, self.n_ctx, self.seed, self.n_batch = ll, n_seq, n_ctx, seed, n_batch
        self.threads = threads
        if n_seq < 2:
            raise ValueError("n_seq must be at least 2 (a lone sequence decodes beside a companion)")
        self.stats: Counter = Counter()  # prompt_tokens, prompt_reused, generated_tokens, decode_calls, moves
        ll.llama_backend_init()
        mp = ll.llama_model_default_params()
        mp.vocab_only = vocab_only  # tokenizer and metadata only (chat_prompt, tokenize): no weights, no context
        self.model = ll.llama_model_load_from_file(model_path.encode(), mp)
        if not self.model:
            raise ValueError(f"llama.cpp could not load {model_path}")
        self.vocab = ll.llama_model_get_vocab(self.model)
        self._piece = ctypes.create_string_buffer(256)
        self._texts: dict[int, bytes] = {}  # token -> its text, for is_break
        self.ctx = None
        if vocab_only:
            return
        cp = ll.llama_context_default_params()
        cp.n_ctx, cp.n_batch, cp.n_ubatch, cp.n_seq_max = n_ctx * n_seq, n_batch, n_batch, n_seq
        cp.n_threads = cp.n_threads_batch = threads
        cp.kv_unified = False  # a KV stream a sequence: its attention never sees another's cells
        cp.no_perf = True
        # Flash attention on (~30% faster decoding here); its CPU kernel takes a tiled path for 64+
        # queries of a stream, which the prefill rules of llama_steps.py keep to whole prompts.
        cp.flash_attn_type = ll.LLAMA_FLASH_ATTN_TYPE_ENABLED
        self.ctx = ll.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise ValueError(f"llama.cpp could not make a context for {model_path}")
        self.mem = ll.llama_get_memory(self.ctx)
        self.batch = ll.llama_batch_init(n_batch, 0, 1)
        self.held: list[list[int]] = [[] for _ in range(n_seq)]  # tokens whose KV each slot's stream holds
        self.plans: list[list] = [[] for _ in range(n_seq)]  # ... and the classes they were computed in
        self.n_vocab = ll.llama_vocab_n_tokens(self.vocab)
        self.trace: dict | None = None  # (prompt, candidate) -> hashes of the logits it sampled from

    # --- text <-> tokens ---------------------------------------------------------------------------

    def tokenize(self, text: str, special: bool = True, add_special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        buf = (self.ll.llama_token * (len(data) + 8))()
        n = self.ll.llama_tokenize(self.vocab, data, len(data), buf, len(buf), add_special, special)
        return list(buf[:n])

    def piece(self, token: int, special: bool = False) -> bytes:
        n = self.ll.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, special)
        return self._piece.raw[:n]

    def is_break(self, prev: int | None, token: int) -> bool:
        """Whether a blank line ends at `token` (after `prev`): where a prompt's last paragraph starts."""
        p = self._text_of(token)
        return b"\n\n" in p or (prev is not None and p.startswith(b"\n") and self._text_of(prev).endswith(b"\n"))

    def _text_of(self, token: int) -> bytes:
        text = self._texts.get(token)
        if text is None:
            text = self._texts[token] = self.piece(token, special=True)
        return text

    def metadata(self, key: str) -> str | None:
        buf = ctypes.create_string_buffer(65536)
        n = self.ll.llama_model_meta_val_str(self.model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", "replace") if n >= 0 else None

    def chat_prompt(self, messages: Sequence[dict]) -> str:
        """The GGUF's own chat template applied as llama-cpp-python's chat completion does (Jinja2)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.metadata("tokenizer.chat_template")
        if not template:
            raise ValueError("this GGUF has no chat template: send raw prompts (endpoint completions)")
        eos = self.piece(self.ll.llama_vocab_eos(self.vocab), special=True).decode("utf-8", "replace")
        bos_id = self.ll.llama_vocab_bos(self.vocab)
        bos = self.piece(bos_id, special=True).decode("utf-8", "replace") if bos_id >= 0 else ""
        return Jinja2ChatFormatter(template, eos, bos).__call__(messages=list(messages)).prompt

    # --- generation --------------------------------------------------------------------------------

    def generate(self, prompts: Sequence[str], max_tokens: int, temperature: float, top_p: float = 1.0,
                 n: int = 1, stop: Sequence[str] = (), seed: int | None = None) -> list[list[Generated]]:
        jobs = [Job(p, max_tokens, temperature, top_p, n, tuple(stop), seed) for p in prompts]
        out: list[list[Generated]] = [[] for _ in jobs]

        def done(i: int, gens: list[Generated]) -> None:
            out[i] = gens

        self.run(jobs, done)
        return out

    def run(self, jobs: Sequence[Job], on_done: Callable[[int, list[Generated]], None]) -> None:
        sched = Scheduler(self, on_done)
        for i, job in enumerate(jobs):
            sched.add(i, job)
        while sched.busy:
            sched.step()

    def forget(self) -> None:
        """Empty every KV stream: the next prompts reuse nothing."""
        self.ll.llama_memory_clear(self.mem, True)
        self.held = [[] for _ in range(self.n_seq)]
        self.plans = [[] for _ in range(self.n_seq)]

    def make_sampler(self, job: Job, k: int) -> Sampler:
        """Candidate k's sampler: seeded with the job's seed (else the engine's) + k."""
        return Sampler(job.temperature, job.top_p, (self.seed if job.seed is None else job.seed) + k)

    def logits(self, idx: int) -> np.ndarray:
        """The logits row of output `idx` of the last decode call (-1: the last), a view, no copy."""
        row = self.ll.llama_get_logits_ith(self.ctx, idx)
        return np.ctypeslib.as_array(row, shape=(self.n_vocab,))

    def close(self) -> None:
        if getattr(self, "ctx", None):
            self.ll.llama_batch_free(self.batch)
            self.ll.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None):
            self.ll.llama_model_free(self.model)
            self.model = None

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order varies
        try:
            self.close()
        except Exception:
            pass
