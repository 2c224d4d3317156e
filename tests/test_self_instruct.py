"""Self-Instruct: prompt building, parsing of messy teacher text, the paper's filters, and full runs
on a scripted FakeTeacher (lineage, funnel, determinism, budget)."""
import random
import re

import pytest

from datagen.methods import self_instruct as SI
from datagen.methods.self_instruct import prompts as SIP
from datagen.methods.self_instruct import parse as P
from datagen.record import Record
from datagen.run import RunConfig, SamplingConfig, run
from datagen.seeds import load_seeds
from datagen.teacher import FakeTeacher, Sampling
from datagen.templates import TemplateLoader
from datagen.filtering import build_filters
from filters.self_instruct import instances_reason, instruction_reason

S = Sampling(max_tokens=64, temperature=0.7, seed=5)


# --- prompt building ------------------------------------------------------------------------------

def tasks(n, seed):
    return [SIP.Task(f"{'Seed' if seed else 'Machine'} task number {i}.", f"{'s' if seed else 'm'}{i}", seed)
            for i in range(n)]


@pytest.mark.parametrize("n_machine, expect_machine", [(0, 0), (1, 1), (5, 2)])
def test_context_sampling_honours_the_seed_machine_split(n_machine, expect_machine):
    cfg = SI.Config(num_prompt_instructions=8, num_machine_instructions=2)
    got = SIP.sample_context(tasks(20, True), tasks(n_machine, False), cfg, random.Random(1))
    assert len(got) == 8 and len({t.id for t in got}) == 8
    assert sum(not t.is_seed for t in got) == expect_machine


def test_generate_prompts_render_the_sampled_tasks_with_distinct_seeds():
    cfg = SI.Config(prompts_per_round=3, num_prompt_instructions=4, num_machine_instructions=1)
    tpl = TemplateLoader().load("self_instruct/generate")
    batch = SIP.build_generate_prompts((tasks(10, True), tasks(3, False)), cfg, tpl, S, random.Random(0), 2)
    assert len(batch) == 3
    for req, shown in batch:
        text = req.messages[-1]["content"]
        assert len(shown) == 4 and sum(not t.is_seed for t in shown) == 1
        for k, t in enumerate(shown, 1):
            assert f"Task {k}: {t.instruction}" in text
        assert text.rstrip().endswith("Task 5:")
    assert [r.sampling.seed for r, _ in batch] == [5 + 200_000, 5 + 200_001, 5 + 200_002]


def test_classification_examples_mix_yes_and_no_from_seed_flags():
    seeds = load_seeds()
    ex = SIP.classification_examples(seeds, 6, random.Random(0))
    assert len(ex) == 6 and sum(e["is_classification"] for e in ex) == 2
    by_text = {s.instruction: bool(s.meta["is_classification"]) for s in seeds}
    assert all(by_text[e["instruction"]] == e["is_classification"] for e in ex)


# --- parsing -------------------------------------------------------------------------------------

MESSY = [
    (" Describe a sunset.\nTask 10: Tell the story of a hero.\n\nI will give the user cards.",
     ["Describe a sunset.", "Tell the story of a hero."]),
    ("Here are some new tasks:\n\n1. **Write a poem about rain.**\n2. \"Name three rivers.\"\n- Sort the words.",
     ["Write a poem about rain.", "Name three rivers.", "Sort the words."]),
    ("1. 1. The first task is to pack.\n2. 2. Count the vowels.", ["The first task is to pack.", "Count the vowels."]),
    ("Task 9: Instruction: Translate the sentence.\nInput: hola\nOutput: hello\nTask 10: Spell it.",
     ["Translate the sentence.", "Spell it."]),
    (" Summarize it. Input: a long text\nTask 10: Summarize it.", ["Summarize it."]),
    ("### Task 11: Plan a trip.\n* Write a limerick.\n(3) Add the numbers.\nThanks!",
     ["Plan a trip.", "Write a limerick.", "Add the numbers."]),
    ("", []),
    ("\n\n   \n", []),
]


@pytest.mark.parametrize("text, expected", MESSY)
def test_parse_instructions_from_messy_text(text, expected):
    assert P.parse_instructions(text) == expected


def test_parse_instructions_limit():
    assert P.parse_instructions(" a b c.\nTask 2: d e f.\nTask 3: g h i.", limit=2) == ["a b c.", "d e f."]


@pytest.mark.parametrize("text, expected", [(" Yes", True), ("no.", False), ("**Yes**, it is", True),
                                            ("It is not", False), ("maybe", None), ("", None)])
def test_parse_is_classification(text, expected):
    assert P.parse_is_classification(text) is expected


@pytest.mark.parametrize("text, expected", [
    (" a cat\nOutput: un chat", [("a cat", "un chat")]),
    (" <noinput>\nOutput: Hello there.", [("", "Hello there.")]),
    (" None\nOutput: 42\n\nExample 2\nInput: x\nOutput: y\nTask: next", [("", "42"), ("x", "y")]),
    (" **Input:** ignored label\n**Output:** kept", [("ignored label", "kept")]),
    (" just rambling with no output", []),
    (" q\nAnswer: a", [("q", "a")]),
])
def test_parse_instances_input_first(text, expected):
    assert P.parse_instances_input_first(text) == expected


@pytest.mark.parametrize("text, expected", [
    (" positive\nInput: I loved it.", [("I loved it.", "positive")]),
    (" spam.\nInput: Win money now!\nClass label: not spam\nInput: See you at lunch.",
     [("Win money now!", "spam"), ("See you at lunch.", "not spam")]),
    (" odd", [("", "odd")]),
    ("", []),
])
def test_parse_instances_output_first(text, expected):
    assert P.parse_instances_output_first(text) == expected


def test_dedupe_instances_folds_whitespace_and_case():
    assert P.dedupe_instances([("a  b", "X"), ("A b", "x"), ("c", "d")]) == [("a  b", "X"), ("c", "d")]


# --- filters (Wang et al. 2022 §2.3) ----------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("Name a fruit.", None),
    ("Sort these.", "instruction_too_short"),
    (" ".join(["word"] * 151), "instruction_too_long"),
    (" ".join(["word"] * 150), None),
    ("Draw a cat for me.", ("unsuitable_keyword", "draw")),
    ("Describe the image below please.", ("unsuitable_keyword", "image")),
    ("Go  to the shop and buy milk.", ("unsuitable_keyword", "go to")),
    ("Update your profile description text.", None),   # "file" only as a whole word
    ("Explain the plot of Hamlet.", ("unsuitable_keyword", "plot")),
    ("\"Quote\" this sentence back please.", "starts_with_punctuation"),
    ("¿Dónde está la biblioteca municipal?", "starts_with_punctuation"),
    ("Écris une phrase en français.", "starts_with_non_english"),
    ("3 reasons to learn Python.", None),
])
def test_instruction_reason(text, reason):
    assert instruction_reason(text) == reason


@pytest.mark.parametrize("pairs, reason", [
    ([("2+2", "4")], None),
    ([("2+2", "4"), ("2 + 2", "4"), ("3+3", "6")], None),
    ([("2+2", "4"), ("2+2", "5")], "conflicting_instances"),
    ([("", "a"), ("", "b")], "conflicting_instances"),
    ([("x", "  ")], "empty_output"),
    ([], "empty_output"),
])
def test_instances_reason(pairs, reason):
    assert instances_reason(pairs) == reason


def test_registered_filters_on_records():
    recs = [Record.make("Name a fruit.", "", "Apple"), Record.make("Draw a map.", "", "x"),
            Record.make("Give me a number.", "odd?", "7"), Record.make("Give me a number.", "odd?", "9"),
            Record.make("Name a vegetable.", "", " ")]
    (_, si), (_, ci) = build_filters(["self_instruct", "conflicting_instances"])
    assert si(recs) == [None, ("unsuitable_keyword", "draw"), None, None, "empty_output"]
    got = ci(recs)
    assert got[0] is None and got[1] is None and got[4] is None
    assert got[2] == got[3] == ("conflicting_instances", recs[2].id)
    (_, strict), = build_filters([{"name": "self_instruct", "min_words": 5, "keywords": ["fruit"]}])
    assert strict([Record.make("Name one fruit that is red."), recs[1]]) == [
        ("unsuitable_keyword", "fruit"), "instruction_too_short"]


# --- full runs on a scripted teacher -------------------------------------------------------------

WORDS = ("apple river stone cloud tiger violin candle harbor meadow rocket lantern glacier pepper "
         "castle falcon velvet thunder orchard compass marble island feather canyon biscuit").split()


def scripted(req):
    """Generation: three new tasks (one unsuitable, one a near-copy of its first in-context task);
    classification: yes for 'Classify'; instances by template."""
    text = req.messages[-1]["content"]
    if text.endswith("Is it classification?"):
        task = text.rsplit("Task: ", 1)[1]
        return " Yes" if task.startswith("Classify") else " No"
    if text.endswith("Class label:"):
        return " happy\nInput: What a lovely day."
    if text.endswith("Input:"):
        task = text.rsplit("Task: ", 1)[1].split("\n")[0]
        return f" <noinput>\nOutput: Answer to {task}"
    first = re.search(r"Task 1: (.*)", text).group(1)
    n = req.sampling.seed
    a, b, c, d, e, f = random.Random(n).sample(WORDS, 6)  # distinct words keep ROUGE-L low between answers
    return (f" Write a tale about {a} {b} {c} {n}.\nTask 10: Classify {d} {e} {f} {n} as happy or sad.\n"
            f"Task 11: Draw a picture of {n}.\nTask 12: {first}")


def run_cfg(tmp_path, seed=0, **method):
    cfg = dict(num_instructions=6, prompts_per_round=2, max_rounds=5)
    cfg.update(method)
    return RunConfig(name="si", method="self_instruct", method_cfg=cfg, seed=seed, output_dir=str(tmp_path / "out"),
                     sampling=SamplingConfig(max_tokens=64, temperature=0.7), filters=["exact_dup"])


def test_full_run_lineage_and_funnel(tmp_path):
    teacher = FakeTeacher(scripted)
    version = run(run_cfg(tmp_path), backend=teacher)
    records, rejected, m = version.records(), version.rejected(), version.manifest()
    seeds = {s.id: s for s in load_seeds()}
    gen_tpl = TemplateLoader().load("self_instruct/generate")
    assert len(records) == 8 and m["method_stats"]["kept_instructions"] == 8  # rounds run whole
    rounds = m["method_stats"]["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]  # 2 prompts x 2 kept tasks per round
    gen_prompt = {r.sampling.seed: r.messages[-1]["content"] for r in teacher.seen if r.key.startswith("gen-")}
    machine = {r.id: r for r in records}
    for rec in records:
        lin = rec.lineage
        assert lin.method == "self_instruct" and lin.teacher == "fake" and lin.step in (1, 2)
        assert lin.template == "self_instruct/generate" and lin.template_sha == gen_tpl.sha
        assert lin.run_id == m["run_id"] and lin.sampling_sha
        # the parents are exactly the tasks shown, in order, in the prompt that produced this record
        text = gen_prompt[int(re.search(r"(\d+)", rec.instruction).group(1))]
        shown = re.findall(r"^Task \d+: (.+)$", text, re.M)
        assert [(seeds[p] if p in seeds else machine[p]).instruction for p in lin.parents] == shown
        assert rec.meta["round"] == lin.step and rec.meta["finish_reason"] == "stop"
        assert rec.meta["novelty"] < 0.7 and rec.meta["most_similar"]
        if rec.instruction.startswith("Classify"):
            assert rec.meta["is_classification"] and rec.output == "happy"
            assert rec.meta["instance_template"] == "self_instruct/instance_output_first"
        else:
            assert not rec.meta["is_classification"] and rec.output == f"Answer to {rec.instruction}"
    assert any(r.lineage.step == 2 and any(p in machine for p in r.lineage.parents) for r in records)
    reasons = {}
    for rej in rejected:
        reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
    assert reasons == {"unsuitable_keyword": 4, "not_novel": 4}
    assert {rej.stage for rej in rejected} == {"self_instruct:filter", "self_instruct:novelty"}
    assert rounds[0]["parsed"] == 8 and rounds[0]["kept"] == 4 and rounds[0]["dropped"] == {
        "not_novel": 2, "unsuitable_keyword": 2}
    assert m["teacher_stats"]["requests"] == 2 * (2 + 4 + 4)
    assert m["templates"]["self_instruct/is_classification"]


def test_same_seed_same_data_other_seed_other_prompts(tmp_path):
    a = run(run_cfg(tmp_path / "a"), backend=FakeTeacher(scripted)).manifest()
    b = run(run_cfg(tmp_path / "b"), backend=FakeTeacher(scripted)).manifest()
    assert a["content_sha256"] == b["content_sha256"]
    t1, t2 = FakeTeacher(scripted), FakeTeacher(scripted)
    run(run_cfg(tmp_path / "c", seed=1), backend=t1)
    run(run_cfg(tmp_path / "d", seed=2), backend=t2)
    assert [r.messages for r in t1.seen][:2] != [r.messages for r in t2.seen][:2]


def test_truncated_and_unparseable_answers_are_recorded(tmp_path):
    def respond(req):
        text = req.messages[-1]["content"]
        if text.endswith("Is it classification?"):
            return "perhaps"
        if text.endswith("Input:"):
            return " nothing useful here"
        return " Write about the sea.\nTask 10: Write about the mountain ra"
    teacher = FakeTeacher(respond, finish_reason="length")
    v = run(run_cfg(tmp_path, max_rounds=1), backend=teacher)
    reasons = sorted(r.reason for r in v.rejected())
    assert reasons == ["no_instance", "not_novel", "truncated", "truncated"]
    assert v.records() == [] and v.manifest()["method_stats"]["kept_instructions"] == 0


def test_budget_stops_cleanly(tmp_path):
    cfg = run_cfg(tmp_path, num_instructions=50)
    cfg.max_requests = 5
    cfg.allow_empty = True  # the budget stops it before an instruction has instances
    v = run(cfg, backend=FakeTeacher(scripted))
    m = v.manifest()
    assert m["stopped"] == "budget" and m["teacher_stats"]["requests"] == 5
    assert len(m["method_stats"]["rounds"]) == 1
    # work the budget left undone is counted, never a rejection of the data
    assert "budget_exhausted" not in {r.reason for r in v.rejected()} and sum(m["undone"].values()) > 0


def test_inline_answer_word_is_not_an_instance_label():
    assert P.parse_instructions(" Read the text and answer: how many legs?") == ["Read the text and answer: how many legs?"]


def test_parse_alpaca_tasks():
    text = (" Name a color.\nInput: <noinput>\nOutput: Blue.\n\nTask 5\nInstruction: **Add the numbers.**\n"
            "Input: 2, 3\nOutput: 5\n### Task 6:\nInstruction: No output here.\nInput: x\n\nInstruction: Half")
    assert P.parse_alpaca_tasks(text) == [("Name a color.", "", "Blue."), ("Add the numbers.", "2, 3", "5")]
    assert P.parse_alpaca_tasks(text, limit=1) == [("Name a color.", "", "Blue.")]


def test_alpaca_style_run_keeps_whole_tasks_without_classification(tmp_path):
    def respond(req):
        n = req.sampling.seed
        a, b, c, d = random.Random(n).sample(WORDS, 4)
        return (f" Describe {a} {b} {n}.\nInput: <noinput>\nOutput: A {a}.\n\nTask 10\nInstruction: Compare {c} {d} "
                f"{n} please.\nInput: {c}\nOutput: \n\nTask 11\nInstruction: Draw {c} {n} now.\nInput:\nOutput: x")
    teacher = FakeTeacher(respond)
    v = run(run_cfg(tmp_path, alpaca_style=True, alpaca_tasks_per_request=5, num_instructions=3), backend=teacher)
    recs, m = v.records(), v.manifest()
    assert all(r.key.startswith("gen-") for r in teacher.seen) and len(teacher.seen) == 4
    assert "Task 1\nInstruction: " in teacher.seen[0].messages[-1]["content"]
    assert "Write 5 new" in teacher.seen[0].messages[-1]["content"]
    assert len(recs) == 4 and all(r.output.startswith("A ") and r.meta["alpaca_style"] for r in recs)
    assert all(r.lineage.template == "self_instruct/alpaca_generate" and len(r.lineage.parents) == 8 for r in recs)
    assert sorted({x.reason for x in v.rejected()}) == ["unsuitable_keyword"]
    assert m["method_stats"]["rounds"][0]["kept"] == 2


def test_echoed_no_input_marker_is_not_an_output():
    assert P.parse_instances_input_first(" \n<noinput>\nOutput: \n<noinput>") == []
    assert P.parse_instances_input_first(" <noinput>\nOutput: None") == [("", "None")]


@pytest.mark.parametrize("pairs, reason", [
    ([("I made a cake.", "I made a cake")], "output_copies_input"),
    ([("x y", "X  y!")], "output_copies_input"),
    ([("", "Hello")], None),
    ([("2+2", "4")], None),
])
def test_copied_output_reason(pairs, reason):
    from filters.self_instruct import copied_output_reason
    assert copied_output_reason(pairs) == reason


def test_copied_outputs_are_dropped_unless_disabled(tmp_path):
    def respond(req):
        text = req.messages[-1]["content"]
        if text.endswith("Is it classification?"):
            return " No"
        if text.endswith("Input:"):
            return " same words here\nOutput: Same words here."
        a, b, c = random.Random(req.sampling.seed).sample(WORDS, 3)
        return f" Write about {a} {b} {c}."
    v = run(run_cfg(tmp_path / "a", max_rounds=1), backend=FakeTeacher(respond))
    assert v.records() == [] and {r.reason for r in v.rejected()} == {"output_copies_input"}
    v = run(run_cfg(tmp_path / "b", max_rounds=1, drop_copied_output=False), backend=FakeTeacher(respond))
    assert len(v.records()) == 2 and v.records()[0].output == "Same words here."


@pytest.mark.parametrize("bad", [{"num_machine_instructions": 9}, {"num_prompt_instructions": 0},
                                 {"prompts_per_round": 0}, {"novelty_threshold": 1.5}])
def test_bad_method_config_is_a_one_line_error(bad):
    from datagen import config as C
    from datagen.errors import DatagenError
    with pytest.raises(DatagenError, match="method_cfg"):
        C.build(SI.Config, bad, "method_cfg.")
