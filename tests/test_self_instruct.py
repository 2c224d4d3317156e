"""Self-Instruct: prompt building and full runs on a scripted FakeTeacher (lineage, funnel,
determinism, budget); the parsing and the paper's filters are in test_self_instruct_parsing.py."""
import random
import re

import pytest

from datagen.methods import self_instruct as SI
from datagen.methods.self_instruct import prompts as SIP
from datagen.run import RunConfig, run
from datagen.seeds import load_seeds
from datagen.session import SamplingConfig
from datagen.teacher import FakeTeacher, Sampling
from datagen.templates import TemplateLoader

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
    version = run(run_cfg(tmp_path, overlap_rounds=False), backend=teacher)  # the paper's order
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


class Calls(FakeTeacher):
    """Records which steps of which rounds went to the teacher together: [["gen-1"], ["cls-1"], ...]."""

    def __init__(self, respond):
        super().__init__(respond)
        self.calls = []

    def complete(self, requests, on_result=None):
        self.calls.append(sorted({"-".join(r.key.split("-")[:2]) for r in requests}))
        return super().complete(requests, on_result)


def test_overlapped_rounds_send_next_instructions_with_instances(tmp_path):
    teacher = Calls(scripted)  # 2 prompts a round, 2 tasks kept from each: 4 a round
    v = run(run_cfg(tmp_path, num_instructions=10), backend=teacher)
    # round r+1's instructions go out with round r's instances while round r+1 is sure to be needed
    # (4 + 4 < 10 after round 2's classification); round 3 can reach 10, so nothing is asked ahead of it
    assert teacher.calls == [["gen-1"], ["cls-1"], ["gen-2", "inst-1"], ["cls-2"], ["gen-3", "inst-2"], ["cls-3"],
                             ["inst-3"]]
    records, m = v.records(), v.manifest()
    assert len(records) == 12 and [r["round"] for r in m["method_stats"]["rounds"]] == [1, 2, 3]
    assert m["teacher_stats"]["requests"] == 3 * (2 + 4 + 4)
    step = {r.id: r.lineage.step for r in records}
    # a round's prompts show machine tasks of rounds up to two before it: round 2 none, round 3 round 1's
    shown = {r.lineage.step: {step[p] for p in r.lineage.parents if p in step} for r in records}
    assert shown == {1: set(), 2: set(), 3: {1}}
    # the same records as the sequential order would keep, in kind: every task has its instance
    assert all(r.output for r in records) and {x.reason for x in v.rejected()} == {"unsuitable_keyword", "not_novel"}


def test_overlap_changes_only_which_machine_tasks_are_shown(tmp_path):
    """One round: nothing to overlap, so both orders keep the same data (the run ids differ: the option is
    part of the run's config); over three rounds only the machine tasks shown, so the tasks made, differ."""
    def data(v):
        return [(r.instruction, r.input, r.output) for r in v.records()], sorted(x.reason for x in v.rejected())

    a = run(run_cfg(tmp_path / "a", max_rounds=1), backend=FakeTeacher(scripted))
    b = run(run_cfg(tmp_path / "b", max_rounds=1, overlap_rounds=False), backend=FakeTeacher(scripted))
    assert data(a) == data(b) and len(a.records()) == 4
    c = run(run_cfg(tmp_path / "c", num_instructions=10), backend=FakeTeacher(scripted))
    d = run(run_cfg(tmp_path / "d", num_instructions=10, overlap_rounds=False), backend=FakeTeacher(scripted))
    # this scripted teacher writes the same tasks whatever it is shown; the shown tasks (parents) differ
    assert data(c) == data(d)
    parents = [[r.lineage.parents for r in v.records()] for v in (c, d)]
    assert parents[0][:4] == parents[1][:4] and parents[0][4:] != parents[1][4:]


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


def test_a_budget_spent_in_an_overlapped_call_finishes_the_round_first(tmp_path):
    # round 1: 2 generation + 4 classification requests; the 7th is round 1's first instance, not round 2's
    # first instruction list, so a record is kept; the rest of the call is undone work, never a rejection
    cfg = run_cfg(tmp_path, num_instructions=50)
    cfg.max_requests = 7
    teacher = FakeTeacher(scripted)
    v = run(cfg, backend=teacher)
    m = v.manifest()
    assert m["stopped"] == "budget" and [r.key for r in teacher.seen][6] == "inst-1-0"
    assert len(v.records()) == 1 and m["undone"] == {"teacher": 5}
    assert "budget_exhausted" not in {r.reason for r in v.rejected()}


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
