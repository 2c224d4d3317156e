"""Held-out loss on a tiny random Llama built in the test: per-row losses agree with the trainer's own
train-set loss, fall on trained rows, and the held-out rows are the ones the trainer held out."""
import json
import math
from pathlib import Path

import pytest

from extras import needs

needs("train")  # before the imports below: they load the trainer

from datagen.cli import main  # noqa: E402
from datagen.versions import open_version  # noqa: E402
from datagen.errors import DatagenError  # noqa: E402
from datagen.hf import models  # noqa: E402
from datagen.record import Lineage, Record  # noqa: E402
from finetune import data, heldout  # noqa: E402
from tiny_model import build_tiny_model, sft_records, write  # noqa: E402


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("heldout")
    runs = root / "runs"
    write(runs, "qa", sft_records())
    model = build_tiny_model(root / "tiny")
    # A full fine-tune, one batch of every training row per step, and the train-set loss evaluated one row
    # per batch: then it is the plain mean of the per-row losses.
    assert main(["train", "sft", "--data", "qa", "--runs", str(runs), "--model", str(model), "--out",
                 str(root / "adapters"), "--full", "--learning_rate", "3e-3", "--max_steps", "4",
                 "--per_device_train_batch_size", "8", "--per_device_eval_batch_size", "1", "--num_eval", "1",
                 "--eval_max_new_tokens", "2", "--max_length", "64"]) == 0
    (run,) = (root / "adapters" / "qa").glob("sft-*")
    return {"runs": str(runs), "model": model, "run": run, "version": open_version("qa", runs),
            "prov": json.loads((run / "provenance.json").read_text())}


def trained_records(env):
    held = set(env["prov"]["dataset"]["held_out_ids"])
    return [r for r in env["version"].records() if r.id not in held]


def test_row_losses_match_the_trainers_train_set_loss(env):
    loss = json.loads((env["run"] / "metrics.json").read_text())["summary"]["train_set_loss"]
    rows = trained_records(env)
    before = heldout.row_losses(*models.load_student(str(env["model"])), rows)
    after = heldout.row_losses(*models.load_student(str(env["run"])), rows)
    assert len(before) == len(after) == len(rows) == 5 and all(math.isfinite(x) for x in before + after)
    assert sum(before) / 5 == pytest.approx(loss["before"], rel=1e-4)
    assert sum(after) / 5 == pytest.approx(loss["after"], rel=1e-4)
    assert all(a < b for a, b in zip(after, before))  # trained on: every row's loss fell


def test_row_losses_formats_and_truncation(env):
    model, tok = models.load_student(str(env["model"]))
    rows = sft_records(2)
    pc = heldout.row_losses(model, tok, rows)
    msgs = heldout.row_losses(model, tok, rows, "messages")
    assert len(msgs) == 2 and msgs != pc  # the whole conversation is scored, not just the answer
    cut = heldout.row_losses(model, tok, rows, max_length=3)  # the prompt alone fills max_length
    assert len(cut) == 2 and all(math.isnan(x) for x in cut)
    with pytest.raises(DatagenError, match="format 'dpo'"):
        heldout.row_losses(model, tok, rows, "dpo")


def test_heldout_rows_by_ids_and_by_the_trainers_split(env):
    v = env["version"]
    recs = v.records()
    ids = [recs[3].id, recs[0].id]
    assert heldout.heldout_rows(v, ids, 2, 42) == [recs[3], recs[0]]
    assert heldout.heldout_rows("qa", ids, 2, 42, runs=env["runs"]) == [recs[3], recs[0]]
    assert [r.id for r in heldout.heldout_rows(v, None, 1, heldout.DEFAULT_SEED)] == \
        env["prov"]["dataset"]["held_out_ids"]
    assert heldout.heldout_rows(v, None, 2, 7) == data.split_eval(recs, 2, 7)[1]
    with pytest.raises(DatagenError, match="has no record"):
        heldout.heldout_rows(v, ["nope"], 2, 42)


def test_trainer_seed_default_is_the_one_heldout_assumes():
    from finetune import args as A

    _, _, train_args, _ = A.parse(["--data", "qa", "--model", "m"], "sft")
    assert train_args.seed == heldout.DEFAULT_SEED and data.DataArgs("qa").num_eval == heldout.DEFAULT_NUM_EVAL


def test_heldout_loss_of_a_run_and_its_base_on_the_same_rows(env):
    res = heldout.heldout_loss(str(env["run"]), "qa", runs=env["runs"])
    assert res["version"] == "qa/v0001" and res["ids"] == env["prov"]["dataset"]["held_out_ids"]
    assert res["n"] == len(res["per_row"]) == 1 and math.isfinite(res["mean"])
    base = heldout.heldout_loss(str(env["model"]), "qa", runs=env["runs"], ids=res["ids"])
    assert base["ids"] == res["ids"] and base["mean"] != res["mean"]


def test_heldout_loss_on_another_version_uses_the_default_split(env, tmp_path):
    lin = Lineage(method="answer", teacher="fake")
    other = write(Path(env["runs"]), "other", [Record.make(f"Say {w}.", output=w, lineage=lin)
                                                for w in ("red", "blue", "cold", "glad", "dog", "four")])
    res = heldout.heldout_loss(str(env["run"]), "other", runs=env["runs"])
    assert res["ids"] == [r.id for r in heldout.heldout_rows(other, None)] and res["n"] == 2
