"""`datagen train grpo` (TRL's GRPOTrainer) on the tiny random Llama built in the test: a verifier reward that
prefers short answers shortens them over the steps; the reward per step is written next to the model; the
judge and a raising verifier as rewards; bad input (a pair version, `train ppo`) is one line, exit 2."""
import csv
import json
import random
from pathlib import Path

import pytest

from extras import needs

needs("train")  # before the imports below: they load the trainer

from datagen.cli import main  # noqa: E402
from datagen.session import RunContext  # noqa: E402
from datagen.teacher import FakeTeacher, Sampling  # noqa: E402
from datagen.templates import TemplateLoader  # noqa: E402
from finetune.rewards import RewardArgs, reward_function  # noqa: E402
from tiny_model import build_tiny_model, pair_records, sft_records, write  # noqa: E402

# Full fine-tune at a high constant rate: the random tiny model is near uniform, so a few steps must move it.
FAST = ["--full", "--learning_rate", "1e-1", "--lr_scheduler_type", "constant", "--num_generations", "8",
        "--per_device_train_batch_size", "8", "--max_completion_length", "12", "--seed", "0"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("grpo")
    runs = root / "runs"
    write(runs, "qa", sft_records())
    write(runs, "pairs", pair_records())
    return {"runs": str(runs), "out": str(root / "adapters"), "model": build_tiny_model(root / "tiny")}


def test_a_shorter_is_better_reward_shortens_answers_over_steps(env, capsys):
    assert main(["train", "grpo", "--data", "qa", "--runs", env["runs"], "--model", str(env["model"]),
                 "--out", env["out"], "--verifier", "shorter", "--max_steps", "10", "--num_eval", "1",
                 "--eval_max_new_tokens", "4", *FAST]) == 0
    out = capsys.readouterr().out
    assert "mean reward, first/last 5 steps" in out
    (run,) = (Path(env["out"]) / "qa").glob("grpo-*")
    m = json.loads((run / "metrics.json").read_text())["summary"]
    # reward = minus the words of an answer: fewer words per answer by the last steps
    assert m["last_reward_mean"] > m["first_reward_mean"] + 0.5, m
    rows = list(csv.DictReader(open(run / "rewards.csv")))
    assert [int(r["step"]) for r in rows] == list(range(1, 11))
    assert all(float(r["reward"]) <= 0 and r["completions_mean_length"] for r in rows)
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["trainer"] == "grpo" and prov["config"]["reward"]["verifier"] == "shorter"
    assert prov["metrics"]["reward_source"] == "verifier:shorter" and prov["dataset"]["ref"] == "qa/v0001"
    assert (run / "model.safetensors").is_file() and (run / "before_after.json").is_file()


@pytest.mark.parametrize("argv,message", [
    (["train", "grpo", "--data", "pairs", "--verifier", "shorter"], "is a preference version"),
    (["train", "grpo", "--data", "qa", "--verifier", "nope"], "unknown verifier 'nope'"),
    (["train", "grpo", "--data", "qa", "--reward", "reward_model", "--reward_model", "TINY"],
     "is not a sequence classifier"),
    (["train", "ppo", "--data", "qa"], "ships no PPO trainer"),
])
def test_bad_input_is_one_line_and_writes_nothing(env, capsys, argv, message):
    argv = [str(env["model"]) if a == "TINY" else a for a in argv]
    assert main([*argv, "--runs", env["runs"], "--model", str(env["model"]), "--out", env["out"],
                 "--name", "bad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datagen: error:") and message in err and err.count("\n") == 1
    assert not (Path(env["out"]) / "bad").exists()


def columns(n):
    return {"instruction": ["What is two plus two?"] * n, "input": [""] * n, "reference": ["4"] * n}


def test_the_teacher_as_judge_is_a_reward():
    def grade(req):
        return "Score: 9" if "### Response\nFour." in req.messages[-1]["content"] else "Score: 2"

    teacher = FakeTeacher(grade)
    ctx = RunContext(rng=random.Random(0), sampling=Sampling(max_tokens=16, temperature=0.0),
                     templates=TemplateLoader(), run_id="t", teacher_name=teacher.name, teacher=teacher)
    fn = reward_function(RewardArgs(reward="judge"), ctx)
    completions = [[{"role": "assistant", "content": "Four."}], [{"role": "assistant", "content": "Five."}]]
    assert fn(prompts=[[]] * 2, completions=completions, **columns(2)) == [9.0, 2.0]


def test_a_raising_verifier_scores_none_and_training_goes_on(tmp_path, monkeypatch):
    (tmp_path / "checks_grpo.py").write_text("def odd(answer, record):\n"
                                             "    if 'x' in answer:\n        raise ValueError('no x')\n"
                                             "    return 1.0 if answer == record.output else 0.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fn = reward_function(RewardArgs(verifier="checks_grpo:odd"))
    assert fn(prompts=[[]] * 3, completions=["4", "x", "5"], **columns(3)) == [1.0, None, 0.0]
