"""Evol-Instruct: prompt rendering per operation, the four elimination rules (WizardLM sec. 3.2) in a
run, ancestry from the version on disk, and reproducibility through the cache. All with FakeTeacher;
no model. The parsing is in test_evol_instruct_parsing.py."""
from __future__ import annotations

import dataclasses

import hashlib
import json

import pytest

from datagen import cli
from datagen.versions import open_version
from datagen.errors import DatagenError
from datagen.methods import evol_instruct as E
from datagen.record import Lineage, Record
from datagen.run import RunConfig, run
from datagen.session import SamplingConfig
from datagen.teacher import FakeTeacher, Sampling
from datagen.templates import TemplateLoader
from datagen.versions.tree import ancestry, build_index

SAMPLING = Sampling(max_tokens=32, temperature=0.7)
PARENT = Record.make("Explain how tides work.", "for a ten-year-old", "Tides come from the moon.",
                     lineage=Lineage(method="seed"))


# ---- prompt rendering --------------------------------------------------------------------------

@pytest.mark.parametrize("op", E.DEFAULT_OPERATIONS)
def test_each_operation_renders_parent_and_word_limit(op):
    tpl = TemplateLoader().load(f"evol_instruct/{op}")
    req = E.build_evolve_prompt(PARENT, tpl, 17, SAMPLING, key=PARENT.id)
    text = "\n".join(m["content"] for m in req.messages)
    assert req.messages[0]["role"] == "system" and req.messages[-1]["role"] == "user"
    assert "Explain how tides work." in text and "for a ten-year-old" in text
    assert "{{" not in text and "{#" not in text
    if op != "breadth":  # in-depth ops carry the paper's added-words limit (sec. 3.1)
        assert "at most 17 words" in text
    assert req.sampling == SAMPLING and req.key == PARENT.id


def test_operations_differ_from_each_other():
    loader = TemplateLoader()
    texts = {op: E.build_evolve_prompt(PARENT, loader.load(f"evol_instruct/{op}"), 20, SAMPLING).messages[-1]["content"]
             for op in E.DEFAULT_OPERATIONS}
    assert len(set(texts.values())) == len(texts)


def test_judge_and_answer_prompts():
    loader = TemplateLoader()
    judge = E.build_judge_prompt(PARENT, "Explain tides and their link to the moon.", loader.load("evol_instruct/equal"),
                                 SAMPLING)
    body = judge.messages[-1]["content"]
    assert "Explain how tides work." in body and "link to the moon" in body and "Equal" in body
    ans = E.build_answer_prompt("Name a prime.", loader.load("evol_instruct/answer"), SAMPLING)
    assert ans.messages[-1]["content"] == "Name a prime."


def test_operation_weights_and_unknown_operation(tmp_path):
    assert E.parse_operations(["deepen", "breadth:2", {"concretize": 0.5}]) == [
        ("deepen", 1.0), ("breadth", 2.0), ("concretize", 0.5)]
    with pytest.raises(DatagenError, match="bad weight"):
        E.parse_operations(["deepen:lots"])
    with pytest.raises(DatagenError, match="positive weight"):
        E.parse_operations(["deepen:0"])
    with pytest.raises(DatagenError, match="unknown evol_instruct operation 'shorten'"):
        E.load_operations(E.Config(operations=["deepen", "shorten"]), TemplateLoader())
    # A user adds an operation by adding a template and naming it.
    (tmp_path / "evol_instruct").mkdir()
    (tmp_path / "evol_instruct" / "shorten.j2").write_text("Make shorter: {{ prompt }}\n")
    ops = E.load_operations(E.Config(operations=["shorten"]), TemplateLoader(tmp_path))
    assert ops["shorten"].render(prompt="x y z")[0]["content"] == "Make shorter: x y z"


# ---- runs with a fake teacher -----------------------------------------------------------------

def _kind(req) -> str:
    if "compare two tasks" in req.messages[0]["content"]:
        return "judge"
    return "rewrite" if "NEW TASK:" in req.messages[-1]["content"] else "answer"


def _original(req) -> str:
    return req.messages[-1]["content"].split("ORIGINAL TASK:")[1].split("NEW TASK:")[0].strip()


def scripted(req):
    """Each seed's topic word picks its fate, so every elimination rule fires deterministically."""
    kind = _kind(req)
    if kind == "rewrite":
        orig = _original(req)
        if "leak" in orig:
            return "Rewrite the #Given Prompt# about leak."
        if "same" in orig:
            return f"Rewritten prompt: {orig}"
        return f"New task: {orig} Add one more detail."
    if kind == "judge":
        return "Equal" if "judgeme" in req.messages[-1]["content"] else "Different"
    q = req.messages[-1]["content"]
    if "refuse" in q:
        return "I'm sorry, I cannot help with that."
    if "stopwords" in q:
        return "The, and of it."
    return f"Answer to: {q}"


def _seed_file(tmp_path, topics):
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Describe the {t} topic.", "input": "", "output": "ok"}) + "\n"
                            for t in topics))
    return str(path)


def _cfg(tmp_path, seeds, **method_cfg):
    return RunConfig(method="evol_instruct", name="evo", seed=3, seeds=seeds, output_dir=str(tmp_path / "runs"),
                     cache=str(tmp_path / "cache.sqlite"), sampling=SamplingConfig(max_tokens=32, temperature=0.7),
                     method_cfg={"num_rounds": 2, "operations": ["deepen"], **method_cfg}, filters=["exact_dup"])


def test_elimination_rules_in_a_run(tmp_path):
    topics = ["good", "leak", "same", "judgeme", "refuse", "stopwords"]
    v = run(_cfg(tmp_path, _seed_file(tmp_path, topics)), backend=FakeTeacher(scripted))
    by_reason = {}
    for rej in v.rejected():
        by_reason.setdefault(rej.reason, []).append(rej)
    assert {k: len(x) for k, x in by_reason.items()} == {
        "prompt_leak": 2, "no_information_gain": 4, "answer_refusal": 2, "answer_only_stopwords": 2}
    assert {r.stage for r in by_reason["no_information_gain"]} == {"evolve", "judge"}
    kept = v.records()
    assert [r.lineage.step for r in kept] == [1, 2] and all("good" in r.instruction for r in kept)
    seeds = {r["instruction"]: r for r in map(json.loads, open(tmp_path / "seeds.jsonl"))}
    r1, r2 = kept
    assert r2.lineage.parents == (r1.id,) and r1.lineage.operation == "deepen"
    assert r1.output.startswith("Answer to:")
    # A failed evolution leaves its parent in the pool: round 2 evolves the seed again.
    leaks = by_reason["prompt_leak"]
    assert sorted(r.record.lineage.step for r in leaks) == [1, 2]
    assert leaks[0].record.lineage.parents == leaks[1].record.lineage.parents
    assert leaks[0].record.meta["seed"]["instruction"] in seeds
    stats = v.manifest()["method_stats"]
    assert [s["round"] for s in stats["rounds"]] == [0, 1, 2]
    r1s = stats["rounds"][1]
    assert r1s["kept"] == 1 and r1s["operations"] == {"deepen": 6}
    assert r1s["eliminated"] == {"answer_only_stopwords": 1, "answer_refusal": 1, "no_information_gain": 2,
                                 "prompt_leak": 1}
    assert r1s["words_mean"] > stats["rounds"][0]["words_mean"] - 10 and 0 < r1s["distinct_2"] <= 1
    assert 0 <= stats["rounds"][0]["mean_rouge_l"] <= 1 and r1s["mean_rouge_l"] is None  # one kept


def test_judge_unreadable_keeps_and_judge_off(tmp_path):
    def unsure(req):
        return "maybe?" if _kind(req) == "judge" else scripted(req)
    v = run(_cfg(tmp_path, _seed_file(tmp_path, ["judgeme"]), num_rounds=1), backend=FakeTeacher(unsure))
    assert len(v.records()) == 1 and v.manifest()["method_stats"]["rounds"][1]["judge_unreadable"] == 1
    teacher = FakeTeacher(scripted)
    v = run(_cfg(tmp_path, _seed_file(tmp_path, ["judgeme"]), num_rounds=1, judge=False), backend=teacher)
    assert len(v.records()) == 1 and not any(_kind(r) == "judge" for r in teacher.seen)


def hashed(req):
    """Answers depend on the prompt only; a mix of successes and failures."""
    h = int(hashlib.sha256(json.dumps(req.messages).encode()).hexdigest(), 16)
    kind = _kind(req)
    if kind == "judge":
        return ["Equal", "Different", "Not equal"][h % 3]
    if kind == "rewrite":
        return [f"New task: {_original(req)} Variant {h % 997}.", "Rewrite the given prompt.",
                f"**Rewritten Prompt:** Describe rare topic {h % 991}."][h % 3]
    return ["Sorry, no.", f"A real answer {h % 983} about it."][h % 5 > 0]


def test_ancestry_recoverable_from_version_on_disk(tmp_path, capsys):
    topics = [f"t{i}" for i in range(10)]
    cfg = _cfg(tmp_path, _seed_file(tmp_path, topics), num_rounds=4, operations=E.DEFAULT_OPERATIONS, max_pool=8)
    written = run(cfg, backend=FakeTeacher(hashed))
    v = open_version(str(written.path))  # from disk, nothing else
    seeds_on_file = {Record.make(f"Describe the {t} topic.", "", "ok").id for t in topics}
    nodes = build_index(v)
    records = v.records()
    assert len(records) >= 5 and max(r.lineage.step for r in records) >= 3
    for rec in records + [j.record for j in v.rejected()]:
        chain = ancestry(nodes, nodes[rec.id] if nodes[rec.id].parent == rec.lineage.parents[0]
                         else next(n for n in nodes[rec.lineage.parents[0]].children if n.id == rec.id))
        assert chain[0].status == "seed" and chain[0].id == rec.meta["seed"]["id"] in seeds_on_file
        assert [n.step for n in chain[1:]] == sorted(n.step for n in chain[1:])
        assert all(n.status == "kept" for n in chain[1:-1])  # intermediates were kept evolutions
    deep = max(records, key=lambda r: r.lineage.step)
    assert cli.main(["show", str(v.path), "--tree", deep.id[:10]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("seed ") and f"{deep.id[:8]}" in out and "<==" in out and "eliminated:" in out
    assert cli.main(["show", str(v.path), "--tree", "zzzzzz"]) == 2


def test_same_seed_same_version_and_cache_hits(tmp_path):
    cfg = _cfg(tmp_path, _seed_file(tmp_path, [f"t{i}" for i in range(8)]), num_rounds=3,
               operations=["deepen:2", "breadth", "concretize"])
    first = FakeTeacher(hashed)
    a = run(cfg, backend=first)
    again = FakeTeacher(hashed)
    assert run(cfg, backend=FakeTeacher(hashed)).unchanged  # an unchanged rerun writes no new version
    b = run(dataclasses.replace(cfg, name="evo_again"), backend=again)  # same cache file: every request is a hit
    ma, mb = a.manifest(), b.manifest()
    assert ma["content_sha256"] == mb["content_sha256"] and a.path != b.path
    assert first.seen and not again.seen
    sa, sb = ma["teacher_stats"], mb["teacher_stats"]
    assert sb["requests"] == 0 and sb["cache_hits"] == sa["requests"] + sa["cache_hits"] > 0
    fresh = _cfg(tmp_path / "other", cfg.seeds, num_rounds=3, operations=["deepen:2", "breadth", "concretize"])
    c = run(fresh, backend=FakeTeacher(hashed))  # no cache, same seed: same data
    assert c.manifest()["content_sha256"] == ma["content_sha256"]
    cfg.seed = 4
    d = run(cfg, backend=FakeTeacher(hashed))
    assert d.manifest()["content_sha256"] != ma["content_sha256"]


def test_from_version_max_pool_and_budget(tmp_path):
    base = run(RunConfig(method="answer", name="base", seed=0, seeds=_seed_file(tmp_path, [f"t{i}" for i in range(9)]),
                         output_dir=str(tmp_path / "runs"), cache=str(tmp_path / "c.sqlite"),
                         sampling=SamplingConfig(max_tokens=16, temperature=0.7)), backend=FakeTeacher(lambda r: "Yes."))
    cfg = _cfg(tmp_path, "", max_pool=4)
    cfg.from_version = base.ref
    v = run(cfg, backend=FakeTeacher(scripted))
    assert v.manifest()["method_stats"]["pool"] == 4
    base_ids = {r.id for r in base.records()}
    assert {r.meta["seed"]["id"] for r in v.records()} <= base_ids and len(v.records()) == 8
    cfg.max_requests, cfg.cache, cfg.seed = 5, str(tmp_path / "c2.sqlite"), 9
    with pytest.raises(DatagenError, match="the budget stopped the run before any record was kept"):
        run(cfg, backend=FakeTeacher(scripted))  # nothing kept yet: no empty "latest" version
    cfg.allow_empty = True
    stopped = run(cfg, backend=FakeTeacher(scripted))
    m = stopped.manifest()
    assert m["stopped"] == "budget" and m["method_stats"]["stopped_after_round"] == 1
    assert (m["teacher_stats"]["cache_hits"], m["teacher_stats"]["requests"]) == (5, 5)  # first try cached, 5 new
    assert m["undone"] and all(r.detail != "budget_exhausted" for r in stopped.rejected())


def test_cli_aliases_and_preset():
    cfg = cli.load_run_config(["--method", "evol_instruct", "--rounds", "2", "--operations", "deepen,breadth:2",
                               "--max_pool", "5"])
    mcfg = __import__("datagen.run", fromlist=["x"]).resolve_method_cfg(cfg)
    assert (mcfg.num_rounds, mcfg.operations, mcfg.max_pool) == (2, ["deepen", "breadth:2"], 5)
    assert cfg.seed is not None and cfg.sampling.max_tokens and cfg.sampling.temperature is not None
    with pytest.raises(DatagenError, match="num_rounds"):
        E.run([PARENT], FakeTeacher(), E.Config(num_rounds=0), None)
