"""`datagen train --peft lora|prefix|ia3` on the tiny random Llama: a prefix adapter trains, is recorded in the
provenance, reloads (`datagen sample`, the student backend that `datagen eval` uses) and answers WITH its prefix
(transformers 5's generate drops it: datagen/hf/prefix_generate.py); IA3 trains at its own rate; combinations
that cannot work are one line, exit 2."""
import json
from pathlib import Path

import pytest
from extras import needs

needs("train")

from datagen.cli import main  # noqa: E402
from datagen.hf import models  # noqa: E402
from tiny_model import build_tiny_model, pair_records, sft_records, write  # noqa: E402

FAST = ["--per_device_train_batch_size", "2", "--eval_max_new_tokens", "4", "--num_eval", "1", "--max_length", "64",
        "--max_steps", "3"]
PROMPT = [{"role": "user", "content": "Name a fruit that is yellow."}]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("peft")
    runs = root / "runs"
    write(runs, "qa", sft_records())
    write(runs, "pairs", pair_records())
    return {"root": root, "runs": str(runs), "out": str(root / "adapters"), "model": build_tiny_model(root / "tiny")}


def train(env, kind, name, *extra, data="qa"):
    fast = FAST if kind != "grpo" else ["--max_steps", "1"]
    return main(["train", kind, "--data", data, "--runs", env["runs"], "--model", str(env["model"]),
                 "--out", env["out"], "--name", name, *fast, *extra])


@pytest.fixture(scope="module")
def prefix_run(env):
    assert train(env, "sft", "prefix", "--peft", "prefix", "--num_virtual_tokens", "4") == 0
    (run,) = (Path(env["out"]) / "prefix").glob("sft-*")
    return run


def test_prefix_adapter_is_written_and_recorded(prefix_run):
    cfg = json.loads((prefix_run / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "PREFIX_TUNING" and cfg["num_virtual_tokens"] == 4
    prov = json.loads((prefix_run / "provenance.json").read_text())
    assert prov["peft"]["method"] == "prefix" and prov["peft"]["settings"]["num_virtual_tokens"] == 4
    assert prov["config"]["student"]["peft"] == "prefix" and prov["outputs"] == ["adapter"]
    assert not (prefix_run / "merged").exists()


def test_reloaded_prefix_answers_with_its_prefix(prefix_run):
    import torch

    model, tok = models.load_student(None, str(prefix_run))
    enc = tok.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        with_prefix = model(**enc).logits[0, -1]
        with model.disable_adapter():
            base = model(**enc).logits[0, -1]
    assert (with_prefix - base).abs().max() > 1e-3  # the trained prefix changes the next-token scores
    ids = model.generate(input_ids=enc["input_ids"], max_new_tokens=1, do_sample=False,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    assert int(ids[0, -1]) == int(with_prefix.argmax())  # generation reads the same scores as training


def test_prefix_student_answers_in_sample_and_as_a_teacher(prefix_run, tmp_path, capsys):
    from datagen.backends import TeacherConfig
    from datagen.backends.student import StudentTeacher
    from datagen.teacher import Request, Sampling

    prompts = tmp_path / "p.txt"
    prompts.write_text(PROMPT[0]["content"] + "\n")
    out = tmp_path / "answers.jsonl"
    assert main(["sample", "--adapter", str(prefix_run), "--prompts", str(prompts), "--max_new_tokens", "4",
                 "--out", str(out)]) == 0
    answer = json.loads(out.read_text())["answer"]
    teacher = StudentTeacher(TeacherConfig(backend="student", model=str(prefix_run)))
    (comp,) = teacher.complete([Request(messages=PROMPT, sampling=Sampling(max_tokens=4, temperature=0.0))])
    assert comp.ok and comp.text == answer


def test_ia3_trains_at_its_own_rate_and_is_recorded(env):
    assert train(env, "sft", "ia3", "--peft", "ia3") == 0
    (run,) = (Path(env["out"]) / "ia3").glob("sft-*")
    prov = json.loads((run / "provenance.json").read_text())
    assert json.loads((run / "adapter_config.json").read_text())["peft_type"] == "IA3"
    assert prov["peft"]["method"] == "ia3" and prov["config"]["training"]["learning_rate"] == 3e-3
    assert prov["peft"]["settings"]["target_modules"]


def test_lora_stays_the_default_and_is_recorded(env):
    assert train(env, "dpo", "lora", data="pairs") == 0
    (run,) = (Path(env["out"]) / "lora").glob("dpo-*")
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["peft"]["method"] == "lora" and prov["config"]["student"]["peft"] == "lora"
    assert json.loads((run / "adapter_config.json").read_text())["peft_type"] == "LORA"


@pytest.mark.parametrize("kind,extra,message", [
    ("sft", ["--peft", "nope"], "--peft must be one of lora, prefix, ia3"),
    ("sft", ["--peft", "prefix", "--full"], "cannot be combined with --full"),
    ("sft", ["--peft", "prefix", "--merge"], "cannot be folded into the weights"),
    ("grpo", ["--peft", "prefix", "--verifier", "shorter"], "not available for `train grpo`"),
    ("reward", ["--peft", "prefix"], "not available for `train reward`"),
])
def test_impossible_combinations_are_one_line(env, capsys, kind, extra, message):
    data = "pairs" if kind == "reward" else "qa"
    assert train(env, kind, "bad", *extra, data=data) == 2
    err = capsys.readouterr().err
    assert err.startswith("datagen: error:") and message in err and err.count("\n") == 1
    assert not (Path(env["out"]) / "bad").exists()


def test_a_prefix_adapter_cannot_be_continued_as_another_method(env, prefix_run, capsys):
    assert train(env, "sft", "bad", "--adapter", str(prefix_run), "--peft", "ia3") == 2
    assert "is a prefix adapter" in capsys.readouterr().err
