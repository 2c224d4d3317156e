"""`datagen train reward` on the tiny random Llama built in the test: held-out pair accuracy above chance
on a separable toy pair set, the run folder's provenance, the folder loading back as a best-of-n scorer, and
bad input (an SFT version, a model folder that is no sequence classifier) as one line with nothing written."""
import json
from pathlib import Path

import pytest

from extras import needs

needs("train")  # before the imports below: they load the trainer

from datagen.cli import main  # noqa: E402
from datagen.record import Lineage, Record  # noqa: E402
from filters.reward_model import load_reward_model, reward_scores  # noqa: E402
from tiny_model import QA, WORSE, build_tiny_model, sft_records, write  # noqa: E402

FAST = ["--per_device_train_batch_size", "4", "--max_length", "64", "--num_eval", "8", "--seed", "0"]


def toy_pairs() -> list[Record]:
    """Every question's right answer (chosen) against each evasive one (rejected): 36 pairs."""
    lin = Lineage(method="self_align", teacher="fake")
    return [Record.make(q, output=a, rejected=w, lineage=lin) for q, a in QA for w in WORSE]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("reward")
    runs = root / "runs"
    return {"runs": str(runs), "out": str(root / "adapters"), "pairs": write(runs, "toy", toy_pairs()),
            "sft": write(runs, "qa", sft_records()), "model": build_tiny_model(root / "tiny"), "root": root}


def train(env, capsys, *extra):
    argv = ["train", "reward", "--data", "toy", "--runs", env["runs"], "--model", str(env["model"]),
            "--out", env["out"], *FAST, *extra]
    assert main(argv) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("wrote "))
    return Path(line.split()[1].rstrip(":")), out


@pytest.fixture(scope="module")
def lora_run(env):
    assert main(["train", "reward", "--data", "toy", "--runs", env["runs"], "--model", str(env["model"]),
                 "--out", env["out"], "--name", "lora", *FAST, "--max_steps", "20", "--learning_rate", "5e-3"]) == 0
    (run,) = (Path(env["out"]) / "lora").glob("reward-*")
    return run


def test_reward_model_beats_chance_on_held_out_pairs(lora_run, env):
    prov = json.loads((lora_run / "provenance.json").read_text())
    acc = prov["metrics"]["heldout_pair_accuracy"]
    assert acc["n"] == 8 and acc["after"] > 0.5 and acc["after"] > acc["before"]
    assert prov["trainer"] == "reward" and prov["dataset"]["ref"] == "toy/v0001"
    assert prov["dataset"]["records_trained"] == 36 - 8 and len(prov["dataset"]["held_out_ids"]) == 8
    assert prov["config"]["model"]["lora_task_type"] == "SEQ_CLS"
    history = json.loads((lora_run / "metrics.json").read_text())["history"]
    assert len(history) == 20 and "accuracy" in history[0]
    assert (lora_run / "adapter_config.json").is_file() and not list(lora_run.glob(".tmp-*"))


def test_the_run_folder_scores_answers_as_trained(lora_run):
    model, tok = load_reward_model(lora_run)
    prompt = [[{"role": "user", "content": QA[0][0]}]] * 2
    good, bad = reward_scores(model, tok, prompt, [QA[0][1], WORSE[0]])
    assert good > bad


def test_full_fine_tune_writes_a_sequence_classifier(env, capsys):
    run, out = train(env, capsys, "--full", "--max_steps", "2", "--name", "full")
    assert "held-out pair accuracy (8 pairs)" in out
    config = json.loads((run / "config.json").read_text())
    assert config["architectures"] == ["LlamaForSequenceClassification"]
    load_reward_model(run)


def test_an_sft_version_is_one_line_and_writes_nothing(env, capsys):
    assert main(["train", "reward", "--data", "qa", "--runs", env["runs"], "--model", str(env["model"]),
                 "--out", env["out"], "--name", "bad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datagen: error:") and "not a preference version" in err and err.count("\n") == 1
    assert not (Path(env["out"]) / "bad").exists()


def test_a_causal_lm_folder_is_not_a_reward_model(env):
    from datagen.errors import DatagenError

    with pytest.raises(DatagenError, match="not a sequence classifier"):
        load_reward_model(env["model"])


def test_best_of_n_with_a_non_classifier_folder_is_one_line(env, capsys):
    assert main(["filter", "--from", "qa", "--out", env["runs"], "--filters", "best_of_n", "--best_of_n.scorer",
                 "reward_model", "--best_of_n.reward_model", str(env["model"])]) == 2
    err = capsys.readouterr().err
    assert "is not a sequence classifier (architectures: LlamaForCausalLM)" in err and err.count("\n") == 1
    assert not (Path(env["runs"]) / "qa" / "v0002").exists()


def test_best_of_n_filter_scored_by_the_trained_reward_model(env, lora_run):
    lin = Lineage(method="answer", teacher="fake")
    cands = [Record.make(q, output=o, lineage=lin) for q, a in QA for o in (a, WORSE[0])]
    write(Path(env["runs"]), "cands", cands)
    assert main(["filter", "--from", "cands", "--out", env["runs"], "--filters", "best_of_n", "--best_of_n.scorer",
                 "reward_model", "--best_of_n.reward_model", str(lora_run)]) == 0
    from datagen.versions import open_version

    kept = open_version("cands/v0002", env["runs"]).records()
    assert sorted(r.instruction for r in kept) == sorted(q for q, _ in QA)
    for r in kept:
        assert r.meta["score"] == max(r.meta["candidate_scores"]) and len(r.meta["candidate_scores"]) == 2
    assert sum(r.output != WORSE[0] for r in kept) >= 4  # the reward model prefers the right answers
