"""`datagen export`: every format loads with `datasets`, and TRL's trainers take the files as-is
(one training step on a tiny random model built in the test, no download)."""
import json

import pytest

from extras import requires

from datagen import cli
from datagen.versions import write_version
from datagen.errors import DatagenError
from datagen.versions.export import FORMATS, export, row_for
from datagen.record import Lineage, Record

tiny = pytest.importorskip("tiny_model")

LIN = Lineage(method="answer", teacher="fake")


def sft_version(tmp_path):
    recs = tiny.sft_records() + [
        Record.make("Translate to French.", "Good morning", "Bonjour", lineage=LIN),
        Record.make("Chat", output="Hi!", lineage=LIN, messages=[
            {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi!"}]),
    ]
    return write_version(tmp_path / "runs", "sft", recs, [], {"method": "answer"})


def pair_version(tmp_path):
    return write_version(tmp_path / "runs", "pairs", tiny.pair_records(), [], {"method": "self_align"})


def load(path, fmt):
    import datasets

    if fmt == "hf":
        return datasets.load_from_disk(str(path))
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(path) + ".hf_cache")


def test_rows_per_format():
    r = Record.make("Translate.", "Bonjour", "Hello", lineage=LIN)
    assert row_for(r, "alpaca") == {"instruction": "Translate.", "input": "Bonjour", "output": "Hello"}
    assert row_for(r, "messages") == {"messages": [{"role": "user", "content": "Translate.\n\nBonjour"},
                                                   {"role": "assistant", "content": "Hello"}]}
    assert row_for(r, "prompt-completion") == {"prompt": [{"role": "user", "content": "Translate.\n\nBonjour"}],
                                               "completion": [{"role": "assistant", "content": "Hello"}]}
    assert row_for(r, "sharegpt") == {"conversations": [{"from": "human", "value": "Translate.\n\nBonjour"},
                                                        {"from": "gpt", "value": "Hello"}]}
    p = Record.make("Q?", output="good", rejected="bad")
    assert row_for(p, "dpo") == {"prompt": [{"role": "user", "content": "Q?"}],
                                 "chosen": [{"role": "assistant", "content": "good"}],
                                 "rejected": [{"role": "assistant", "content": "bad"}]}


@pytest.mark.parametrize("fmt, name", [("alpaca", "a.json"), ("alpaca", "a.jsonl"), ("sharegpt", "s.jsonl"),
                                       ("messages", "m.jsonl"), ("prompt-completion", "pc.jsonl"),
                                       ("hf", "hf_dir")])
@requires("datasets")
def test_sft_formats_load_with_datasets(tmp_path, fmt, name):
    v = sft_version(tmp_path)
    out = tmp_path / "export" / name
    assert export(v, fmt, out) == 8
    ds = load(out, fmt)
    assert len(ds) == 8
    cols = {"alpaca": {"instruction", "input", "output"}, "sharegpt": {"conversations"}, "messages": {"messages"},
            "prompt-completion": {"prompt", "completion"}, "hf": {"messages"}}[fmt]
    assert set(ds.column_names) == cols
    if fmt == "alpaca" and name.endswith(".json"):
        assert isinstance(json.loads(out.read_text()), list)
    if fmt in ("messages", "hf"):
        assert ds[7]["messages"][0] == {"role": "system", "content": "Be brief."}
        assert ds[6]["messages"][0]["content"] == "Translate to French.\n\nGood morning"
    if fmt == "prompt-completion":
        assert ds[7]["prompt"][-1] == {"role": "user", "content": "Hello"} and ds[7]["completion"][0]["content"] == "Hi!"
    assert not list(out.parent.glob("*.tmp"))


@pytest.mark.parametrize("fmt", ["dpo", "hf"])
@requires("datasets")
def test_pair_formats_load_with_datasets(tmp_path, fmt):
    v = pair_version(tmp_path)
    out = tmp_path / "export" / ("p.jsonl" if fmt == "dpo" else "p_hf")
    assert export(v, fmt, out) == 6
    ds = load(out, fmt)
    assert set(ds.column_names) == {"prompt", "chosen", "rejected"}
    assert ds[0]["chosen"][0]["role"] == "assistant" and ds[0]["rejected"][0]["content"] == tiny.WORSE[0]


@requires("datasets")
def test_hf_export_of_a_mixed_version_keeps_every_column(tmp_path):
    recs = tiny.pair_records(2) + tiny.sft_records(2)[::-1][:1]
    v = write_version(tmp_path / "runs", "mixed", recs, [], {})
    out = tmp_path / "mixed_hf"
    export(v, "hf", out)
    ds = load(out, "hf")
    assert ds.column_names == ["messages"] and len(ds) == 3
    assert [row["messages"][-1]["content"] for row in ds] == [r.output for r in recs]


@requires("datasets")
def test_export_refuses_what_a_trainer_would_choke_on(tmp_path):
    sft = sft_version(tmp_path)
    with pytest.raises(DatagenError, match="not a preference pair"):
        export(sft, "dpo", tmp_path / "x.jsonl")
    with pytest.raises(DatagenError, match="unknown export format 'csv'"):
        export(sft, "csv", tmp_path / "x.csv")
    empty_out = write_version(tmp_path / "runs", "e", [Record.make("Q?", output="")], [], {})
    with pytest.raises(DatagenError, match="has no output to train on"):
        export(empty_out, "messages", tmp_path / "x.jsonl")
    with pytest.raises(DatagenError, match="no records"):
        export(write_version(tmp_path / "runs", "none", [], [], {}), "messages", tmp_path / "x.jsonl")
    export(sft, "hf", tmp_path / "hf")
    with pytest.raises(DatagenError, match="already exists"):
        export(sft, "hf", tmp_path / "hf")
    assert not (tmp_path / "x.jsonl").exists()
    assert set(FORMATS) == {"alpaca", "sharegpt", "messages", "prompt-completion", "dpo", "hf"}


# --- TRL accepts the exports as they are -------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    pytest.importorskip("trl")
    return tiny.build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def trainer_args(cls, out, **kw):
    return cls(output_dir=str(out), max_steps=1, per_device_train_batch_size=2, learning_rate=1e-3,
               report_to="none", logging_steps=1, save_strategy="no", use_cpu=True, dataloader_num_workers=0,
               disable_tqdm=True, **kw)


def load_tiny(tiny_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(str(tiny_dir)), AutoTokenizer.from_pretrained(str(tiny_dir))


def cli_export(tmp_path, version, fmt, name):
    out = tmp_path / "export" / name
    assert cli.main(["export", version.ref, "--runs", str(tmp_path / "runs"), "--format", fmt,
                     "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("fmt", ["messages", "prompt-completion"])
def test_sft_trainer_takes_the_export(tmp_path, tiny_dir, fmt):
    from trl import SFTConfig, SFTTrainer

    out = cli_export(tmp_path, sft_version(tmp_path), fmt, f"{fmt}.jsonl")
    ds = load(out, fmt)
    model, tok = load_tiny(tiny_dir)
    trainer = SFTTrainer(model=model, args=trainer_args(SFTConfig, tmp_path / "sft", max_length=128),
                         train_dataset=ds, processing_class=tok)
    # TRL tokenised the conversational columns itself
    assert "input_ids" in trainer.train_dataset.column_names
    if fmt == "prompt-completion":  # TRL found the prompt and trains on the completion only
        labels = trainer.train_dataset[0]["labels"]
        assert -100 in labels and any(t != -100 for t in labels)
    result = trainer.train()
    assert trainer.state.global_step == 1 and result.training_loss > 0


def test_dpo_trainer_takes_the_export(tmp_path, tiny_dir):
    from trl import DPOConfig, DPOTrainer

    out = cli_export(tmp_path, pair_version(tmp_path), "dpo", "dpo.jsonl")
    ds = load(out, "dpo")
    model, tok = load_tiny(tiny_dir)
    trainer = DPOTrainer(model=model, args=trainer_args(DPOConfig, tmp_path / "dpo", max_length=128),
                         train_dataset=ds, processing_class=tok)
    cols = trainer.train_dataset.column_names
    assert any("chosen" in c and "ids" in c for c in cols) and any("rejected" in c and "ids" in c for c in cols)
    trainer.train()
    assert trainer.state.global_step == 1
