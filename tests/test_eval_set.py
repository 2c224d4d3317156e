"""Eval sets: the bundled IFEval-style set, and clear errors for malformed eval files."""
import hashlib
import json
from collections import Counter

import pytest

from datagen.errors import DatagenError
from datagen.constraints import KINDS, Constraint
from datagen.evaluation.evalset import EvalPrompt, bundled_eval_path, load_eval_set


def test_bundled_set_covers_every_kind():
    evalset = load_eval_set()
    assert evalset.name == "ifeval" and evalset.source == str(bundled_eval_path())
    assert evalset.sha256 == hashlib.sha256(bundled_eval_path().read_bytes()).hexdigest()
    assert len(evalset.prompts) >= 150
    ids = [p.id for p in evalset.prompts]
    assert len(set(ids)) == len(ids) and ids[0] == "if-0001"
    kinds = Counter(c.kind for p in evalset.prompts for c in p.constraints)
    assert len(kinds) >= 24 and set(kinds) <= set(KINDS), set(kinds) - set(KINDS)
    assert min(kinds.values()) >= 5, kinds
    assert all(1 <= len(p.constraints) <= 3 for p in evalset.prompts)
    assert len({p.prompt for p in evalset.prompts}) == len(evalset.prompts)
    assert load_eval_set("bundled") == evalset


def test_bundled_prompts_state_their_constraints():
    # The constraint must be asked for in the prompt itself, or the model cannot know it: every
    # phrase, keyword, number and relation ("at most") of a constraint is written in its prompt.
    for p in load_eval_set().prompts:
        text = p.prompt.lower()
        for kind, args in ((c.kind, c.args) for c in p.constraints):
            # "at most 0" is worded "do not use any", so the relation of n = 0 is not looked for
            stated = [str(v) for v in args.values() if isinstance(v, (str, int)) and args.get("n") != 0]
            stated += [w for v in args.values() if isinstance(v, tuple) for w in v]
            for value in stated:
                value = value.replace("_", " ").lower()
                assert value in text, (p.id, kind, value)


def write(tmp_path, lines, name="set.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ROW = {"id": "a", "prompt": "Say hi without commas.", "constraints": [{"kind": "no_commas"}]}


def row(**changes):
    return json.dumps({**ROW, **changes})


def test_user_eval_set(tmp_path):
    path = write(tmp_path, [row(), "", json.dumps({"prompt": "Two words.", "constraints": [
        {"kind": "word_count", "relation": "exactly", "n": 2}, {"kind": "section_count", "n": 1}]})], "mine.jsonl")
    evalset = load_eval_set(str(path))
    assert evalset.name == "mine" and evalset.source == str(path)
    assert evalset.prompts[0] == EvalPrompt("a", "Say hi without commas.", (Constraint("no_commas"),))
    second = evalset.prompts[1]
    assert second.id == "line-3"  # the line number, blank lines included
    assert second.constraints == (Constraint("word_count", {"relation": "exactly", "n": 2}),
                                  Constraint("section_count", {"n": 1, "splitter": "SECTION"}))


@pytest.mark.parametrize("lines, match", [
    ([row(id="a"), row(id="b"), '{"prompt": oops}'], "line 3: invalid JSON"),
    ([row(), row(id="b", constraints=[{"kind": "word_cont", "n": 3}])], "line 2: constraint 1: unknown constraint kind 'word_cont'"),
    ([row(constraints=[{"kind": "no_commas"}, {"kind": "word_count", "n": 3}])], "line 1: constraint 2: word_count needs argument 'relation'"),
    ([row(constraints=[{"kind": "bullet_points", "n": 0}])], "line 1: constraint 1: bullet_points argument 'n'"),
    ([row(constraints=[{"n": 3}])], "line 1: constraint 1: must be an object with a string 'kind'"),
    ([row(), json.dumps({"id": "b", "constraints": [{"kind": "no_commas"}]})], "line 2: missing field 'prompt'"),
    ([row(prompt="   ")], "line 1: field 'prompt' is empty"),
    ([row(constraints=[])], "line 1: no constraints"),
    ([json.dumps({"prompt": "Hi."})], "line 1: no constraints"),
    ([row(), "", row(id="b"), row(id="a")], "line 4: duplicate id 'a' \\(first used on line 1\\)"),
    ([row(id=7)], "line 1: field 'id' must be a non-empty string"),
    (["[1, 2]"], "line 1: expected a JSON object"),
])
def test_malformed_eval_sets_name_the_file_and_line(tmp_path, lines, match):
    path = write(tmp_path, lines)
    with pytest.raises(DatagenError, match=match) as info:
        load_eval_set(path)
    assert str(info.value).startswith(f"eval set {path} line ")


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_empty_eval_set(tmp_path, text):
    path = tmp_path / "empty.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatagenError, match=f"eval set {path} has no prompts"):
        load_eval_set(path)


def test_missing_eval_set(tmp_path):
    with pytest.raises(DatagenError, match=f"eval set not found: {tmp_path / 'nope.jsonl'}"):
        load_eval_set(str(tmp_path / "nope.jsonl"))
