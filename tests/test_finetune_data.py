"""Dataset version -> TRL rows: format checks, held-out prompts, prompt files (no torch needed)."""
import pytest

from datagen.errors import DatagenError
from datagen.record import Record
from finetune import data
from finetune.data import DataArgs
from tiny_model import pair_records, sft_records, write


def test_sft_rows_are_conversational_prompt_completion():
    rows = data.rows_for(sft_records(2), "prompt-completion")
    assert rows[0]["prompt"] == [{"role": "user", "content": "Name a primary color."}]
    assert rows[0]["completion"] == [{"role": "assistant", "content": "Red is a primary color."}]


def test_dpo_rows_have_prompt_chosen_rejected():
    fmt = data.check_kind(pair_records(2), "dpo", "p/v0001")
    row = data.rows_for(pair_records(2), fmt)[1]
    assert fmt == "dpo"
    assert row["chosen"][0]["content"] == "Two plus two is four."
    assert row["rejected"][0]["content"] == "Maybe."


def test_pairs_refused_for_sft_naming_first_bad_row():
    records = sft_records(3) + pair_records(1)
    with pytest.raises(DatagenError, match=r"is a preference version: record 3 .*train dpo"):
        data.check_kind(records, "sft", "mix/v0001")


def test_plain_records_refused_for_dpo_naming_first_bad_row():
    records = pair_records(2) + sft_records(1)
    with pytest.raises(DatagenError, match=r"not a preference version: record 2 "):
        data.check_kind(records, "dpo", "mix/v0001")


def test_missing_output_refused_with_version_ref():
    records = sft_records(1) + [Record.make("Say hi.", output="")]
    with pytest.raises(DatagenError, match=r"base/v0002: record 1 .*no output"):
        data.check_kind(records, "sft", "base/v0002")


def test_unknown_sft_format_refused():
    with pytest.raises(DatagenError, match="not an SFT format"):
        data.check_kind(sft_records(1), "sft", "x/v0001", "dpo")


def test_empty_version_refused(tmp_path):
    write(tmp_path, "empty", [])
    with pytest.raises(DatagenError, match="empty/v0001 has no records"):
        data.open_checked(DataArgs(data="empty", runs=str(tmp_path)))


def test_split_eval_holds_out_deterministically():
    records = sft_records(6)
    train, held = data.split_eval(records, 2, seed=7)
    assert len(train) == 4 and len(held) == 2
    assert not {r.id for r in train} & {r.id for r in held}
    assert data.split_eval(records, 2, seed=7) == (train, held)


def test_split_eval_keeps_everything_when_too_few_records():
    records = sft_records(3)
    train, held = data.split_eval(records, 2, seed=0)
    assert train == records and len(held) == 2
    assert data.split_eval(records, 0, seed=0) == (records, [])


def test_read_prompts_txt_and_jsonl(tmp_path):
    txt = tmp_path / "p.txt"
    txt.write_text("Name a color.\n\nSay hi.\n")
    assert [m[-1]["content"] for m in data.read_prompts(txt)] == ["Name a color.", "Say hi."]
    jl = tmp_path / "p.jsonl"
    jl.write_text('{"instruction": "Sum these.", "input": "1 2"}\n{"prompt": "Hi?"}\n'
                  '{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Yo"}]}\n')
    got = data.read_prompts(jl)
    assert got[0] == [{"role": "user", "content": "Sum these.\n\n1 2"}]
    assert got[1][0]["content"] == "Hi?"
    assert [m["role"] for m in got[2]] == ["system", "user"]


@pytest.mark.parametrize("content,match", [
    ("", "is empty"), ('{"x": 1}\n', "line 1: expected"), ("{bad\n", "line 1: invalid JSON")])
def test_read_prompts_errors(tmp_path, content, match):
    f = tmp_path / "p.jsonl"
    f.write_text(content)
    with pytest.raises(DatagenError, match=match):
        data.read_prompts(f)


def test_prompt_messages_drops_the_final_answer_of_a_conversation():
    r = Record.make("x", messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}])
    assert data.prompt_messages(r) == [{"role": "user", "content": "Hi"}]


def test_the_before_after_table_keeps_whole_answers():
    from finetune.sample import table

    long_after = "word " * 60 + "THE-END"
    out = table([[{"role": "user", "content": "Say   something."}]], ["short"], [long_after], width=40)
    assert out.splitlines()[0] == "### Say something." and "THE-END" in out  # nothing is cut
    assert max(len(ln) for ln in out.splitlines()) <= 40
