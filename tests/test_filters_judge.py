"""LLM judge: robust score parsing, threshold, scores kept in meta through apply()'s annotations."""
import random

import pytest

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.session import RunContext
from datagen.teacher import Completion, FakeTeacher, Sampling
from datagen.templates import TemplateLoader
from datagen.filtering import apply_filters as apply, build_filters
from filters.judge import parse_score

PARSE = [
    ("The answer is correct and clear.\nScore: 9", 10, 9.0),
    ("**Score:** 7/10", 10, 7.0),
    ("Rating = 3 out of 5", 10, 6.0),           # another denominator is rescaled
    ("I'd give it 4/5.", 5, 4.0),
    ("8", 10, 8.0),
    ("  6. ", 10, 6.0),
    ("Score: 12", 10, None),                    # out of range
    ("It has 3 bugs and 2 typos.", 10, None),   # numbers, but no score
    ("Score: 4\nOn reflection, Score: 8", 10, 8.0),  # the last verdict wins
    ("Punktzahl: 7", 10, 7.0),
    ("评分：6", 10, 6.0),
    ("", 10, None),
]


@pytest.mark.parametrize("text,scale,expected", PARSE)
def test_parse_score(text, scale, expected):
    assert parse_score(text, scale) == expected


def ctx_with(teacher):
    return RunContext(rng=random.Random(0), sampling=Sampling(max_tokens=64, temperature=0.0),
                      templates=TemplateLoader(), run_id="t", teacher_name=teacher.name, teacher=teacher)


def grader(req):
    """A fake judge: full marks for the right sum, low marks otherwise, gibberish for poems."""
    prompt = req.messages[-1]["content"]
    if "poem" in prompt:
        return "Lovely."
    return "Correct.\nScore: 9" if "### Response\n4" in prompt else "Wrong.\nScore: 2"


def test_judge_drops_low_scores_and_keeps_scores_in_meta():
    good = Record.make("What is 2 + 2?", output="4", meta={"finish_reason": "stop"})
    bad = Record.make("What is 2 + 3?", output="7")
    poem = Record.make("Write a poem.", output="Roses are red.")
    teacher = FakeTeacher(grader, name="fake-judge")
    filters = build_filters([{"name": "judge", "threshold": 7}], ctx_with(teacher))
    kept, rejected, funnel = apply(filters, [good, bad, poem])
    assert [r.id for r in kept] == [good.id]
    assert kept[0].meta == {"finish_reason": "stop", "judge_score": 9.0, "judge_scale": 10}
    why = {rej.record.id: (rej.reason, rej.stage, rej.detail) for rej in rejected}
    assert why[bad.id] == ("low_judge_score", "filter:judge", "2/10")
    assert why[poem.id][0] == "judge_unparsed"
    assert [r.record.meta.get("judge_score") for r in rejected if r.record.id == bad.id] == [2.0]
    assert funnel == [{"filter": "judge", "in": 3, "kept": 1, "dropped": {"low_judge_score": 1, "judge_unparsed": 1}}]
    # the rubric template got the record and the scale
    prompt = teacher.seen[0].messages[-1]["content"]
    assert "What is 2 + 2?" in prompt and "Score: N" in prompt and "from 1 to 10" in prompt
    assert teacher.seen[0].sampling.max_tokens == 64


def test_failed_requests_and_keep_option():
    class Failing:
        name = "down"

        def complete(self, reqs, on_result=None):
            return [Completion(key=r.key, error="timeout") for r in reqs]

    rec = Record.make("Q?", output="A.")
    (_, drop), = build_filters(["judge"], ctx_with(Failing()))
    assert drop([rec]) == [("judge_error", "timeout")]
    (_, keep), = build_filters([{"name": "judge", "on_error": "keep"}], ctx_with(Failing()))
    assert keep([rec]) == [None] and keep.annotations() == {}


def test_judge_without_teacher_or_with_bad_options_is_an_error():
    with pytest.raises(DatagenError, match="needs a teacher"):
        build_filters(["judge"])
    with pytest.raises(DatagenError, match="threshold"):
        build_filters([{"name": "judge", "threshold": 11}], ctx_with(FakeTeacher()))
