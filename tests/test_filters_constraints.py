"""The constraints filter and verifier: answers checked against the constraints their record carries in
meta["constraints"], by the same library as the eval."""
import pytest

import filters as F
from datagen.errors import DatagenError
from datagen.record import Record
from filters.constraints import Constraints
from filters.scorers import make_scorer, pick
from filters.verifiers import BUNDLED, run_verifier

CS = [{"kind": "no_commas"}, {"kind": "word_count", "relation": "at_most", "n": 5}]


def rec(output, constraints=CS, instruction="Greet me. Do not use commas; five words at most."):
    return Record.make(instruction, output=output, meta={"constraints": constraints} if constraints is not None else {})


def test_filter_keeps_passing_answers_and_names_the_failed_kinds():
    records = [rec("Hello there friend."), rec("Hello, friend."), rec("Hello there my dear old friend"),
               rec("Hi, it is a very long hello")]
    assert Constraints()(records) == [None, ("constraint_failed", "no_commas"), ("constraint_failed", "word_count"),
                                      ("constraint_failed", "no_commas, word_count")]
    assert Constraints(min_pass=0.5)(records) == [None, None, None, ("constraint_failed", "no_commas, word_count")]
    assert F.filter_class("constraints") is Constraints and Constraints.per_record


def test_loose_mode_forgives_a_preamble():
    r = rec("Sure, here:\nHello there friend.")
    assert Constraints()([r]) == [("constraint_failed", "no_commas")]
    assert Constraints(mode="loose")([r]) == [None]


def test_records_without_or_with_broken_constraints():
    bare = rec("Hello, friend.", constraints=None)
    assert Constraints()([bare]) == [None] and Constraints(missing="drop")([bare]) == ["no_constraints"]
    reason, detail = Constraints()([rec("Hi.", constraints=[{"kind": "word_cont"}])])[0]
    assert reason == "constraints_invalid" and "unknown constraint kind 'word_cont'" in detail
    with pytest.raises(DatagenError, match="unknown mode 'lenient'"):
        Constraints(mode="lenient")


def test_empty_answer_passes_nothing():
    assert Constraints(min_pass=0.5)([rec("  ")]) == [("constraint_failed", "no_commas, word_count")]


def test_verifier_scores_the_fraction_followed_and_best_of_n_picks_the_follower():
    prompt = rec(None)
    assert run_verifier(BUNDLED["constraints"], "Hello there friend.", prompt) == 1.0
    assert run_verifier(BUNDLED["constraints"], "Hello, friend.", prompt) == 0.5
    reason, detail = run_verifier(BUNDLED["constraints"], "Hi.", Record.make("Q?"))
    assert reason == "verifier_error" and "no constraints" in detail
    scores = make_scorer("verifier", verifier="constraints").score(
        [prompt], [["Hi, you, there, all of you lovely people", "Hello, friend.", "Hello there friend."]])
    assert scores == [[0.0, 0.5, 1.0]] and pick(scores[0]) == (2, 0)
