"""The student's fallback engine: transformers in process, for students llama.cpp cannot answer (an
adapter that cannot be merged, such as prefix tuning; an architecture the GGUF export does not write).

Greedy requests are answered `batch_size` at a time (left padding; each row cut at its own max_tokens
and first stop: greedy decoding is causal, so a longer run's first m tokens are the m-token answer).
Sampled requests go one at a time with seed + k, so a seed gives the same answer in any batch.
dtype "auto" answers the first greedy batch in float32 and bfloat16 and keeps bfloat16 for the rest
only when the two agree token for token; the outcome is recorded (`info()`).

    TransformersEngine(spec, tok_loader, stats).complete([req]) -> [Completion(...)]
"""
from __future__ import annotations

from typing import Sequence

from datagen.errors import DatagenError
from datagen.hf import prefix_generate
from datagen.teacher import Choice, Completion, OnResult, Request

DTYPES = ("auto", "float32", "bfloat16")


class TransformersEngine:
    def __init__(self, load, stats, endpoint: str = "chat", device: str | None = None, dtype: str = "auto",
                 batch_size: int = 8) -> None:
        if dtype not in DTYPES:
            raise DatagenError(f"student dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
        self._load_fn = load  # dtype -> (model, tokenizer)
        self.stats, self.endpoint, self.device = stats, endpoint, device
        self.dtype, self.batch_size = dtype, max(1, int(batch_size))
        self.model = self.tok = None
        self.dtype_check: str | None = None

    def info(self) -> dict:
        loaded, threads = self.model is not None, None
        if loaded:
            import torch

            threads = torch.get_num_threads()
        return {"engine": "transformers", "dtype": self.dtype, "dtype_check": self.dtype_check,
                "batch_size": self.batch_size, "threads": threads, "device": str(self.model.device) if loaded else None}

    def load(self, dtype: str | None = None):
        try:  # the loader names a missing train extra itself, so torch is imported after it
            model, tok = self._load_fn("float32" if (dtype or self.dtype) == "auto" else (dtype or self.dtype))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise DatagenError(f"cannot load student: {str(exc).splitlines()[0]}") from None
        import torch

        model = model.to(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if self.model is None:
            self.model, self.tok = model, tok
        if prefix_generate.uses_prefix(model):  # its generate decodes one unpadded sequence
            self.batch_size = 1
        return model

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        if self.model is None and requests:
            self.load()
        out: list[Completion | None] = [None] * len(requests)
        greedy = [i for i, r in enumerate(requests) if r.sampling.temperature == 0]
        for start in range(0, len(greedy), self.batch_size):
            idx = greedy[start:start + self.batch_size]
            for i, comp in zip(idx, self._greedy_batch([requests[i] for i in idx])):
                out[i] = self._done(comp)
        for i in (i for i, r in enumerate(requests) if r.sampling.temperature != 0):
            out[i] = self._done(self._sampled(requests[i]))
        for i, comp in enumerate(out):  # in order, once all are known (a batch answers together)
            if on_result:
                on_result(i, comp)
        return out  # type: ignore[return-value]

    def _done(self, comp: Completion) -> Completion:
        self.stats.requests += 1
        if comp.ok:
            self.stats.succeeded += 1
            self.stats.add_usage(comp.usage)
        else:
            self.stats.failed += 1
            self.stats.count_error("generation_error")
        return comp

    def _prompt_ids(self, req: Request) -> list[int]:
        tok = self.tok
        if req.prompt is not None or self.endpoint == "completions":
            text = req.prompt if req.prompt is not None else "\n\n".join(m["content"] for m in req.messages)
            return list(tok(text)["input_ids"])
        return list(tok.apply_chat_template(list(req.messages), add_generation_prompt=True, return_dict=True,
                                            tokenize=True)["input_ids"])

    def _greedy_batch(self, reqs: list[Request]) -> list[Completion]:
        try:
            prompts = [self._prompt_ids(r) for r in reqs]
            longest = max(r.sampling.max_tokens for r in reqs)
            rows = self._generate(self.model, prompts, longest)
            if self.dtype == "auto":
                rows = self._check_bfloat16(prompts, longest, rows)
        except (ValueError, RuntimeError, IndexError) as exc:  # e.g. a prompt longer than the model takes
            return [Completion(key=r.key, error=f"generation_error: {str(exc).splitlines()[0]}") for r in reqs]
        return [self._completion(r, p, row[: r.sampling.max_tokens]) for r, p, row in zip(reqs, prompts, rows)]

    def _check_bfloat16(self, prompts, longest, rows):
        """First greedy batch: keep bfloat16 when it answers exactly as float32 did; else stay float32."""
        import torch

        bf16 = self.load("bfloat16") if self.model.dtype == torch.float32 else self.model
        same = self._generate(bf16, prompts, longest) == rows
        self.dtype_check = f"bfloat16 {'matched' if same else 'differed from'} float32 on {len(prompts)} greedy answers"
        self.dtype = "bfloat16" if same else "float32"
        if same:
            self.model = bf16
        return rows

    def _generate(self, model, prompts: list[list[int]], max_new: int) -> list[list[int]]:
        """Greedy continuations of left-padded prompts, each cut after its first EOS."""
        import torch

        tok, width = self.tok, max(len(p) for p in prompts)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=model.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=model.device)
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new, do_sample=False,
                                 temperature=None, top_p=None, top_k=None, pad_token_id=pad,
                                 eos_token_id=tok.eos_token_id)
        rows = []
        for row in out[:, width:].tolist():
            cut = row.index(tok.eos_token_id) + 1 if tok.eos_token_id in row else len(row)
            rows.append(row[:cut])
        return rows

    def _sampled(self, req: Request) -> Completion:
        """n answers of one request, choice k seeded with seed + k (OpenAI semantics: temperature, top_p)."""
        import torch

        s, tok = req.sampling, self.tok
        try:
            prompt = self._prompt_ids(req)
            ids = torch.tensor([prompt], device=self.model.device)
            answers = []
            for k in range(s.n):
                if s.seed is not None:
                    torch.manual_seed(s.seed + k)
                with torch.no_grad():
                    out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                              max_new_tokens=s.max_tokens, do_sample=True, temperature=s.temperature,
                                              top_p=s.top_p, top_k=0, pad_token_id=tok.pad_token_id,
                                              eos_token_id=tok.eos_token_id)
                answers.append(out[0][len(prompt):].tolist())
        except (ValueError, RuntimeError, IndexError) as exc:
            return Completion(key=req.key, error=f"generation_error: {str(exc).splitlines()[0]}")
        return self._completion(req, prompt, *answers)

    def _completion(self, req: Request, prompt: list[int], *answers: list[int]) -> Completion:
        """Greedy: the one answer repeated n times (greedy choices are identical)."""
        answers = answers if len(answers) > 1 or req.sampling.n == 1 else answers * req.sampling.n
        choices = [Choice(*finish(self.tok.decode(a, skip_special_tokens=True), a, req.sampling, self.tok.eos_token_id))
                   for a in answers]
        usage = {"prompt_tokens": len(prompt), "completion_tokens": sum(len(a) for a in answers)}
        return Completion(choices=tuple(choices), usage=usage, key=req.key)


def finish(text: str, new: list[int], s, eos_id) -> tuple[str, str]:
    """Cut at the first stop string (OpenAI leaves it out); "length" only when max_tokens ran out first."""
    cuts = [text.find(x) for x in s.stop if x and x in text]
    if cuts:
        return text[:min(cuts)].strip(), "stop"
    stopped = bool(new) and new[-1] == eos_id
    return text.strip(), "length" if len(new) >= s.max_tokens and not stopped else "stop"
