"""datagen import on bad input: one line, exit 2, no version; bad rows of a good file become
`malformed` rejections naming their line and why, and the good rows are imported."""
import json

import pytest

from bad_input import check_line
from datagen.cli import main
from datagen.versions import list_versions, open_version


def run_import(tmp_path, capsys, *argv):
    code = main(["import", *map(str, argv), "--out", str(tmp_path / "runs")])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(tmp_path, capsys, *argv, says: str):
    code, _, err = run_import(tmp_path, capsys, *argv)
    assert says in check_line(code, err)
    assert not list_versions(tmp_path / "runs", "x")
    assert not (tmp_path / "runs" / "x").exists()  # not even an empty folder left behind


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


GOOD = {"instruction": "Name a colour.", "output": "Teal."}


@pytest.mark.parametrize("case,says", [
    ("missing", "not found"),
    ("empty", "is empty"),
    ("blank_lines", "is empty"),
    ("unknown_format", "unknown import format 'csvish'; choose one of: auto, alpaca"),
    ("bad_map_column", "--map output=answer: no such column"),
    ("bad_map_target", "unknown target 'answr'"),
    ("ambiguous_row", "is ambiguous: a row fits messages and alpaca"),
    ("mixed_rows", "is ambiguous: its rows look like alpaca, sharegpt"),
    ("unknown_columns", "cannot tell the format"),
    ("all_bad", "no row of"),
    ("no_row_fits", "could be imported as alpaca (2 malformed"),
    ("wrong_suffix", "cannot import data.txt"),
    ("hf_not_a_folder", "--format hf reads a folder saved by datasets"),
    ("no_name", "--name NAME is required"),
])
def test_bad_input_is_one_line_exit_2_and_no_version(tmp_path, capsys, case, says):
    src = tmp_path / "data.jsonl"
    name = ["--name", "x"]
    extra: list = []
    if case == "missing":
        src = tmp_path / "nope.jsonl"
    elif case == "empty":
        src.write_text("")
    elif case == "blank_lines":
        src.write_text("\n  \n\n")
    elif case == "unknown_format":
        write_jsonl(src, [GOOD])
        extra = ["--format", "csvish"]
    elif case == "bad_map_column":
        write_jsonl(src, [GOOD])
        extra = ["--map", "output=answer"]
    elif case == "bad_map_target":
        write_jsonl(src, [GOOD])
        extra = ["--map", "answr=output"]
    elif case == "ambiguous_row":
        write_jsonl(src, [{**GOOD, "messages": [{"role": "user", "content": "hi"}]}])
    elif case == "mixed_rows":
        write_jsonl(src, [GOOD, {"conversations": [{"from": "human", "value": "hi"}]}])
    elif case == "unknown_columns":
        write_jsonl(src, [{"question": "q", "answer": "a"}])
    elif case == "all_bad":
        src.write_text("{nope\n[1, 2]\n")
    elif case == "no_row_fits":
        write_jsonl(src, [{"instruction": ["a list"]}, {"instruction": ""}])
    elif case == "wrong_suffix":
        src = tmp_path / "data.txt"
        src.write_text(json.dumps(GOOD))
    elif case == "hf_not_a_folder":
        write_jsonl(src, [GOOD])
        extra = ["--format", "hf"]
    elif case == "no_name":
        write_jsonl(src, [GOOD])
        name = []
    assert_one_line_error(tmp_path, capsys, src, *name, *extra, says=says)


def test_bad_lines_are_malformed_rejections_and_good_lines_are_kept(tmp_path, capsys):
    src = tmp_path / "data.jsonl"
    src.write_text("\n".join([
        json.dumps(GOOD),
        '{"instruction": "Half a line", "out',                       # line 2: cut off
        json.dumps({"instruction": "Add 2 and 2.", "output": "4"}),
        json.dumps(["not", "an", "object"]),                          # line 4
        json.dumps({"instruction": ["a list"], "output": "x"}),           # line 5: wrong type
        "",
        json.dumps({"instruction": "   ", "output": "blank instruction"}),  # line 7
        json.dumps(GOOD),                                             # line 8: same as line 1
    ]) + "\n")
    code, out, _ = run_import(tmp_path, capsys, src, "--name", "x")
    assert code == 0
    v = open_version("x", tmp_path / "runs")
    assert [r.instruction for r in v.records()] == ["Name a colour.", "Add 2 and 2."]
    rej = {r.detail.split(":")[0]: (r.reason, r.detail) for r in v.rejected()}
    assert {k: r for k, (r, _) in rej.items()} == {
        "data.jsonl line 2": "malformed", "data.jsonl line 4": "malformed", "data.jsonl line 5": "malformed",
        "data.jsonl line 7": "malformed", v.records()[0].id: "exact_duplicate"}
    assert "invalid JSON" in rej["data.jsonl line 2"][1]
    assert "expected a JSON object" in rej["data.jsonl line 4"][1]
    assert "'instruction' must be a string" in rej["data.jsonl line 5"][1]
    assert "'instruction' is empty" in rej["data.jsonl line 7"][1]
    for line in (2, 4, 5, 7):  # each bad line is listed in the command's output
        assert f"malformed: data.jsonl line {line}:" in out
    assert "kept 2 of 7 rows; malformed 4, exact_duplicate 1" in out
    m = v.manifest()
    assert m["counts"]["dropped"] == {"exact_duplicate": 1, "malformed": 4}


def test_bad_csv_rows_and_conversations(tmp_path, capsys):
    src = tmp_path / "chat.csv"
    src.write_text('conversations,extra\n'
                   '"[{""from"": ""human"", ""value"": ""Hi""}, {""from"": ""gpt"", ""value"": ""Hello!""}]",a\n'
                   '"[{""from"": ""alien"", ""value"": ""Hi""}]",b\n'
                   'only,one,too,many\n')
    code, out, _ = run_import(tmp_path, capsys, src, "--name", "x", "--format", "sharegpt")
    assert code == 0
    v = open_version("x", tmp_path / "runs")
    assert [(r.instruction, r.output, r.meta["columns"]) for r in v.records()] == [("Hi", "Hello!", {"extra": "a"})]
    details = sorted(r.detail for r in v.rejected())
    assert details[0].startswith("chat.csv line 3: 'conversations' turn 1 has role 'alien'")
    assert details[1] == "chat.csv line 4: 4 fields where the header has 2"


def test_csv_rows_that_are_not_utf8_are_malformed(tmp_path, capsys):
    src = tmp_path / "latin.csv"
    src.write_bytes(b"instruction,output\nSay hi.,hi\nSay caf\xe9.,caf\xe9\nSay bye.,bye\n")
    code, out, _ = run_import(tmp_path, capsys, src, "--name", "x")
    assert code == 0
    v = open_version("x", tmp_path / "runs")
    assert [r.output for r in v.records()] == ["hi", "bye"]
    (rej,) = v.rejected()
    assert rej.detail == "latin.csv line 3: not UTF-8" and "malformed: latin.csv line 3: not UTF-8" in out
    rej.record.to_row()  # storable: the raw text kept in the rejection is valid UTF-8
