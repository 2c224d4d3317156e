"""datagen import: export --format X then import --format X (and auto) gives back the same examples,
and auto-detection names the format it picked."""
import json

import pytest

from extras import needs, requires

from datagen.cli import main
from datagen.versions import open_version, verify_version, write_version
from datagen.versions.export import FORMATS
from datagen.record import Lineage, Record

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a prime."},
        {"role": "assistant", "content": "7."}, {"role": "user", "content": "And an even one?"},
        {"role": "assistant", "content": "2, the only even prime."}]


def sft_records():
    lin = Lineage(method="self_instruct")
    return [Record.make("Name three primary colours.", output="Red, yellow and blue.", lineage=lin),
            Record.make("Translate into French.", "Good morning", "Bonjour", lineage=lin),
            Record.make("Write a haiku about rain.", output="Soft rain on the roof\n\nnight listens.", lineage=lin),
            Record.make("Name a prime.", output="7.", messages=CHAT, lineage=lin)]


def pair_records():
    lin = Lineage(method="self_align")
    return [Record.make("Is the sun a star?", output="Yes, a G-type star.", rejected="No.", lineage=lin),
            Record.make("Sum the numbers.", "2 3 4", "9", rejected="8", lineage=lin)]


@pytest.fixture()
def runs(tmp_path):
    write_version(tmp_path / "runs", "sft", sft_records(), [], {"method": "self_instruct"})
    write_version(tmp_path / "runs", "single", sft_records()[:-1], [], {"method": "self_instruct"})
    write_version(tmp_path / "runs", "pairs", pair_records(), [], {"method": "self_align"})
    return tmp_path / "runs"


def same_examples(original, imported, fmt, kind):
    """What format `fmt` carries of each record is the same after the round trip."""
    assert len(imported) == len(original)
    for a, b in zip(original, imported):
        assert b.lineage.method == "import"
        if fmt == "alpaca":
            assert (b.instruction, b.input, b.output) == (a.instruction, a.input, a.output)
            continue
        # a chat turn carries instruction and input together, as the export joined them
        assert b.prompt_text() == (a.prompt_text() if not a.messages else a.instruction)
        assert b.output == a.output
        assert b.messages == a.messages
        if kind == "dpo":
            assert b.rejected == a.rejected
        if not a.input:
            assert b.id == a.id  # the very same record: same content, same id


# alpaca rows hold one turn: its version has no conversation
CASES = [("alpaca", "single")] + [(fmt, "sft") for fmt in FORMATS if fmt not in ("alpaca", "dpo")] + [
    ("dpo", "pairs"), ("hf", "pairs")]


@pytest.mark.parametrize("fmt,name", CASES)
@pytest.mark.parametrize("given", ["explicit", "auto"])
def test_export_then_import_round_trips(runs, tmp_path, capsys, fmt, name, given):
    if fmt == "hf":
        needs("datasets")
    out = tmp_path / (f"{name}-{fmt}" + ("" if fmt == "hf" else ".json" if fmt == "alpaca" else ".jsonl"))
    assert main(["export", f"{name}/v0001", "--format", fmt, "--out", str(out), "--runs", str(runs)]) == 0
    argv = ["import", str(out), "--name", f"back-{fmt}", "--out", str(runs)]
    assert main(argv + (["--format", fmt] if given == "explicit" else [])) == 0
    said = capsys.readouterr().out
    back = open_version(f"back-{fmt}", runs)
    kind = "dpo" if name == "pairs" else "sft"
    row_format = {"hf": "dpo" if kind == "dpo" else "messages"}.get(fmt, fmt)
    assert f"format {row_format} (" in said
    if given == "auto":
        assert "detected" in said
    m = back.manifest()
    assert m["method"] == "import" and m["source"]["format"] == row_format and len(m["source"]["sha256"]) == 64
    same_examples(open_version(f"{name}/v0001", runs).records(), back.records(), fmt, kind)
    verify_version(back)


def test_self_instruct_seed_format(tmp_path, capsys):
    from datagen.seeds import load_seeds

    assert main(["import", "seeds/tasks.jsonl", "--name", "seeds", "--out", str(tmp_path)]) == 0
    assert "format self-instruct (detected" in capsys.readouterr().out
    imported = open_version("seeds", tmp_path).records()
    seeds = load_seeds("seeds/tasks.jsonl")
    assert [r.id for r in imported] == [r.id for r in seeds]
    assert [r.meta["instances"] for r in imported] == [r.meta["instances"] for r in seeds]


def test_map_renames_columns_and_keeps_the_rest_in_meta(tmp_path, capsys):
    src = tmp_path / "qa.jsonl"
    src.write_text("\n".join(json.dumps({"question": f"What is {i} + {i}?", "answer": str(2 * i), "topic": "sums"})
                             for i in range(5)) + "\n")
    assert main(["import", str(src), "--name", "qa", "--map", "instruction=question,output=answer",
                 "--out", str(tmp_path / "runs")]) == 0
    assert "format alpaca" in capsys.readouterr().out
    recs = open_version("qa", tmp_path / "runs").records()
    assert [(r.instruction, r.output) for r in recs][:2] == [("What is 0 + 0?", "0"), ("What is 1 + 1?", "2")]
    assert recs[0].meta["columns"] == {"topic": "sums"} and recs[0].meta["source"] == "qa.jsonl line 1"


def test_parquet_csv_and_a_folder_of_them(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist([{"instruction": f"Say {w}.", "output": w} for w in ("one", "two")]),
                   folder / "a.parquet")
    (folder / "b.csv").write_text('instruction,input,output\n"Add, please.",1 2,3\nSay four.,,four\n')
    assert main(["import", str(folder), "--name", "mixed", "--out", str(tmp_path / "runs")]) == 0
    v = open_version("mixed", tmp_path / "runs")
    assert [(r.instruction, r.input, r.output) for r in v.records()] == [
        ("Say one.", "", "one"), ("Say two.", "", "two"), ("Add, please.", "1 2", "3"), ("Say four.", "", "four")]
    assert [r.meta["source"] for r in v.records()] == ["a.parquet row 1", "a.parquet row 2", "b.csv line 2",
                                                       "b.csv line 3"]


def test_every_command_works_on_an_import(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["import", "seeds/tasks.jsonl", "--name", "s", "--out", str(runs)]) == 0
    card = (open_version("s/v0001", runs).path / "README.md").read_text()
    assert "from imported `" in card and "tasks.jsonl" in card.splitlines()[2]
    assert main(["filter", "--from", "s", "--filters", "exact_dup,quality", "--quality.min_words", "3",
                 "--out", str(runs)]) == 0
    assert main(["diff", "s/v0001", "s/v0002", "--out", str(runs), "--summary"]) == 0
    assert main(["show", "s/v0002", "--out", str(runs)]) == 0
    assert main(["export", "s/v0002", "--format", "messages", "--out", str(tmp_path / "m.jsonl"),
                 "--runs", str(runs)]) == 0
    assert main(["report", "s/v0002", "--out", str(tmp_path / "r.html"), "--runs", str(runs)]) == 0
    assert open_version("s/v0002", runs).manifest()["parent"] == "s/v0001"
    assert (tmp_path / "r.html").stat().st_size > 1000


@requires("datasets")
def test_a_datasetdict_folder_reads_every_split(tmp_path, capsys):
    import datasets

    rows = lambda words: [{"messages": [{"role": "user", "content": f"Say {w}."},  # noqa: E731
                                        {"role": "assistant", "content": w}]} for w in words]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows(["one", "two"])),
                          "test": datasets.Dataset.from_list(rows(["three"]))}).save_to_disk(str(tmp_path / "dd"))
    assert main(["import", str(tmp_path / "dd"), "--name", "dd", "--out", str(tmp_path / "runs")]) == 0
    assert "format messages (detected: every sampled row has messages in a datasets folder)" in capsys.readouterr().out
    recs = open_version("dd", tmp_path / "runs").records()
    assert sorted(r.output for r in recs) == ["one", "three", "two"]
    assert {r.meta["source"].split("/")[0] for r in recs} == {"train", "test"}


def test_a_large_import_is_sharded_and_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_SHARD_ROWS", "4")
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"Count to {i}.", "output": str(i)}) + "\n" for i in range(10))
                   + "{broken\n")
    assert main(["import", str(src), "--name", "many", "--out", str(tmp_path / "runs")]) == 0
    v = open_version("many", tmp_path / "runs")
    assert v.manifest()["shards"]["records"] == ["records-00000.parquet", "records-00001.parquet",
                                                 "records-00002.parquet"]
    assert [r.output for r in v.records()] == [str(i) for i in range(10)]
    assert [r.detail for r in v.rejected()] == ["many.jsonl line 11: invalid JSON: Expecting property name "
                                                "enclosed in double quotes (column 2)"]
    verify_version(v)
