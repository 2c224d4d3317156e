"""Student loading: GGUF -> cached folder (converter faked; the real one is a slow test), path errors,
chat template default."""
import json
import os

import pytest

from extras import requires

from datagen.errors import DatagenError
from datagen.hf import models
from tiny_model import build_tiny_model, build_tokenizer


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fake_converter(calls):
    def convert(gguf, out):
        calls.append(gguf)
        (out / "config.json").write_text("{}")
    return convert


def test_gguf_converted_once_then_reused(tmp_path, cache):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    calls = []
    d1, info1 = models.resolve_model(str(gguf), convert=fake_converter(calls))
    d2, info2 = models.resolve_model(str(gguf), convert=fake_converter(calls))
    assert d1 == d2 and d1.parent == cache and len(calls) == 1
    assert (d1 / "config.json").is_file()
    assert info1["kind"] == "gguf" and info1["source"] == str(gguf.resolve())
    assert info1["gguf_sha256"] == json.loads((d1 / "source.json").read_text())["sha256"]
    gguf.write_bytes(b"GGUF" + b"\1" * 90)  # another file at the same path: a fresh conversion
    d3, _ = models.resolve_model(str(gguf), convert=fake_converter(calls))
    assert d3 != d1 and len(calls) == 2


def test_failed_conversion_leaves_nothing_behind(tmp_path, cache):
    gguf = tmp_path / "bad.gguf"
    gguf.write_bytes(b"not really")

    def boom(g, out):
        (out / "half.bin").write_text("x")
        raise DatagenError("cannot load GGUF")

    with pytest.raises(DatagenError):
        models.resolve_model(str(gguf), convert=boom)
    assert os.listdir(cache) == []


@pytest.mark.parametrize("make,match", [
    (lambda p: None, "model not found"),
    (lambda p: p.mkdir(), "no config.json"),
    (lambda p: (p.mkdir(), (p / "adapter_config.json").write_text("{}")), "is a LoRA adapter"),
    (lambda p: p.write_text("x"), "neither a model folder nor a .gguf"),
])
def test_bad_model_paths(tmp_path, make, match):
    p = tmp_path / "model"
    make(p)
    with pytest.raises(DatagenError, match=match):
        models.resolve_model(str(p))


def test_no_model_given():
    with pytest.raises(DatagenError, match="no model given"):
        models.resolve_model(None)


@requires("train")
def test_model_template_is_kept(tmp_path):
    d = tmp_path / "tok"
    build_tokenizer().save_pretrained(str(d))
    tok, info = models.load_tokenizer(d)
    assert info["source"] == "model" and tok.pad_token == "<|pad|>"


@requires("train")
def test_chatml_default_applied_and_recorded(tmp_path):
    d = tmp_path / "tok"
    build_tokenizer(chat_template=None).save_pretrained(str(d))
    tok, info = models.load_tokenizer(d)
    assert info["source"] == "default:chatml" and info["added_tokens"] == []
    text = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert tok.eos_token == "<|im_end|>"


@requires("train")
def test_chatml_markers_added_and_embeddings_resized(tmp_path):
    d = build_tiny_model(tmp_path / "m", chat_template=None, chatml_tokens=False)
    tok, info = models.load_tokenizer(d)
    assert info["added_tokens"] == ["<|im_start|>", "<|im_end|>"]
    model = models.load_model(d, tok)
    assert model.get_input_embeddings().weight.shape[0] == len(tok)
    assert model.generation_config.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")


@pytest.mark.skipif(not os.environ.get("DATAGEN_SLOW"), reason="real GGUF conversion (~30 s); DATAGEN_SLOW=1")
def test_real_smollm2_gguf_converts_and_generates(cache):
    from datagen.backends.embedded import smollm2_path
    from finetune import sample

    model, tok = models.load_student(str(smollm2_path()))
    assert (next(cache.iterdir()) / "model.safetensors").is_file()
    out = sample.generate(model, tok, [[{"role": "user", "content": "What is the capital of France?"}]], 12)
    assert "Paris" in out[0]
