"""filters.decontaminate: records sharing a word 13-gram with an eval prompt are dropped.

    Decontaminate(eval_sets=[path])([Record.make("x", output=<13 eval words>)]) -> [("eval_contamination", "e1: '...'")]
"""
from __future__ import annotations

import json
import pickle

import pytest

from datagen.errors import DatagenError
from datagen.record import Record
from filters.decontaminate import Decontaminate
from filters.eval_ngrams import load_eval_set

# Two eval prompts of distinct made-up words, so any overlap is the one planted.
E1 = ("zorblat quenmir fastoo plindex gravmor tuskel wimbrod chasset lomprey vendrik "
      "ostaper murlin baxtey hoplin sarvex dulmore").split()
E2 = ("kelbrin astoval rupnik sedgeworth tavolin prisquet morvane gultry helvik "
      "noskara fenwold trimbal copsen waltrix").split()


def caps(words: list[str]) -> str:
    """Same words, other case and punctuation: ["ab", "cd", "ef"] -> "AB, Cd... ef!"."""
    out = []
    for i, w in enumerate(words):
        w = w.upper() if i % 3 == 0 else w.capitalize() if i % 3 == 1 else w
        out.append(w + (", " if i % 4 == 0 else "... " if i % 4 == 2 else " "))
    return "".join(out).strip() + "!"


def write_jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def evals(tmp_path) -> str:
    return write_jsonl(tmp_path / "evals.jsonl", [
        {"id": "e1", "prompt": " ".join(E1), "constraints": []},
        {"id": "e2", "prompt": " ".join(E2)}])


def rec(instruction="Tell me a story.", input="", output="Once upon a time there was a cat."):
    return Record.make(instruction, input, output)


def detail(words: list[str], eval_id: str = "e1") -> tuple[str, str]:
    return ("eval_contamination", f"{eval_id}: '{' '.join(words)}'")


def test_planted_13gram_in_output_is_dropped_with_id_and_ngram(evals):
    f = Decontaminate(eval_sets=[evals])
    planted = rec(output="As the saying goes: " + caps(E1[2:15]) + " and so on.")
    assert f([rec(), planted]) == [None, detail(E1[2:15])]


def test_12gram_near_miss_is_kept(evals):
    f = Decontaminate(eval_sets=[evals])
    near = rec(output="We read " + caps(E1[1:13]) + " yesterday, then " + caps(E2[:12]))
    assert f([near]) == [None]


def test_overlap_in_input_and_instruction_is_caught(evals):
    f = Decontaminate(eval_sets=[evals])
    got = f([rec(input="Context: " + " ".join(E2[:13])), rec(instruction=caps(E1[3:16]) + "?")])
    assert got == [detail(E2[:13], "e2"), detail(E1[3:16])]


def test_ngram_does_not_span_two_fields(evals):
    f = Decontaminate(eval_sets=[evals])
    assert f([rec(instruction=" ".join(E1[:6]), output=" ".join(E1[6:14]))]) == [None]


def test_fields_output_ignores_instruction(evals):
    f = Decontaminate(eval_sets=[evals], fields=["output"])
    assert f([rec(instruction=" ".join(E1[:13]))]) == [None]
    assert f([rec(output=" ".join(E1[:13]))]) == [detail(E1[:13])]


def test_rejected_field_can_be_checked(evals):
    pair = Record.make("Q", output="fine", rejected=" ".join(E2[1:14]))
    assert Decontaminate(eval_sets=[evals])([pair]) == [None]
    assert Decontaminate(eval_sets=[evals], fields=["output", "rejected"])([pair]) == [detail(E2[1:14], "e2")]


def test_n8_catches_an_8gram_but_not_a_7gram(evals):
    f = Decontaminate(eval_sets=[evals], n=8)
    assert f([rec(output="so " + caps(E1[5:13])), rec(output="so " + caps(E1[5:12]))]) == [detail(E1[5:13]), None]


def test_short_texts_cannot_match(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": "a", "prompt": "What is the capital of France?"},
                                              {"id": "b", "prompt": " ".join(E1)}])
    f = Decontaminate(eval_sets=[path])
    assert f([rec(instruction="What is the capital of France?", output="Paris.")]) == [None]


def test_first_hit_is_reported_and_repeated_ngrams_name_the_first_prompt(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"id": "a", "prompt": " ".join(E1)},
                                              {"id": "b", "prompt": "Intro words. " + " ".join(E1)}])
    f = Decontaminate(eval_sets=[path])
    assert f([rec(output=" ".join(E1[1:15]))]) == [detail(E1[1:14], "a")]


def test_eval_set_with_instruction_and_input_and_no_id(tmp_path):
    path = write_jsonl(tmp_path / "alpaca_eval.jsonl", [
        {"instruction": "Summarize.", "input": " ".join(E2)}, {"instruction": " ".join(E1)}])
    f = Decontaminate(eval_sets=[path])
    got = f([rec(output=" ".join(E2[:13])), rec(output=" ".join(E1[:13]))])
    assert got == [detail(E2[:13], "alpaca_eval.jsonl:1"), detail(E1[:13], "alpaca_eval.jsonl:2")]


def test_parquet_eval_set(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "evals.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "prompt": [" ".join(E1), " ".join(E2)]}), path)
    f = Decontaminate(eval_sets=[str(path)])
    assert f([rec(output=" ".join(E2[1:14])), rec()]) == [detail(E2[1:14], "p2"), None]


def test_datasets_folder_eval_set(tmp_path):
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "evals_ds"
    datasets.Dataset.from_dict({"id": ["d1"], "instruction": [" ".join(E1)], "input": [""]}).save_to_disk(str(path))
    f = Decontaminate(eval_sets=[str(path)])
    assert f([rec(output=caps(E1[:13]))]) == [detail(E1[:13], "d1")]


def test_several_eval_sets(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": "a1", "prompt": " ".join(E1)}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "b1", "prompt": " ".join(E2)}])
    f = Decontaminate(eval_sets=[a, b])
    assert f([rec(output=" ".join(E2[:13])), rec(output=" ".join(E1[:13])), rec()]) == [
        detail(E2[:13], "b1"), detail(E1[:13], "a1"), None]


def test_bundled_eval_set_loads():
    prompts = load_eval_set("bundled")
    assert len(prompts) > 0 and all(pid and texts for pid, texts in prompts)


def test_verdicts_one_per_record_and_batches_agree(evals):
    f = Decontaminate(eval_sets=[evals])
    records = [rec(output=f"answer {i} " + (" ".join(E1[i % 3:i % 3 + 13]) if i % 4 == 0 else "plain"))
               for i in range(40)]
    whole = f(records)
    assert len(whole) == len(records) and f([]) == []
    assert sum(v is not None for v in whole) == 10
    by_batch = [v for i in range(0, len(records), 7) for v in f(records[i:i + 7])]
    assert by_batch == whole
    assert pickle.loads(pickle.dumps(f))(records) == whole  # Ray ships the filter with its index


def test_large_batches_are_tokenized_in_chunks_with_the_same_verdicts(evals, monkeypatch):
    import filters.decontaminate as D

    f = Decontaminate(eval_sets=[evals])
    records = [rec(output=" ".join(E1[i:i + 13]) if i % 2 else "short") for i in range(4)]
    whole = f(records)
    monkeypatch.setattr(D, "CHUNK_CHARS", 60)  # about one record per chunk
    assert f(records) == whole and sum(v is not None for v in whole) == 2


def test_separator_characters_inside_texts(evals):
    f = Decontaminate(eval_sets=[evals])
    tricky = rec(instruction="a\x00b\x01c", output=" ".join(E1[:13]))
    assert f([tricky, rec()]) == [detail(E1[:13]), None]


def test_missing_file(tmp_path):
    with pytest.raises(DatagenError, match="nope.jsonl: file not found"):
        Decontaminate(eval_sets=[str(tmp_path / "nope.jsonl")])


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "prompt": "fine"}\n{"id": broken\n', encoding="utf-8")
    with pytest.raises(DatagenError, match=r"bad\.jsonl line 2: invalid JSON"):
        Decontaminate(eval_sets=[str(path)])


def test_jsonl_row_without_text_names_the_line(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [{"prompt": " ".join(E1)}, {"question": "?"}])
    with pytest.raises(DatagenError, match=r"e\.jsonl line 2: no text column"):
        Decontaminate(eval_sets=[path])


def test_parquet_without_text_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "q.parquet"
    pq.write_table(pa.table({"question": [" ".join(E1)]}), path)
    with pytest.raises(DatagenError, match=r"q\.parquet: no text column"):
        Decontaminate(eval_sets=[str(path)])


def test_unknown_format_and_not_a_datasets_folder(tmp_path):
    (tmp_path / "e.csv").write_text("prompt\nhello\n")
    with pytest.raises(DatagenError, match="unknown format"):
        Decontaminate(eval_sets=[str(tmp_path / "e.csv")])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(DatagenError, match="empty_dir: not a datasets"):
        Decontaminate(eval_sets=[str(tmp_path / "empty_dir")])


@pytest.mark.parametrize("opts, message", [
    ({"n": 0}, r"n must be an integer in \[1, 200\]"),
    ({"n": 201}, r"n must be an integer in \[1, 200\]"),
    ({"n": True}, "n must be an integer"),
    ({"fields": ["outputs"]}, "unknown field.*outputs"),
    ({"fields": []}, "fields must be a non-empty list"),
    ({"eval_sets": []}, "eval_sets must be a non-empty list"),
    ({"n": 100}, "no eval prompt has 100 or more words"),
])
def test_bad_options(evals, opts, message):
    with pytest.raises(DatagenError, match=message):
        Decontaminate(**{"eval_sets": [evals], **opts})
