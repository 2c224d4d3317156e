"""A student written as GGUF (datagen/hf/gguf_export.py) answers through llama.cpp as transformers answers on
the same merged weights: the tiny random Llama of the tests, with a LoRA adapter merged in."""
import json
import os

import pytest

from extras import needs

needs("train")  # before the imports below: they load the trainer
pytest.importorskip("gguf", reason="the GGUF writer comes with the train extra")
llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python: make setup builds it")

from datagen.backends import TeacherConfig, make_teacher  # noqa: E402
from datagen.backends.student import resolve_student, student_sha  # noqa: E402
from datagen.backends.student_engine import student_teacher  # noqa: E402
from datagen.errors import DatagenError  # noqa: E402
from datagen.hf import gguf_export, models  # noqa: E402
from datagen.teacher import Request, Sampling  # noqa: E402
from test_student_backend import QUESTIONS, make_adapter  # noqa: E402
from tiny_model import build_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("gguf")
    os.environ["DATAGEN_MODEL_CACHE"] = str(root / "cache")
    model = sharpen(build_tiny_model(root / "tiny"))
    yield {"root": root, "model": model, "adapter": make_adapter(model, root / "run" / "sft-0001")}
    os.environ.pop("DATAGEN_MODEL_CACHE", None)


def sharpen(model_dir):
    """Q and K weights x20: the random model's attention is near uniform otherwise, and a wrong rotary
    layout would hardly change its logits."""
    from safetensors.torch import load_file, save_file

    f = model_dir / "model.safetensors"
    t = {k: v * 20 if k.endswith(("q_proj.weight", "k_proj.weight")) else v for k, v in load_file(str(f)).items()}
    save_file(t, str(f), metadata={"format": "pt"})
    return model_dir


def greedy(n=12):
    return [Request(messages=({"role": "user", "content": q},), sampling=Sampling(max_tokens=n, temperature=0.0),
                    key=str(i)) for i, q in enumerate(QUESTIONS)]


def export(student: str, fmt: str):
    s = resolve_student(student)
    return gguf_export.export_student(s.model, s.adapter, student_sha(s), fmt)


def logits_both(student: str, fmt):
    """Logits of llama.cpp on the GGUF and of transformers on the merged weights, on one chat prompt."""
    import numpy as np
    import torch

    path = export(student, fmt)
    s = resolve_student(student)
    model, tok = gguf_export.merged_model(s.model, s.adapter)
    ids = tok.apply_chat_template([{"role": "user", "content": QUESTIONS[0]}], add_generation_prompt=True,
                                  return_dict=True)["input_ids"]
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0].numpy()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, logits_all=True, verbose=False, n_threads=1)
    llm.eval(ids)
    got = np.array(llm.scores[: len(ids)])
    llm.close()
    return got, ref


@pytest.mark.parametrize("fmt, tol", [("f32", 1e-3), ("f16", 5e-3)])
def test_gguf_logits_match_the_merged_weights(env, fmt, tol):
    got, ref = logits_both(str(env["adapter"]), fmt)
    assert abs(got - ref).max() < tol * max(1.0, abs(ref).max())
    if fmt == "f32":  # a random tiny model has near ties that half precision may flip
        assert (got.argmax(-1) == ref.argmax(-1)).all()


def test_without_the_rotary_permutation_the_logits_differ(env, monkeypatch):
    monkeypatch.setattr(gguf_export, "rotary_permute", lambda w, n_head: w)
    monkeypatch.setattr(gguf_export, "EXPORT_VERSION", -1)  # not the cached, correct file
    got, ref = logits_both(str(env["model"]), "f32")
    assert abs(got - ref).max() > 0.05


def test_rotary_permute_pairs_each_heads_halves():
    import numpy as np

    w = np.arange(8 * 2).reshape(8, 2)  # 2 heads of 4 rows: rows 0..3, 4..7
    assert gguf_export.rotary_permute(w, 2)[:, 0].tolist() == [0, 4, 2, 6, 8, 12, 10, 14]


def test_llama_cpp_answers_as_transformers_on_the_merged_weights(env):
    fast = make_teacher(student_teacher(str(env["adapter"]), fmt="f32"))
    assert fast.gguf == export(str(env["adapter"]), "f32")
    slow = make_teacher(student_teacher(str(env["adapter"]), engine="transformers", dtype="float32"))
    a, b = fast.complete(greedy()), slow.complete(greedy())
    # the random model writes broken UTF-8: transformers decodes it as U+FFFD, llama-cpp-python drops it
    assert [c.text for c in a] == [c.text.replace("\ufffd", "").strip() for c in b] and all(c.ok for c in a)
    assert [c.usage["completion_tokens"] for c in a] == [c.usage["completion_tokens"] for c in b]
    assert fast.name == slow.name + "+llama.cpp:f32"  # answers of another engine never share cache entries
    assert fast.engine_info()["engine"] == "llama.cpp" and slow.engine_info()["engine"] == "transformers"


def test_the_export_is_cached_by_content(env, monkeypatch):
    first = export(str(env["adapter"]), "f16")
    info = gguf_export.export_info(first)
    assert info["format"] == "f16" and info["adapter"] == str(env["adapter"])
    assert info["metadata_from"] == "hf config and tokenizer"
    monkeypatch.setattr(gguf_export, "write_student_gguf", lambda *a: pytest.fail("written again"))
    assert export(str(env["adapter"]), "f16") == first
    other = make_adapter(env["model"], env["root"] / "run" / "sft-0002", seed=5)
    monkeypatch.undo()
    assert export(str(other), "f16") != first


def test_a_plain_student_teacher_config_answers_through_llama_cpp(env):
    """What `datagen generate --teacher.backend student --teacher.model ADAPTER` (on-policy candidates) makes."""
    t = make_teacher(TeacherConfig(backend="student", model=str(env["adapter"])))
    assert t.name.endswith(f"+llama.cpp:{gguf_export.DEFAULT_FORMAT}") and t.engine_info()["engine"] == "llama.cpp"
    assert all(c.ok for c in t.complete(greedy(4)))


def test_base_and_student_through_the_same_engine_differ_in_answers(env):
    base, stud = (make_teacher(student_teacher(str(p))) for p in (env["model"], env["adapter"]))
    assert base.engine_info()["format"] == stud.engine_info()["format"] == gguf_export.DEFAULT_FORMAT
    assert [c.text for c in base.complete(greedy())] != [c.text for c in stud.complete(greedy())]


def prefix_adapter(model_dir, out):
    import torch
    from peft import PrefixTuningConfig, get_peft_model

    tok, _ = models.load_tokenizer(model_dir)
    torch.manual_seed(0)
    model = get_peft_model(models.load_model(model_dir, tok), PrefixTuningConfig(task_type="CAUSAL_LM",
                                                                                 num_virtual_tokens=2))
    model.save_pretrained(str(out))
    (out / "provenance.json").write_text(json.dumps({"base_model": {"source": str(model_dir.resolve())}}))
    return out


def test_an_adapter_that_cannot_be_merged_falls_back_to_transformers(env):
    adapter = prefix_adapter(env["model"], env["root"] / "run" / "prefix-0001")
    t = make_teacher(student_teacher(str(adapter)))
    assert t.gguf is None and "+llama.cpp" not in t.name
    assert all(c.ok for c in t.complete(greedy(4)))
    info = t.engine_info()
    assert info["engine"] == "transformers" and "cannot be merged" in info["fallback"]
    with pytest.raises(DatagenError, match="cannot be answered by llama.cpp"):
        make_teacher(student_teacher(str(adapter), engine="llama.cpp"))


def test_batched_transformers_answers_as_one_at_a_time(env):
    one = make_teacher(student_teacher(str(env["adapter"]), engine="transformers", batch_size=1, dtype="float32"))
    many = make_teacher(student_teacher(str(env["adapter"]), engine="transformers", batch_size=3))
    reqs = greedy(10)
    assert [c.text for c in many.complete(reqs)] == [c.text for c in one.complete(reqs)]
    info = many.engine_info()
    assert info["batch_size"] == 3 and info["dtype"] in ("bfloat16", "float32")
    assert info["dtype_check"].endswith("float32 on 3 greedy answers")


def test_bad_engine_and_format_are_one_line_errors(env):
    with pytest.raises(DatagenError, match="unknown student engine 'vllm'"):
        make_teacher(student_teacher(str(env["model"]), engine="vllm"))
    with pytest.raises(DatagenError, match="unknown student GGUF format 'q4_0'"):
        make_teacher(student_teacher(str(env["model"]), fmt="q4_0"))


@pytest.mark.skipif(not os.environ.get("DATAGEN_SLOW"), reason="SmolLM2 conversion and export (~40 s); DATAGEN_SLOW=1")
def test_smollm2_base_keeps_its_gguf_tokenizer_and_greedy_answers():
    from datagen.backends.embedded import smollm2_path

    os.environ.pop("DATAGEN_MODEL_CACHE", None)
    spec = str(smollm2_path())
    fast = make_teacher(student_teacher(spec))
    assert gguf_export.export_info(fast.gguf)["metadata_from"] == str(smollm2_path())
    slow = make_teacher(student_teacher(spec, engine="transformers", dtype="float32"))
    reqs = greedy(32)
    assert [c.text for c in fast.complete(reqs)] == [c.text for c in slow.complete(reqs)]


def test_eval_answers_base_and_student_through_llama_cpp_and_records_it(env, tmp_path):
    from datagen.evaluation.config import EvalConfig
    from datagen.evaluation.evaluate import evaluate

    cfg = EvalConfig(students=[str(env["adapter"])], base=str(env["model"]), judge=False, heldout="none", limit=3,
                     answer_max_tokens=6, resamples=100, output_dir=str(tmp_path / "evals"))
    out = evaluate(cfg)
    models_ = json.loads((out / "provenance.json").read_text())["models"]
    engines = {m["role"]: m["engine"] for m in models_}
    assert engines["student"]["engine"] == engines["base"]["engine"] == "llama.cpp"
    assert engines["student"]["format"] == engines["base"]["format"] == gguf_export.DEFAULT_FORMAT
    assert engines["student"]["threads"] >= 1 and engines["student"]["batch_size"] >= 1
    cfg.student_engine = "transformers"
    cfg.output_dir = str(tmp_path / "evals-hf")
    hf = json.loads((evaluate(cfg) / "provenance.json").read_text())["models"]
    assert {m["engine"]["engine"] for m in hf} == {"transformers"}
