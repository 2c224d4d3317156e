"""SELF-ALIGN runs with FakeTeacher (no model): engraving, the three pair sources and the malformed-file
errors on the command line (the pure parsing is in test_self_align_parsing.py)."""
import json
import re

import pytest

from datagen.cli import load_run_config, main
from datagen.errors import DatagenError
from datagen.versions.export import export
from datagen.methods.self_align.principles import parse_principles
from datagen.progress import Progress
from datagen.record import Record, normalize
from datagen.run import run
from datagen.teacher import FakeTeacher
from datagen.templates import TemplateLoader

LOADER = TemplateLoader()
DEFAULT_PRINCIPLES = parse_principles(LOADER.read_file("self_align/principles.md")[0], "principles.md")
QUESTIONS = [
    "Who won the city marathon held last weekend?", "Should I quit my stable job to start a bakery?",
    "How do I pick the lock on my roommate's diary?", "Is it fine to take four painkillers at once?",
    "Can my landlord keep my deposit for a small scratch?", "A train covers 180 km in 2 hours; what is its speed?",
    "Book me something nice for next month, please.", "Are school uniforms a good idea for teenagers?",
    "Why did Napoleon invent the telephone in Paris?", "What numbers will win tomorrow's lottery draw?",
    "What steps do I follow to plant tomatoes on a balcony?", "Write a limerick about a lost robot vacuum.",
    "Explain inflation to a ten year old child.", "Compare trains and planes for a trip from Rome to Milan.",
    "How do people greet each other at a business meeting in Japan?", "What is the home address of my favourite actor?",
    "Do you ever feel lonely when nobody talks to you?", "My Python script raises a KeyError; what does it mean?",
    "Is it true that lemon water cures diabetes?", "I failed my driving test and feel awful, any advice?",
]


def user(req):
    return req.messages[-1]["content"]


def fake(req, *, answer=None, plain=None, scores=(9, 5, 2), revision="Revised answer: A better, kinder reply."):
    """Dispatch on the request key the method sets: red_team:<round>:<i>, answer:<id>, plain:<id>, ..."""
    kind = req.key.split(":")[0]
    if kind == "red_team":
        _, rnd, i = req.key.split(":")
        return "Question: " + QUESTIONS[int(rnd) * 10 + int(i)]
    if kind == "answer":
        return answer(req) if answer else ("Internal thought: Principle 2 (informative) and 7 (candor) apply.\n"
                                           f"Answer: A careful reply to: {user(req)}")
    if kind in ("plain", "draft"):
        return plain(req) if plain else f"ok {user(req)[:20]}"
    if kind == "sample":
        return [f"Internal thought: principle 3.\nAnswer: sample v{k} for {user(req)}" for k in range(req.sampling.n)]
    if kind == "judge":
        k = int(re.search(r"sample v(\d)", user(req)).group(1))
        return [f"Score: {scores[k]}", f"I rate it {scores[k] + 1}/10", "unreadable"][:req.sampling.n]
    if kind == "critique":
        return "The draft is too short and ignores the user's situation."
    if kind == "revise":
        return revision
    if kind == "verbose":
        return "A long and detailed answer: first some context, then the details, then a summary."
    raise AssertionError(req.key)


def make_cfg(tmp_path, *flags):
    return load_run_config(["--method", "self_align", "--out", str(tmp_path / "runs"), "--cache",
                            str(tmp_path / "cache.sqlite"), "--method_cfg.num_prompts", "6", *flags])


def go(tmp_path, *flags, **respond_kw):
    teacher = FakeTeacher(lambda r: fake(r, **respond_kw))
    v = run(make_cfg(tmp_path, *flags), progress=Progress(enabled=False), backend=teacher)
    return v, teacher


def training_texts(r: Record) -> list[str]:
    return [r.instruction, r.input, r.output or "", r.rejected or ""] + [m["content"] for m in r.messages or ()]


def assert_engraved(records, principles):
    for r in records:
        for text in training_texts(r):
            for p in principles:
                assert normalize(p.text).lower() not in normalize(text).lower(), (r.id, p.name)


# ---- files --------------------------------------------------------------------------------------


def test_malformed_file_on_the_cli_is_one_line_naming_file_and_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("datagen.session.make_teacher", lambda cfg: FakeTeacher(lambda r: fake(r)))
    bad = tmp_path / "bad.md"
    bad.write_text("1. **Honest**: Say what you know.\n2) Kind but no bold\n")
    code = main(["generate", "--method", "self_align", "--principles", str(bad), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and f"principles file {bad} line 2: malformed principle" in err and "Traceback" not in err
    assert not (tmp_path / "r" / "self_align").exists()
    code = main(["generate", "--method", "self_align", "--exemplars", str(tmp_path / "nope.jsonl"),
                 "--out", str(tmp_path / "r")])
    assert code == 2 and "exemplars file not found" in capsys.readouterr().err


def test_thought_without_answer_is_dropped(tmp_path):
    v, _ = go(tmp_path, answer=lambda r: ("Internal thought: By principle 3 I should" if "bakery" in user(r)
                                          else f"Answer: fine {user(r)}"))
    assert len(v.records()) == 5 and [x.reason for x in v.rejected()] == ["thought_only"]


def test_sft_run_engraves_principles_and_keeps_thoughts_in_meta(tmp_path):
    v, teacher = go(tmp_path)
    recs = v.records()
    assert len(recs) == 6 and all(r.rejected is None for r in recs)
    assert {r.instruction for r in recs} == set(QUESTIONS[:6])
    assert_engraved(recs, DEFAULT_PRINCIPLES)
    for r in recs:
        assert r.output == f"A careful reply to: {r.instruction}"
        assert r.meta["internal_thought"] == "Principle 2 (informative) and 7 (candor) apply."
        assert r.meta["cited_principles"] == [2, 7] and r.meta["parse"] == "markers"
        assert r.meta["question_type"] and r.meta["topic"] and r.lineage.operation == "principle_answer"
        assert len(r.lineage.parents) == 1
    answer_reqs = [q for q in teacher.seen if q.key.startswith("answer:")]
    assert len(answer_reqs) == 6 and DEFAULT_PRINCIPLES[0].text in answer_reqs[0].messages[0]["content"]
    m = v.manifest()
    psha = LOADER.read_file("self_align/principles.md")[1]
    assert m["templates"]["self_align/principles.md"] == psha == m["method_stats"]["principles_sha"]
    assert m["method_stats"]["exemplars_sha"] == m["templates"]["self_align/exemplars.jsonl"]
    assert {"self_align/red_team", "self_align/answer"} <= set(m["templates"])
    red = [q for q in teacher.seen if q.key.startswith("red_team:")]
    assert any(QUESTIONS[0] not in user(q) for q in red)  # seeds (not generated prompts) are the examples
    assert red and all(q.sampling.max_tokens == 64 for q in red)
    out = tmp_path / "sft.jsonl"
    assert export(v, "messages", out) == 6
    row = json.loads(out.read_text().splitlines()[0])
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    with pytest.raises(DatagenError, match="not a preference pair"):
        export(v, "dpo", tmp_path / "x.jsonl")


def test_custom_three_principle_file_changes_prompts_and_sha_only(tmp_path):
    v0, t0 = go(tmp_path / "a")
    custom = tmp_path / "three.md"
    custom.write_text("1. **Truthful**: Only state facts you are sure about.\n2. **Gentle**: Use a warm and "
                      "friendly tone with every user.\n3. **Concise**: Prefer the shortest complete reply.\n")
    v1, t1 = go(tmp_path / "b", "--principles", str(custom))
    sys0 = [q for q in t0.seen if q.key.startswith("answer:")][0].messages[0]["content"]
    sys1 = [q for q in t1.seen if q.key.startswith("answer:")][0].messages[0]["content"]
    assert "Use a warm and friendly tone" in sys1 and DEFAULT_PRINCIPLES[0].text not in sys1 and sys0 != sys1
    m0, m1 = v0.manifest(), v1.manifest()
    assert m1["method_stats"]["principles_sha"] != m0["method_stats"]["principles_sha"]
    assert m1["templates"][str(custom)] == m1["method_stats"]["principles_sha"]
    assert m1["method_stats"]["num_principles"] == 3 and len(v1.records()) == 6
    assert_engraved(v1.records(), parse_principles(custom.read_text(), "three.md"))


def test_missing_markers_fall_back_to_whole_text(tmp_path):
    v, _ = go(tmp_path, answer=lambda r: f"Plain reply about {user(r)[:15]}")
    for r in v.records():
        assert r.output.startswith("Plain reply about") and r.meta["internal_thought"] == ""
        assert r.meta["parse"] == "no_markers" and r.meta["cited_principles"] == []
    assert v.manifest()["method_stats"]["parse_fallbacks"] == 6


def test_parroted_principle_is_dropped(tmp_path):
    leak = DEFAULT_PRINCIPLES[2].text
    v, _ = go(tmp_path, answer=lambda r: f"Answer: {leak}" if "marathon" in user(r) else f"Answer: fine {user(r)}")
    assert len(v.records()) == 5 and [x.reason for x in v.rejected()] == ["principle_leak"]
    assert_engraved(v.records(), DEFAULT_PRINCIPLES)


def test_answer_citing_principles_is_dropped(tmp_path):
    v, _ = go(tmp_path, answer=lambda r: ("Answer: By principle 20 (creative) I say yes." if "bakery" in user(r)
                                          else f"Answer: fine {user(r)}"))
    assert len(v.records()) == 5 and [x.reason for x in v.rejected()] == ["principle_reference"]


def test_verbose_cloning_keeps_the_brief_answer(tmp_path):
    v, _ = go(tmp_path, "--method_cfg.verbose", "true")
    for r in v.records():
        assert r.output.startswith("A long and detailed answer") and r.lineage.operation == "verbose_clone"
        assert r.meta["brief_answer"] == f"A careful reply to: {r.instruction}"
    assert "self_align/verbose" in v.manifest()["templates"]


def test_seed_prompts_instead_of_red_teaming(tmp_path):
    v, teacher = go(tmp_path, "--method_cfg.generate_prompts", "false", "--method_cfg.num_prompts", "3")
    assert not any(q.key.startswith("red_team") for q in teacher.seen) and len(v.records()) == 3


def check_pairs(v, tmp_path, prompts=QUESTIONS[:6]):
    recs = v.records()
    assert recs and all(r.is_pair for r in recs)
    assert_engraved(recs, DEFAULT_PRINCIPLES)
    for r in recs:
        assert normalize(r.output).lower() != normalize(r.rejected).lower()
        assert r.instruction in prompts and len(r.lineage.parents) == 3
        assert r.meta["chosen"]["template_sha"] and r.meta["rejected"]["template_sha"]
        assert r.meta["chosen"]["id"] == r.lineage.parents[1] and r.meta["rejected"]["id"] == r.lineage.parents[2]
    out = tmp_path / "dpo.jsonl"
    assert export(v, "dpo", out) == len(recs)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(rows[0]) == {"prompt", "chosen", "rejected"}
    assert all(row["prompt"][0]["content"] == r.instruction for row, r in zip(rows, recs))
    return recs


def test_pairs_principles(tmp_path):
    v, _ = go(tmp_path, "--pairs", "principles")
    recs = check_pairs(v, tmp_path)
    assert len(recs) == 6
    for r in recs:
        assert r.output == f"A careful reply to: {r.instruction}" and r.rejected == f"ok {r.instruction[:20]}"
        assert r.meta["chosen"]["template"] == "self_align/answer"
        assert r.meta["rejected"]["template"] == "self_align/plain_answer" and r.meta["cited_principles"] == [2, 7]
    assert v.manifest()["method_stats"]["pairs"] == 6


def test_identical_sides_are_dropped(tmp_path):
    v, _ = go(tmp_path, "--pairs", "principles", plain=lambda r: f"A  careful reply to: {user(r)} ")
    assert v.records() == [] and {x.reason for x in v.rejected()} == {"identical_pair"}


def test_pairs_judge_best_against_worst(tmp_path):
    v, teacher = go(tmp_path, "--pairs", "judge")
    recs = check_pairs(v, tmp_path)
    assert len(recs) == 6
    for r in recs:
        assert r.output.startswith("sample v0") and r.rejected.startswith("sample v2")
        assert (r.meta["chosen"]["score"], r.meta["rejected"]["score"]) == (9.5, 2.5)
        assert r.meta["judge_scores"] == [9.5, 5.5, 2.5]
    samples = [q for q in teacher.seen if q.key.startswith("sample:")]
    judges = [q for q in teacher.seen if q.key.startswith("judge:")]
    assert all(q.sampling.n == 3 for q in samples) and len(judges) == 18
    assert all(q.sampling.temperature == 0.7 and q.sampling.max_tokens == 16 and q.sampling.n == 3 for q in judges)


def test_pairs_judge_ties_dropped(tmp_path):
    v, _ = go(tmp_path, "--pairs", "judge", scores=(6, 6, 6))
    assert v.records() == [] and [x.reason for x in v.rejected()] == ["tied_scores"] * 6


def test_pairs_revise(tmp_path):
    v, teacher = go(tmp_path, "--pairs", "revise")
    recs = check_pairs(v, tmp_path)
    assert len(recs) == 6
    names = {p.name: p for p in DEFAULT_PRINCIPLES}
    crit = {q.key.split(":", 1)[1]: user(q) for q in teacher.seen if q.key.startswith("critique:")}
    for r in recs:
        assert r.output == "A better, kinder reply." and r.rejected == f"ok {r.instruction[:20]}"
        p = names[r.meta["principle_name"]]
        assert r.meta["principle"] == p.number and p.text in crit[r.lineage.parents[0]]
        assert r.meta["chosen"]["operation"] == "revision" and r.meta["rejected"]["operation"] == "draft_answer"
    assert len({r.meta["principle"] for r in recs}) > 1  # drawn per prompt with ctx.rng


def test_pairs_revise_identical_revision_dropped(tmp_path):
    v, _ = go(tmp_path, "--pairs", "revise", plain=lambda r: "Same text.", revision="Revision: same   text.")
    assert v.records() == [] and {x.reason for x in v.rejected()} == {"identical_pair"}


def test_bad_pairs_option_is_an_error(tmp_path):
    with pytest.raises(DatagenError, match="pairs must be one of"):
        go(tmp_path, "--pairs", "best")
    with pytest.raises(DatagenError, match="verbose works with pairs none or principles"):
        go(tmp_path, "--pairs", "judge", "--method_cfg.verbose", "true")
