"""Record / Lineage: content-hash ids, replace(), parquet rows round trip."""
import json

import pytest

from datagen.record import Lineage, Record, ROW_COLUMNS, canonical_json, normalize, record_id, sha256_text


def test_normalize_collapses_whitespace():
    assert normalize("  a\n\t b  ") == "a b"
    assert normalize(None) == ""


def test_id_is_content_hash_ignoring_whitespace_meta_and_lineage():
    a = Record.make("Name a color.", output="Blue.")
    b = Record.make("  Name   a\ncolor. ", output="Blue.\n", meta={"x": 1},
                    lineage=Lineage(method="answer", run_id="r1"))
    assert a.id == b.id
    assert len(a.id) == 64
    assert a.id == record_id("Name a color.", "", "Blue.")
    # meta is not compared, lineage is
    assert a != b and a == Record.make("Name a color.", output="Blue.", meta={"y": 2})


@pytest.mark.parametrize("change", [
    {"instruction": "Name a colour."}, {"input": "sky"}, {"output": "Red."}, {"rejected": "Red."},
    {"messages": [{"role": "user", "content": "hi"}]},
])
def test_every_content_field_changes_the_id(change):
    base = dict(instruction="Name a color.", input="", output="Blue.")
    kw = {**base, **change}
    other = Record.make(kw.pop("instruction"), kw.pop("input"), kw.pop("output"), **kw)
    assert other.id != Record.make(**base).id


def test_output_none_differs_from_empty_output():
    assert Record.make("x").id != Record.make("x", output="").id


def test_replace_recomputes_id_and_keeps_other_fields():
    lin = Lineage(method="answer", parents=("p",), step=2)
    r = Record.make("Q?", output="A.", lineage=lin, meta={"k": 1})
    r2 = r.replace(output="B.")
    assert r2.id == Record.make("Q?", output="B.").id != r.id
    assert r2.lineage == lin and r2.meta == {"k": 1} and r2.instruction == "Q?"
    assert r.output == "A."  # frozen original untouched
    with pytest.raises(Exception):
        r.output = "C."  # type: ignore[misc]


def test_row_round_trip_with_messages_lineage_meta():
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"}]
    lin = Lineage(method="evol_instruct", parents=("a", "b"), template="evol_instruct/deepen",
                  template_sha="abc", teacher="fake", sampling_sha="s", run_id="r", step=3, operation="deepen")
    r = Record.make("Hi", output="Hello!", rejected="Go away.", messages=msgs, lineage=lin,
                    meta={"finish_reason": "stop", "score": 0.5, "ünï": "çödé"})
    row = r.to_row()
    assert tuple(row) == ROW_COLUMNS
    assert all(isinstance(row[k], str) for k in ("messages", "lineage", "meta"))
    assert row["method"] == "evol_instruct" and row["step"] == 3
    back = Record.from_row(json.loads(json.dumps(row)))
    assert back == r and back.meta == r.meta and back.lineage.parents == ("a", "b")
    assert back.messages == tuple(msgs) and back.is_pair


def test_lineage_from_dict_ignores_unknown_keys():
    lin = Lineage.from_dict({"method": "seed", "parents": ["x"], "future_field": 1})
    assert lin == Lineage(method="seed", parents=("x",))
    assert Lineage.from_dict(lin.to_dict()) == lin


def test_prompt_text_and_is_pair():
    assert Record.make("Translate.", "Bonjour").prompt_text() == "Translate.\n\nBonjour"
    assert Record.make("Translate.").prompt_text() == "Translate."
    assert not Record.make("q", output="a").is_pair
    assert Record.make("q", output="a", rejected="b").is_pair


def test_canonical_json_is_stable():
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert canonical_json({"s": {3, 1}}) == '{"s":[1,3]}'
    assert canonical_json(Lineage(method="m")) == canonical_json(Lineage(method="m").__dict__ | {"parents": []})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})
    assert sha256_text("a") == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
