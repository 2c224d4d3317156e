"""Seed tasks: our bundled file, the formats users bring (Self-Instruct JSONL, Alpaca JSON/JSONL),
and clear errors for malformed files."""
import json
from collections import Counter

import pytest

from datagen.errors import DatagenError
from datagen.record import normalize
from datagen.seeds import default_seeds_path, load_seeds
from filters.self_instruct import instruction_reason


def test_bundled_seeds_cover_many_kinds():
    seeds = load_seeds()
    rows = [json.loads(line) for line in default_seeds_path().read_text().splitlines() if line.strip()]
    assert len(seeds) == len(rows) >= 60  # no duplicate instructions collapsed away
    kinds = Counter(s.meta["kind"] for s in seeds)
    assert len(kinds) >= 12 and min(kinds.values()) >= 5, kinds
    assert len({r["id"] for r in rows}) == len(rows) and len({r["name"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == {"id", "name", "kind", "instruction", "instances", "is_classification"}
        assert r["instances"] and all(normalize(i["output"]) for i in r["instances"])
    # our seeds pass the Self-Instruct filters they teach the teacher to respect
    assert [s.instruction for s in seeds if instruction_reason(s.instruction)] == []
    cls = [s for s in seeds if s.meta["is_classification"]]
    assert len(cls) >= 5 and all(len(s.output.split()) <= 3 for s in cls)  # a label, not prose
    assert any(s.input for s in seeds) and any(not s.input for s in seeds)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_public_self_instruct_format(tmp_path):
    row = {"id": "seed_task_0", "name": "antonym", "instruction": "Give the antonym of the word.",
           "instances": [{"input": "hot", "output": "cold"}, {"input": "up", "output": "down"}],
           "is_classification": False}
    cls = dict(row, id="seed_task_1", name="yn", instruction="Is the number prime? Answer yes or no.",
               instances=[{"input": "7", "output": "yes"}], is_classification=True)
    seeds = load_seeds(write(tmp_path, "s.jsonl", json.dumps(row) + "\n\n" + json.dumps(cls) + "\n"))
    assert [(s.instruction, s.input, s.output) for s in seeds] == [
        ("Give the antonym of the word.", "hot", "cold"), ("Is the number prime? Answer yes or no.", "7", "yes")]
    assert seeds[0].meta["instances"][1] == {"input": "up", "output": "down"}
    assert [s.meta["is_classification"] for s in seeds] == [False, True]
    assert seeds[0].meta["seed_name"] == "antonym" and seeds[0].lineage.method == "seed"


def test_alpaca_json_and_jsonl(tmp_path):
    rows = [{"instruction": "Name a color.", "input": "", "output": "Blue."},
            {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"}]
    a = load_seeds(write(tmp_path, "a.json", json.dumps(rows, indent=2)))
    b = load_seeds(write(tmp_path, "b.jsonl", "".join(json.dumps(r) + "\n" for r in rows)))
    assert [(s.instruction, s.input, s.output) for s in a] == [(r["instruction"], r["input"], r["output"]) for r in rows]
    assert [s.id for s in a] == [s.id for s in b]
    assert not any(s.meta["is_classification"] for s in a)


@pytest.mark.parametrize("name, text, match", [
    ("bad.jsonl", '{"instruction": "a b c", "input": "", "output": "x"}\n\n{"instruction": oops}\n', "line 3"),
    ("list.jsonl", '{"instruction": "a b c", "input": "", "output": "x"}\n[1, 2]\n', "line 2: expected a JSON object"),
    ("fields.jsonl", '{"prompt": "hello"}\n', "line 1: not a seed task"),
    ("empty_instances.jsonl", '{"instruction": "a b c", "instances": [], "is_classification": false}\n',
     "line 1: 'instances'"),
    ("no_output.jsonl", '{"instruction": "a b c", "instances": [{"input": "x"}]}\n', "line 1: field 'output'"),
    ("blank_instruction.jsonl", '{"instruction": "  ", "input": "", "output": "x"}\n', "line 1: field 'instruction' is empty"),
    ("broken.json", '[{"instruction": "a", "output": "b"},\n {"instruction": }]', "line 2"),
    ("empty.jsonl", "\n  \n", "is empty"),
])
def test_malformed_seed_files_name_the_line(tmp_path, name, text, match):
    with pytest.raises(DatagenError, match=match):
        load_seeds(write(tmp_path, name, text))


def test_missing_seed_file(tmp_path):
    with pytest.raises(DatagenError, match="not found"):
        load_seeds(tmp_path / "nope.jsonl")
