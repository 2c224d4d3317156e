"""VLLMTeacher: the missing-extra error, and the request -> vllm.LLM call mapping on a stand-in
`vllm` module (the real one needs a GPU and is an optional extra)."""
import sys
import types

import pytest

from datagen.backends import TeacherConfig, make_teacher
from datagen.errors import DatagenError
from datagen.teacher import Request, Sampling


def test_missing_extra_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(DatagenError, match=r"pip install 'datagen\[vllm\]'"):
        make_teacher(TeacherConfig(backend="vllm", model="some/model"))


class _Out:
    def __init__(self, text, finish, tokens):
        self.text, self.finish_reason, self.token_ids = text, finish, list(range(tokens))


class _Res:
    def __init__(self, outs, prompt_tokens):
        self.outputs, self.prompt_token_ids = outs, list(range(prompt_tokens))


def fake_vllm(calls):
    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, model, **options):
            calls.append(("init", model, options))

        def _answer(self, contents, params):
            if any("TOO LONG" in c for c in contents):
                raise ValueError("prompt is longer than the maximum model length")
            return [_Res([_Out(f"{c}#{k}", "length" if p.kw["max_tokens"] < 5 else "stop", 3)
                          for k in range(p.kw["n"])], 7) for c, p in zip(contents, params)]

        def chat(self, messages, sampling_params, use_tqdm):
            calls.append(("chat", messages, [p.kw for p in sampling_params], use_tqdm))
            return self._answer([m[-1]["content"] for m in messages], sampling_params)

        def generate(self, prompts, sampling_params, use_tqdm):
            calls.append(("generate", prompts, [p.kw for p in sampling_params], use_tqdm))
            return self._answer(prompts, sampling_params)

    return types.SimpleNamespace(LLM=LLM, SamplingParams=SamplingParams)


def req(text, n=1, max_tokens=32, prompt=None, seed=3):
    return Request(messages=[{"role": "user", "content": text}], prompt=prompt, key=text,
                   sampling=Sampling(max_tokens=max_tokens, temperature=0.5, n=n, seed=seed, stop=("###",)))


def test_requests_map_to_llm_chat_and_generate(monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "vllm", fake_vllm(calls))
    t = make_teacher(TeacherConfig(backend="vllm", model="m", options={"tensor_parallel_size": 2}))
    assert t.name == "vllm:m" and calls[0] == ("init", "m", {"max_model_len": 4096, "tensor_parallel_size": 2})
    seen = []
    out = t.complete([req("a", n=2), req("x", prompt="raw"), req("b", max_tokens=2)],
                     on_result=lambda i, c: seen.append(i))
    assert [[c.text for c in o.choices] for o in out] == [["a#0", "a#1"], ["raw#0"], ["b#0"]]
    assert [o.finish_reason for o in out] == ["stop", "stop", "length"] and seen == [0, 1, 2]
    kinds = {c[0]: c for c in calls[1:]}
    assert kinds["chat"][1] == [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]
    assert kinds["chat"][2][0] == {"n": 2, "temperature": 0.5, "top_p": 1.0, "max_tokens": 32, "stop": ["###"],
                                   "seed": 3}
    assert kinds["generate"][1] == ["raw"] and kinds["chat"][3] is False
    assert out[0].usage == {"prompt_tokens": 7, "completion_tokens": 6}
    assert (t.stats.requests, t.stats.succeeded) == (3, 3)


def test_one_bad_prompt_fails_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", fake_vllm([]))
    t = make_teacher(TeacherConfig(backend="vllm", model="m"))
    out = t.complete([req("fine"), req("TOO LONG"), req("also fine")])
    assert [o.ok for o in out] == [True, False, True]
    assert out[1].error.startswith("bad_request:") and t.stats.errors == {"bad_request": 1}
