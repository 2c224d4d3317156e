"""Teacher over vLLM in process (`vllm.LLM`): the whole batch goes to the engine at once and vLLM's
continuous batching does the rest. Needs a GPU and the optional extra: pip install 'datagen[vllm]'.

    VLLMTeacher(TeacherConfig(backend="vllm", model="Qwen/Qwen2.5-7B-Instruct",
                              options={"tensor_parallel_size": 2})).complete(requests)
    -> [Completion(choices=(Choice(text, finish_reason), ...), usage={...}), ...]

Chat requests go through `LLM.chat` (the model's own chat template), raw prompts through
`LLM.generate`. Every SamplingParams field that changes the data is set explicitly: vLLM's own
default for max_tokens is 16 (vllm#5395).
"""
from __future__ import annotations

from typing import Sequence

from datagen.errors import DatagenError
from datagen.extras import require
from datagen.teacher import Choice, Completion, OnResult, Request, TeacherStats



class VLLMTeacher:
    supports_raw = True  # Request.prompt goes to LLM.generate

    def __init__(self, cfg) -> None:
        vllm, = require("the vllm teacher", "vllm")
        if not cfg.model:
            raise DatagenError("the vllm teacher needs --model (a Hugging Face model id or a local model folder)")
        self._vllm = vllm
        self.name = f"vllm:{cfg.model}"
        self.endpoint = cfg.endpoint
        self.stats = TeacherStats()
        options = {"max_model_len": cfg.n_ctx, **dict(cfg.options)}
        try:
            self._llm = vllm.LLM(model=cfg.model, **options)
        except (TypeError, ValueError, OSError) as exc:  # bad option, unknown model, missing files
            raise DatagenError(f"vllm could not load {cfg.model}: {exc}") from None

    def chat_template(self) -> str | None:
        """The tokenizer's chat template (Magpie reads its pre-query part)."""
        try:
            return getattr(self._llm.get_tokenizer(), "chat_template", None) or None
        except (AttributeError, ValueError, OSError):
            return None

    def _params(self, req: Request):
        s = req.sampling
        return self._vllm.SamplingParams(n=s.n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens,
                                         stop=list(s.stop) or None, seed=s.seed)

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        chat = [i for i, r in enumerate(requests) if r.prompt is None and self.endpoint == "chat"]
        raw = [i for i in range(len(requests)) if i not in set(chat)]
        out: list[Completion | None] = [None] * len(requests)
        for idx, is_chat in ((chat, True), (raw, False)):
            if idx:
                for i, comp in zip(idx, self._run([requests[i] for i in idx], is_chat)):
                    out[i] = comp
        for i, comp in enumerate(out):
            self.stats.requests += 1
            if comp.ok:
                self.stats.succeeded += 1
                self.stats.add_usage(comp.usage)
            else:
                self.stats.failed += 1
                self.stats.count_error(comp.error.split(":")[0])
            if on_result:
                on_result(i, comp)
        return out  # type: ignore[return-value]

    def _run(self, reqs: list[Request], chat: bool) -> list[Completion]:
        """One engine call for the batch; if vLLM rejects it (one prompt too long for the context
        rejects them all), each request is tried alone so that only the bad one fails."""
        try:
            return [self._completion(r, o) for r, o in zip(reqs, self._generate(reqs, chat))]
        except ValueError as exc:
            if len(reqs) == 1:
                return [Completion(key=reqs[0].key, error=f"bad_request: {exc}"[:500])]
        return [c for r in reqs for c in self._run([r], chat)]

    def _generate(self, reqs: list[Request], chat: bool):
        params = [self._params(r) for r in reqs]
        if chat:
            return self._llm.chat([list(r.messages) for r in reqs], sampling_params=params, use_tqdm=False)
        prompts = [r.prompt if r.prompt is not None else "\n\n".join(m["content"] for m in r.messages) for r in reqs]
        return self._llm.generate(prompts, sampling_params=params, use_tqdm=False)

    @staticmethod
    def _completion(req: Request, res) -> Completion:
        choices = tuple(Choice(text=o.text, finish_reason=o.finish_reason or "stop") for o in res.outputs)
        usage = {"prompt_tokens": len(res.prompt_token_ids or []),
                 "completion_tokens": sum(len(o.token_ids or []) for o in res.outputs)}
        return Completion(choices=choices, usage=usage, key=req.key)
