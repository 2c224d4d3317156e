"""The `student` teacher backend on a tiny random Llama built in the test (no download): an adapter, a
model folder and a (faked) GGUF answer in order, are named by their weights, and go through the cache."""
import json
import shutil
import subprocess
import sys

import pytest

from extras import needs

needs("train")  # before the imports below: they load the trainer

from datagen.backends import TeacherConfig, make_teacher  # noqa: E402
from datagen.backends.student_hf import finish as _finish  # noqa: E402
from datagen.cache import CachedTeacher, ResponseCache  # noqa: E402
from datagen.errors import DatagenError  # noqa: E402
from datagen.hf import models  # noqa: E402
from datagen.teacher import Request, Sampling  # noqa: E402
from datagen.versions.hashing import file_sha  # noqa: E402
from tiny_model import build_tiny_model  # noqa: E402

QUESTIONS = ["Which animal barks?", "Name a primary color.", "What is two plus two?"]


def make_adapter(model_dir, out, seed=1):
    """A LoRA adapter with random (non-zero) B, so it changes the model, and a provenance naming its base."""
    import torch
    from peft import LoraConfig, get_peft_model

    tok, _ = models.load_tokenizer(model_dir)
    torch.manual_seed(seed)
    model = get_peft_model(models.load_model(model_dir, tok), LoraConfig(
        r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(str(out))
    (out / "provenance.json").write_text(json.dumps({"base_model": {"source": str(model_dir.resolve())}}))
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("student")
    model = build_tiny_model(root / "tiny")
    return {"root": root, "model": model, "adapter": make_adapter(model, root / "run" / "sft-0001")}


def student(spec, **options):
    """The transformers engine (tests/test_student_gguf.py covers llama.cpp, the default where it can)."""
    return make_teacher(TeacherConfig(backend="student", model=str(spec), options={"engine": "transformers", **options}))


def requests(max_tokens=(4, 2, 6), temperature=0.0, seed=None):
    return [Request(messages=[{"role": "user", "content": q}], key=f"k{i}",
                    sampling=Sampling(max_tokens=m, temperature=temperature, seed=seed))
            for i, (q, m) in enumerate(zip(QUESTIONS, max_tokens))]


@pytest.mark.parametrize("which", ["adapter", "model"])
def test_answers_a_batch_in_order(env, which):
    t = student(env[which])
    seen = []
    out = t.complete(requests(), on_result=lambda i, c: seen.append(i))
    assert seen == [0, 1, 2] and [c.key for c in out] == ["k0", "k1", "k2"]
    for c, m in zip(out, (4, 2, 6)):
        assert c.ok and isinstance(c.text, str) and c.finish_reason in ("stop", "length")
        assert 1 <= c.usage["completion_tokens"] <= m and c.usage["prompt_tokens"] > 0
        if c.finish_reason == "length":
            assert c.usage["completion_tokens"] == m
    assert t.stats.requests == t.stats.succeeded == 3 and t.stats.completion_tokens > 0


def test_finish_reason_length_only_when_max_tokens_ran_out():
    s = Sampling(max_tokens=3, temperature=0)
    assert _finish(" ab ", [5, 6, 7], s, eos_id=2) == ("ab", "length")
    assert _finish("ab", [5, 6, 2], s, eos_id=2) == ("ab", "stop")  # EOS as the last allowed token
    assert _finish("ab", [5, 2], s, eos_id=2) == ("ab", "stop")
    assert _finish("ab\nUser: x", [5, 6, 7], s.replace(stop=("\nUser:",)), eos_id=2) == ("ab", "stop")


def test_names_identify_the_weights(env, tmp_path):
    from safetensors.torch import load_file, save_file

    a1, a2, m = student(env["adapter"]), student(env["adapter"]), student(env["model"])
    assert a1.name == a2.name and a1.name.startswith("student:adapter:run/sft-0001@")
    assert m.name.startswith("student:hf:") and m.name != a1.name
    assert a1.base() == str(env["model"].resolve()) and m.base() is None
    other = make_adapter(env["model"], tmp_path / "run" / "sft-0001", seed=2)  # same short name, other weights
    assert student(other).name != a1.name
    copy = shutil.copytree(env["model"], tmp_path / "tiny-copy")
    # The base is part of the identity: a copy of the base (same bytes) keeps the name, other weights change it.
    assert student(env["adapter"], base=str(copy)).name == a1.name
    weights = copy / "model.safetensors"
    tensors = load_file(str(weights))
    tensors = {k: v + 1 if k.endswith("q_proj.weight") else v for k, v in tensors.items()}
    save_file(tensors, str(weights), metadata={"format": "pt"})
    assert student(env["adapter"], base=str(copy)).name != a1.name


def test_greedy_and_seeded_answers_repeat(env):
    t = student(env["adapter"])
    assert [c.text for c in t.complete(requests())] == [c.text for c in t.complete(requests())]
    sampled = [[c.text for c in t.complete(requests((8, 8, 8), 1.0, seed=7))] for _ in range(2)]
    assert sampled[0] == sampled[1]


def test_adapter_changes_the_answers(env):
    long = requests((12, 12, 12))
    assert [c.text for c in student(env["adapter"]).complete(long)] != \
        [c.text for c in student(env["model"]).complete(long)]


def test_cache_serves_a_repeat_without_loading_the_model(env, tmp_path):
    first = CachedTeacher(student(env["adapter"]), ResponseCache(tmp_path / "c.sqlite"))
    answers = first.complete(requests())
    again_inner = student(env["adapter"])
    again = CachedTeacher(again_inner, ResponseCache(tmp_path / "c.sqlite"))
    repeat = again.complete(requests())
    assert [c.text for c in repeat] == [c.text for c in answers] and all(c.cached for c in repeat)
    assert again.stats.cache_hits == 3 and again_inner.stats.requests == 0
    assert again_inner._hf.model is None  # never loaded


def test_gguf_student_is_named_by_the_gguf(env, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(models, "convert_gguf", lambda g, out: shutil.copytree(env["model"], out, dirs_exist_ok=True))
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    t = student(gguf)
    assert t.name == f"student:gguf:tiny.gguf@{file_sha(gguf)[:12]}" and t.base() is None
    assert t.complete(requests())[0].ok


@pytest.mark.parametrize("make,match", [
    (lambda p, m: None, "student not found"),
    (lambda p, m: p.mkdir(), "neither an adapter folder"),
    (lambda p, m: (p.mkdir(), (p / "adapter_config.json").write_text("{}")), "names no base model"),
    (lambda p, m: (p.mkdir(), (p / "adapter_config.json").write_text("{}"),
                   (p / "provenance.json").write_text(json.dumps({"base_model": {"source": str(m / "gone")}}))),
     "base model of student adapter .* not found"),
])
def test_bad_students_are_one_line_errors(env, tmp_path, make, match):
    p = tmp_path / "adapter"
    make(p, tmp_path)
    with pytest.raises(DatagenError, match=match) as exc:
        student(p)
    assert "\n" not in str(exc.value)


def test_importing_the_backend_does_not_import_torch():
    code = "import sys, datagen.backends.student; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
