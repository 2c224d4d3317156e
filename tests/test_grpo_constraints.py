"""Verifiable rewards and on-policy data on the tiny random Llama: `train grpo --reward constraints` raises the share
of the prompts' constraints the student meets over the steps (the constraints come from the records' meta, as
`--method constraints` writes them), and the student itself answers `--method constraints` as the teacher
(`--teacher student`), so one command makes on-policy candidates, verified, for DPO."""
import csv
import json
from pathlib import Path

import pytest
from extras import needs

needs("train")

from datagen.cli import main  # noqa: E402
from datagen.record import Lineage, Record  # noqa: E402
from datagen.versions import open_version  # noqa: E402
from finetune.rewards import RewardArgs, reward_function  # noqa: E402
from tiny_model import QA, build_tiny_model, sft_records, write  # noqa: E402

# A graded length target: each answer of fewer than 2, 3, 4, 5 words meets one more of the four.
SHORT = [{"kind": "word_count", "relation": "less_than", "n": n} for n in (2, 3, 4, 5)]
FAST = ["--full", "--learning_rate", "1e-1", "--lr_scheduler_type", "constant", "--num_generations", "8",
        "--per_device_train_batch_size", "8", "--max_completion_length", "12", "--seed", "0"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("grpo_constraints")
    runs = root / "runs"
    lin = Lineage(method="constraints", teacher="fake")
    write(runs, "cons", [Record.make(q, output=a, lineage=lin, meta={"constraints": SHORT, "base_instruction": q})
                         for q, a in QA])
    write(runs, "qa", sft_records())
    return {"root": root, "runs": str(runs), "out": str(root / "adapters"), "model": build_tiny_model(root / "tiny")}


def test_the_constraint_reward_raises_the_pass_rate_over_steps(env, capsys):
    assert main(["train", "grpo", "--data", "cons", "--runs", env["runs"], "--model", str(env["model"]),
                 "--out", env["out"], "--reward", "constraints", "--max_steps", "10", "--num_eval", "1",
                 "--eval_max_new_tokens", "4", *FAST]) == 0
    (run,) = (Path(env["out"]) / "cons").glob("grpo-*")
    m = json.loads((run / "metrics.json").read_text())["summary"]
    # the reward is the share of the four constraints met: it rises from the first to the last 5 steps
    assert m["reward_source"] == "verifier:constraints"
    assert m["last_reward_mean"] > m["first_reward_mean"] + 0.1, m
    rewards = [float(r["reward"]) for r in csv.DictReader(open(run / "rewards.csv"))]
    assert len(rewards) == 10 and all(0.0 <= r <= 1.0 for r in rewards)


def test_the_reward_reads_each_prompts_own_constraints():
    fn = reward_function(RewardArgs(reward="constraints_all"))
    metas = [json.dumps({"constraints": [{"kind": "no_commas"}]}), json.dumps({"constraints": [{"kind": "lowercase"}]})]
    cols = {"instruction": ["Say hi."] * 2, "input": [""] * 2, "reference": [""] * 2, "meta": metas}
    assert fn(prompts=[[]] * 2, completions=["Hello there, friend.", "Hello there friend."], **cols) == [0.0, 0.0]
    assert fn(prompts=[[]] * 2, completions=["Hello there friend.", "hello there friend."], **cols) == [1.0, 1.0]
    bare = {**cols, "meta": ["{}", "{}"]}  # no constraints: not scored (verifier_error), never a free 0 or 1
    assert fn(prompts=[[]] * 2, completions=["a b c", "a b c"], **bare) == [None, None]


def test_the_student_answers_as_the_teacher_for_on_policy_candidates(env, tmp_path):
    assert main(["train", "sft", "--data", "qa", "--runs", env["runs"], "--model", str(env["model"]),
                 "--out", env["out"], "--name", "student", "--max_steps", "2", "--num_eval", "1",
                 "--eval_max_new_tokens", "2", "--per_device_train_batch_size", "2"]) == 0
    (adapter,) = (Path(env["out"]) / "student").glob("sft-*")
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n" for q, a in QA[:2]))
    assert main(["generate", "--method", "constraints", "--teacher", "student", "--model", str(adapter),
                 "--seeds", str(seeds), "--out", str(tmp_path / "runs"), "--name", "onpolicy", "--filters", "exact_dup",
                 "--max_tokens", "8", "--temperature", "1.0", "--method_cfg.n", "3", "--method_cfg.keep", "all",
                 "--method_cfg.min_words", "0"]) == 0
    v = open_version("onpolicy", str(tmp_path / "runs"))
    stats = v.manifest()["method_stats"]["constraints"]
    assert stats["prompts"] == 2 and stats["candidates"] == 6  # every sample of the student was judged
    assert v.manifest()["teacher"]["name"].startswith("student:adapter:student/sft-")
    for r in v.records():  # whatever the random student wrote, it was verified against its prompt's constraints
        assert r.meta["constraints"] and len(r.meta["constraint_results"]["strict"]) == len(r.meta["constraints"])
