"""Bundled verifiers as a table of (answer, reference, expected score), loading `module:function`, and a
verifier's failure as a (verifier_error, message) value instead of an exception."""
import pytest

from datagen.errors import DatagenError
from datagen.record import Record
from filters.scorers import make_scorer, pick
from filters.verifiers import BUNDLED, load_verifier, run_verifier

TABLE = [
    ("json_parses", '{"a": 1}', None, 1.0),
    ("json_parses", 'Here it is:\n```json\n{"a": [1, 2]}\n```', None, 1.0),
    ("json_parses", "{'a': 1}", None, 0.0),
    ("json_parses", "```json\n{oops}\n```", None, 0.0),
    ("python_runs", "```python\nassert sum([1, 2]) == 3\nprint('ok')\n```", None, 1.0),
    ("python_runs", "```py\nraise SystemExit(3)\n```", None, 0.0),
    ("python_runs", "```python\nimport nothing_here_xyz\n```", None, 0.0),
    ("python_runs", "No code at all.", None, 0.0),
    ("matches_reference", "  Paris. ", "paris", 1.0),
    ("matches_reference", "The answer is 42", "42", 1.0),
    ("matches_reference", "Lyon", "Paris", 0.0),
    ("shorter", "one two three", None, -3.0),
    ("shorter", "", None, -0.0),
]


@pytest.mark.parametrize("name,answer,reference,expected", TABLE)
def test_bundled_verifiers(name, answer, reference, expected):
    record = Record.make("Q?", output=reference)
    assert run_verifier(BUNDLED[name], answer, record) == expected


def test_python_runs_stops_a_loop_that_never_ends(monkeypatch):
    import filters.verifiers as V

    monkeypatch.setattr(V, "PYTHON_TIMEOUT_S", 0.5)
    assert V.python_runs("```python\nwhile True:\n    pass\n```", Record.make("Q?")) == 0.0


def test_matches_reference_without_a_reference_is_a_verifier_error():
    reason, detail = run_verifier(BUNDLED["matches_reference"], "x", Record.make("Q?"))
    assert reason == "verifier_error" and "no reference answer" in detail


def test_module_function_and_bad_returns(tmp_path, monkeypatch):
    (tmp_path / "mychecks.py").write_text("def length(answer, record):\n    return len(answer)\n"
                                          "def nan(answer, record):\n    return float('nan')\n"
                                          "def word(answer, record):\n    return 'high'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert run_verifier(load_verifier("mychecks:length"), "abc", Record.make("Q?")) == 3.0
    assert run_verifier(load_verifier("mychecks:nan"), "abc", Record.make("Q?"))[0] == "verifier_error"
    assert run_verifier(load_verifier("mychecks:word"), "abc", Record.make("Q?")) == (
        "verifier_error", "ValueError: could not convert string to float: 'high'")
    with pytest.raises(DatagenError, match="mychecks has no function 'missing'"):
        load_verifier("mychecks:missing")
    with pytest.raises(DatagenError, match="unknown verifier 'shortest'.*json_parses, python_runs"):
        load_verifier("shortest")


def test_scorer_scores_every_candidate_and_pick_takes_the_first_best():
    scorer = make_scorer("verifier", verifier="shorter")
    assert scorer.score([Record.make("Q?")], [["a b", "a", "c"]]) == [[-2.0, -1.0, -1.0]]
    assert pick([-2.0, -1.0, -1.0]) == (1, 0)
    assert pick([("verifier_error", "x"), 3.0]) == (1, 1) and pick([("verifier_error", "x")]) == (None, None)
    with pytest.raises(DatagenError, match="unknown scorer 'vibes'"):
        make_scorer("vibes")
