"""SFT (LoRA and full) and DPO end to end on a tiny random Llama built in the test; loss masking; reloading
the adapter to generate. A few optimizer steps each, so every test stays within seconds."""
import json
import os
from pathlib import Path

import pytest

from extras import needs

needs("train")  # before the imports below: they load the trainer

from datagen.cli import main  # noqa: E402
from datagen.hf import models  # noqa: E402
from finetune import args as A  # noqa: E402
from finetune import data, sample, sft  # noqa: E402
from tiny_model import build_tiny_model, pair_records, sft_records, write  # noqa: E402

FAST = ["--per_device_train_batch_size", "2", "--eval_max_new_tokens", "4", "--num_eval", "1", "--max_length", "64"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft_train")
    runs = root / "runs"
    qa = write(runs, "qa", sft_records())
    pairs = write(runs, "pairs", pair_records())
    return {"root": root, "runs": str(runs), "out": str(root / "adapters"), "qa": qa, "pairs": pairs,
            "model": build_tiny_model(root / "tiny")}


def train(env, capsys, kind, data_name, *extra):
    argv = ["train", kind, "--data", data_name, "--runs", env["runs"], "--model", str(env["model"]),
            "--out", env["out"], *FAST, *extra]
    assert main(argv) == 0
    out = capsys.readouterr().out
    path = next(line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("wrote "))
    return Path(path), out


def read(path, name):
    return json.loads((path / name).read_text())


@pytest.fixture(scope="module")
def lora_run(env):
    assert main(["train", "sft", "--data", "qa", "--runs", env["runs"], "--model", str(env["model"]),
                 "--out", env["out"], "--name", "lora", *FAST, "--max_steps", "3"]) == 0
    (run,) = (Path(env["out"]) / "lora").glob("sft-*")
    return run


def test_sft_lora_writes_adapter_tokenizer_metrics_provenance(env, lora_run):
    files = {p.name for p in lora_run.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "metrics.json",
            "provenance.json", "before_after.json"} <= files
    assert "model.safetensors" not in files  # LoRA: only the adapter
    metrics = read(lora_run, "metrics.json")
    assert [h["step"] for h in metrics["history"]] == [1, 2, 3]
    prov = read(lora_run, "provenance.json")
    assert prov["trainer"] == "sft"
    assert prov["dataset"]["ref"] == "qa/v0001"
    assert prov["dataset"]["content_sha256"] == env["qa"].manifest()["content_sha256"]
    assert prov["dataset"]["records_trained"] == len(sft_records()) - 1 and len(prov["dataset"]["held_out_ids"]) == 1
    assert prov["base_model"]["source"] == str(env["model"].resolve())
    assert prov["config"]["model"]["use_peft"] is True and prov["config"]["training"]["max_steps"] == 3
    assert prov["config"]["training"]["learning_rate"] == A.LORA_LEARNING_RATE
    assert prov["chat_template"]["source"] == "model"
    assert "git_commit" in prov["code"] and prov["code"]["packages"]["trl"]
    (row,) = read(lora_run, "before_after.json")
    assert row["prompt"][0]["role"] == "user" and isinstance(row["after"], str)


def test_reloaded_adapter_generates_and_changes_the_model(env, lora_run, tmp_path, capsys):
    import torch

    model, tok = models.load_student(None, str(lora_run))  # base taken from provenance.json
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # B starts at zero; training moved it
    enc = tok.apply_chat_template([{"role": "user", "content": "Which animal barks?"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    with torch.no_grad():
        tuned = model(**enc).logits
        with model.disable_adapter():
            base = model(**enc).logits
    assert not torch.allclose(tuned, base)
    prompts = tmp_path / "p.txt"
    prompts.write_text("Which animal barks?\nName a fruit that is yellow.\n")
    out = tmp_path / "answers.jsonl"
    assert main(["sample", "--adapter", str(lora_run), "--prompts", str(prompts), "--max_new_tokens", "3",
                 "--out", str(out), "--compare"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt"][0]["content"] for r in rows] == ["Which animal barks?", "Name a fruit that is yellow."]
    assert "before" in capsys.readouterr().out


def test_sft_full_lowers_loss_and_writes_full_weights(env, capsys):
    # One batch holding every training record, so each step sees the same data and the loss must fall.
    path, out = train(env, capsys, "sft", "qa", "--full", "--learning_rate", "3e-3", "--max_steps", "4",
                      "--per_device_train_batch_size", "8")
    assert (path / "model.safetensors").is_file() and not (path / "adapter_config.json").exists()
    m = read(path, "metrics.json")["summary"]
    assert m["steps"] == 4 and m["last_loss"] < m["first_loss"]
    assert m["train_set_loss"]["after"] < m["train_set_loss"]["before"]
    assert read(path, "provenance.json")["config"]["model"]["use_peft"] is False
    assert "### " in out and "  before:" in out and "  after:" in out  # the before/after table
    model, tok = models.load_student(str(path))
    assert sample.generate(model, tok, [[{"role": "user", "content": "Hi"}]], 2)


def test_completion_only_loss_masks_prompt_tokens(env, tmp_path):
    _, _, targs, _ = A.parse(["--data", "qa", "--model", "m", "--output_dir", str(tmp_path), "--max_length", "64"],
                             "sft")
    tok, _ = models.load_tokenizer(env["model"])
    model = models.load_model(env["model"], tok)
    records = sft_records(2)
    trainer = sft.make_trainer(model, tok, data.to_dataset(data.rows_for(records, "prompt-completion")), targs, None)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    for i, r in enumerate(records):
        prompt = tok.apply_chat_template(data.prompt_messages(r), add_generation_prompt=True, return_dict=True)
        full = tok.apply_chat_template(data.prompt_messages(r) + [{"role": "assistant", "content": r.output}],
                                       return_dict=True)
        n_p, n_f = len(prompt["input_ids"]), len(full["input_ids"])
        labels, ids = batch["labels"][i].tolist(), batch["input_ids"][i].tolist()
        assert ids[:n_f] == full["input_ids"]
        assert labels[:n_p] == [-100] * n_p  # the prompt carries no loss
        assert labels[n_p:n_f] == ids[n_p:n_f]  # the answer (and its end-of-turn) does
        assert all(x == -100 for x in labels[n_f:])  # padding
    # `--format messages` trains on the whole conversation: prompt tokens are labelled
    trainer2 = sft.make_trainer(model, tok, data.to_dataset(data.rows_for(records, "messages")), targs, None)
    b2 = trainer2.data_collator([trainer2.train_dataset[0]])
    assert b2["labels"][0][0].item() != -100


def test_dpo_lora_starts_at_log2_and_writes_adapter(env, capsys):
    path, _ = train(env, capsys, "dpo", "pairs", "--max_steps", "2")
    assert (path / "adapter_model.safetensors").is_file()
    hist = read(path, "metrics.json")["history"]
    assert len(hist) == 2 and "rewards/margins" in hist[0]
    assert hist[0]["loss"] == pytest.approx(0.6931, abs=1e-3)  # policy == reference at step 1: loss = ln 2
    assert read(path, "metrics.json")["summary"]["train_set_loss"]["before"] == pytest.approx(0.6931, abs=1e-3)
    prov = read(path, "provenance.json")
    assert prov["trainer"] == "dpo" and prov["dataset"]["ref"] == "pairs/v0001"
    assert prov["config"]["training"]["beta"] == 0.1


def test_dpo_continues_an_sft_adapter_and_merges(env, lora_run, capsys):
    path, _ = train(env, capsys, "dpo", "pairs", "--adapter", str(lora_run), "--max_steps", "1", "--merge",
                    "--num_eval", "0", "--train_set_loss", "false")
    assert (path / "adapter_model.safetensors").is_file() and not (path / "ref").exists()
    assert (path / "merged" / "model.safetensors").is_file()
    prov = read(path, "provenance.json")
    assert prov["adapter_parent"] == str(lora_run) and prov["outputs"] == ["adapter", "merged"]
    assert read(path, "before_after.json") == []
    assert "train_set_loss" not in read(path, "metrics.json")["summary"]


def test_training_logs_carry_no_library_noise(env):
    """No deprecation / no-GPU warnings and no per-map dataset progress bars: only what a user can act on."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "datagen.cli", "train", "sft", "--data", "qa", "--runs", env["runs"], "--model",
            str(env["model"]), "--out", env["out"], "--name", "quiet", *FAST, "--max_steps", "1"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if k != "DATAGEN_LIBRARY_LOGS"})
    assert res.returncode == 0, res.stderr[-2000:]
    logs = res.stdout + res.stderr
    for noise in ("FutureWarning", "pin_memory", "Tokenizing train dataset", "Truncating train dataset",
                  "Loading weights"):
        assert noise not in logs, noise
    assert "wrote " in res.stdout and "loss" in res.stdout
