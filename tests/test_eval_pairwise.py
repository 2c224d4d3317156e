"""Pairwise judging: verdict parsing, the order swap, and the one-batch judge call."""
from __future__ import annotations

import pytest

from datagen.evaluation.pairwise import (build_requests, combine, combine_detail, judge_pairs,
                                         parse_verdict, reason_counts)
from datagen.evaluation.stats import win_rate, win_rate_summary
from datagen.teacher import Completion, FakeTeacher, Sampling
from datagen.templates import load_template

SAMPLING = Sampling(max_tokens=256, temperature=0.0)
MARK = "STUDENTMARK"
ITEMS = [(f"Question {i}?", f"{MARK} answer {i}", f"reference answer {i}") for i in range(5)]


@pytest.fixture(scope="module")
def tpl():
    return load_template("eval/pairwise")


def user_text(req):
    return req.messages[-1]["content"]


def position_of(req, marker):
    """'first' if `marker` is in Answer A of the rendered prompt, else 'second'."""
    text = user_text(req)
    a, b = text.index("### Answer A"), text.index("### Answer B")
    return "first" if a < text.index(marker) < b else "second"


def prefers(marker):
    """A fake judge that always picks the answer containing `marker`."""
    return lambda req: "Verdict: A" if position_of(req, marker) == "first" else "Verdict: B"


@pytest.mark.parametrize("text, expected", [
    ("Verdict: A", "first"),
    ("verdict: b", "second"),
    ("Verdict: tie", "tie"),
    ("Both look fine.\nVerdict: **A**", "first"),
    ("[[A]]", "first"),
    ("[[B]]", "second"),
    ("[[C]]", "tie"),  # MT-Bench's tie label
    ("Answer 1 is better", "first"),
    ("Response 2 is clearly better.", "second"),
    ("The second answer", "second"),
    ("**B**", "second"),
    ("I prefer the first response.", "first"),
    ("Assistant B is slightly more accurate.", "second"),
    ("B is worse than A.", "first"),
    ("Both are equally good", "tie"),
    ("Neither answer is better.", "tie"),
    ("Final answer: Answer 2", "second"),
    ("A explains more.\nVerdict: B", "second"),  # the explicit verdict beats prose
    ("Verdict: A\nVerdict: B", "second"),  # the last explicit verdict line wins
    ("Verdict: A\nNote: the second answer is better formatted.", "first"),
    ("Answer A is concise. Answer B is detailed.", None),  # names both, no verdict
    ("Answer A: uses a loop\nAnswer B: uses recursion", None),
    ("A good answer is better than none.", None),  # the article "A" is not answer A
    ("End with Verdict: A, Verdict: B or Verdict: tie", None),  # echoed format
    ("Verdict: A or B", None),
    ("I cannot decide.", None),
    ("", None),
])
def test_parse_verdict(text, expected):
    assert parse_verdict(text) == expected


def test_combine():
    assert combine_detail("first", "second") == ("win", "consistent")
    assert combine_detail("second", "first") == ("loss", "consistent")
    assert combine_detail("first", "first") == ("tie", "order_flip")
    assert combine_detail("second", "second") == ("tie", "order_flip")
    assert combine_detail("tie", "tie") == ("tie", "judge_tie")
    assert combine_detail("first", "tie") == ("tie", "judge_tie")
    assert combine_detail(None, "second") == ("tie", "unparsed")
    assert combine("first", "second") == "win" and combine("first", None) == "tie"


def test_template_renders_both_orders(tpl):
    ab, ba = build_requests("Name a colour.", "QQRED", "QQBLUE", tpl, SAMPLING, key="k")
    assert (ab.key, ba.key) == ("k:ab", "k:ba")
    assert ab.sampling is SAMPLING and ab.messages[0]["role"] == "system"
    assert [m["role"] for m in ab.messages] == ["system", "user"]
    ua, ub = user_text(ab), user_text(ba)
    assert "Name a colour." in ua and "Verdict: A" in ua and "Verdict: tie" in ua
    assert ua.index("QQRED") < ua.index("QQBLUE") and ub.index("QQBLUE") < ub.index("QQRED")
    # swapping the two answers back gives the identical prompt: they differ only in order
    assert ub.replace("QQRED", "@").replace("QQBLUE", "QQRED").replace("@", "QQBLUE") == ua
    assert ab.messages[0] == ba.messages[0]


def test_first_position_judge_gives_only_ties(tpl):
    teacher = FakeTeacher(respond=lambda req: "Answer A is better.\nVerdict: A")
    results = judge_pairs(ITEMS, teacher, tpl, SAMPLING, key_prefix="pw")
    outcomes = [r["outcome"] for r in results]
    assert outcomes.count("win") == 0 and outcomes.count("loss") == 0
    assert {r["reason"] for r in results} == {"order_flip"}
    assert win_rate(outcomes) == 0.5
    assert results[0]["verdict_ab"].endswith("Verdict: A") and results[0]["parsed_ba"] == "first"


def test_judge_preferring_student_gives_all_wins(tpl):
    results = judge_pairs(ITEMS, FakeTeacher(respond=prefers(MARK)), tpl, SAMPLING, key_prefix="pw")
    assert [r["outcome"] for r in results] == ["win"] * len(ITEMS)
    assert all(r["reason"] == "consistent" for r in results)
    summary = win_rate_summary([r["outcome"] for r in results])
    assert summary["win_rate"] == 1.0 and summary["wins"] == len(ITEMS)


def test_judge_preferring_reference_gives_no_wins(tpl):
    results = judge_pairs(ITEMS, FakeTeacher(respond=prefers("reference")), tpl, SAMPLING, key_prefix="pw")
    assert [r["outcome"] for r in results] == ["loss"] * len(ITEMS)
    assert win_rate([r["outcome"] for r in results]) == 0.0


def test_unparseable_judge_gives_unparsed_ties(tpl):
    results = judge_pairs(ITEMS, FakeTeacher(respond=lambda req: "Both have merits."), tpl, SAMPLING, "pw")
    assert all(r["outcome"] == "tie" and r["reason"] == "unparsed" for r in results)
    assert reason_counts(results) == {"consistent": 0, "order_flip": 0, "judge_tie": 0, "unparsed": len(ITEMS)}
    assert results[0]["parsed_ab"] is None and results[0]["verdict_ab"] == "Both have merits."


def test_failed_completion_counts_as_unparsed(tpl):
    class FailingTeacher(FakeTeacher):
        def complete(self, requests, on_result=None):
            out = super().complete(requests, on_result)
            return [Completion(error="timeout", key=c.key) if c.key.endswith(":ba") else c for c in out]

    results = judge_pairs(ITEMS[:2], FailingTeacher(respond=prefers(MARK)), tpl, SAMPLING, "pw")
    assert [(r["outcome"], r["reason"], r["parsed_ab"], r["parsed_ba"]) for r in results] == \
        [("tie", "unparsed", "first", None)] * 2


def test_two_requests_per_item_in_one_call(tpl):
    calls = []

    class CountingTeacher(FakeTeacher):
        def complete(self, requests, on_result=None):
            calls.append(len(requests))
            return super().complete(requests, on_result)

    teacher = CountingTeacher(respond=prefers(MARK))
    judge_pairs(ITEMS, teacher, tpl, SAMPLING, key_prefix="eval")
    assert calls == [2 * len(ITEMS)]
    keys = [r.key for r in teacher.seen]
    assert keys[:4] == ["eval:0:ab", "eval:0:ba", "eval:1:ab", "eval:1:ba"]
    assert len(set(keys)) == len(keys)
    assert [position_of(r, MARK) for r in teacher.seen[:2]] == ["first", "second"]
    assert judge_pairs([], teacher, tpl, SAMPLING, key_prefix="eval") == [] and calls == [2 * len(ITEMS)]
