"""run(): seeds -> method -> filters -> DatasetVersion, with FakeTeacher (no model)."""
import json

import pytest

from datagen.cli import load_run_config
from datagen.versions import list_versions
from datagen.errors import DatagenError
from datagen.progress import Progress
from datagen.record import sha256_text
from datagen.run import resolve_method_cfg, run, run_id_of
from datagen.seeds import load_seeds
from datagen.teacher import FakeTeacher
from datagen.templates import TemplateLoader

TASKS = ["Name a primary color.", "Give a synonym for happy.", "What is 2 + 2?", "Translate 'cat' to French.",
         "Name a planet."]


def seeds_file(tmp_path, tasks=TASKS, name="seeds.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "seed answer"}) + "\n" for t in tasks))
    return p


def cfg_for(tmp_path, out="runs", *flags, seeds=None):
    seeds = seeds or seeds_file(tmp_path)
    return load_run_config(["--method", "answer", "--seeds", str(seeds), "--out", str(tmp_path / out),
                            "--max_tokens", "32", "--temperature", "0.7", "--seed", "5", *flags])


def echo(req):
    return "Answer: " + req.messages[-1]["content"]


def go(cfg, respond=echo, name="fake"):
    teacher = FakeTeacher(respond, name=name)
    return run(cfg, progress=Progress(enabled=False), backend=teacher), teacher


def test_answer_run_writes_a_full_manifest(tmp_path):
    cfg = cfg_for(tmp_path)
    v, teacher = go(cfg)
    assert v.path == tmp_path / "runs" / "answer" / "v0001"
    recs = v.records()
    assert [r.instruction for r in recs] == TASKS
    assert [r.output for r in recs] == ["Answer: " + t for t in TASKS]
    m = v.manifest()
    tpl = TemplateLoader().load("answer/answer")
    assert m["config"]["sampling"] == {"max_tokens": 32, "temperature": 0.7, "top_p": 0.95}
    assert m["config"]["output_dir"] == str(tmp_path / "runs") and m["config"]["seed"] == 5
    assert {k: m["method_cfg"][k] for k in ("template", "limit")} == {"template": "answer/answer", "limit": None}
    assert m["parent"] is None
    assert m["seeds"] == {"path": cfg.seeds, "sha256": sha256_text(open(cfg.seeds).read()), "count": 5}
    assert m["templates"] == {"answer/answer": tpl.sha}
    assert m["teacher"]["name"] == "fake" and m["sampling"]["seed"] == 5
    ts = m["teacher_stats"]
    assert (ts["requests"], ts["cache_hits"], ts["failed"]) == (5, 0, 0) and ts["completion_tokens"] > 0
    assert m["counts"]["generated"] == 5 and m["counts"]["kept"] == 5 and m["stopped"] is None
    assert m["funnel"] == [{"filter": "exact_dup", "in": 5, "kept": 5, "dropped": {}}]
    assert m["run_id"] == run_id_of(cfg, resolve_method_cfg(cfg))
    # lineage: enough to regenerate the record
    seed_ids = {r.instruction: r.id for r in load_seeds(cfg.seeds)}
    for r in recs:
        lin = r.lineage
        assert lin.method == "answer" and lin.parents == (seed_ids[r.instruction],)
        assert (lin.template, lin.template_sha, lin.teacher, lin.run_id) == ("answer/answer", tpl.sha, "fake",
                                                                              m["run_id"])
        assert lin.sampling_sha and r.meta["finish_reason"] == "stop"
    # what the teacher saw was the rendered bundled template
    assert teacher.seen[0].messages == tuple(tpl.render(instruction=TASKS[0], input=""))
    assert teacher.seen[0].sampling.max_tokens == 32 and teacher.seen[0].sampling.seed == 5


def test_identical_runs_give_identical_content(tmp_path):
    seeds = seeds_file(tmp_path)
    a, _ = go(cfg_for(tmp_path, "a", seeds=seeds))
    b, _ = go(cfg_for(tmp_path, "b", "--name", "other", seeds=seeds))
    assert a.manifest()["content_sha256"] == b.manifest()["content_sha256"]
    assert a.manifest()["run_id"] == b.manifest()["run_id"]
    # the second run in the same output dir is answered from the cache and, unchanged, writes no v0002
    c, teacher = go(cfg_for(tmp_path, "a", seeds=seeds), respond=lambda r: pytest.fail("not cached"))
    assert c.unchanged and c.version == "v0001" and c.manifest()["content_sha256"] == a.manifest()["content_sha256"]
    assert teacher.seen == [] and [v.version for v in list_versions(tmp_path / "a", "answer")] == ["v0001"]


def test_run_id_ignores_locations_but_not_options(tmp_path):
    seeds = seeds_file(tmp_path)
    base = cfg_for(tmp_path, seeds=seeds)
    rid = run_id_of(base, resolve_method_cfg(base))
    same = cfg_for(tmp_path, "elsewhere", "--name", "x", "--cache", str(tmp_path / "c.sqlite"),
                   "--max_requests", "3", seeds=seeds)
    assert run_id_of(same, resolve_method_cfg(same)) == rid
    for flags in (["--seed", "6"], ["--max_tokens", "33"], ["--method_cfg.limit", "2"]):
        other = cfg_for(tmp_path, "runs", *flags, seeds=seeds)
        assert run_id_of(other, resolve_method_cfg(other)) != rid
    # CLI strings and YAML numbers resolve to the same method options -> the same run
    a = cfg_for(tmp_path, "runs", "--method_cfg.limit", "2", seeds=seeds)
    b = cfg_for(tmp_path, seeds=seeds)
    b.method_cfg = {"limit": 2}
    assert run_id_of(a, resolve_method_cfg(a)) == run_id_of(b, resolve_method_cfg(b))


def test_rejections_carry_reason_stage_detail(tmp_path):
    seeds = seeds_file(tmp_path, TASKS + ["  name a PLANET.  "])

    def respond(req):
        text = req.messages[-1]["content"]
        if "2 + 2" in text:
            return "   "
        if "planet" in text.lower():
            return "Mars"  # two instructions normalise to the same -> exact duplicate
        return "fine"

    v, _ = go(cfg_for(tmp_path, seeds=seeds), respond)
    m = v.manifest()
    assert m["counts"]["dropped"] == {"empty_output": 1, "exact_duplicate": 1}
    assert m["counts"]["dropped_by_stage"] == {"filter:exact_dup": 1, "parse": 1}
    assert m["counts"]["generated"] == 6 and m["counts"]["kept"] == 4
    rej = {r.reason: r for r in v.rejected()}
    planet = [r for r in v.records() if r.instruction == "Name a planet."][0]
    assert rej["exact_duplicate"].detail == planet.id
    assert rej["empty_output"].record.instruction == "What is 2 + 2?"


def test_a_budget_stop_before_anything_is_kept_writes_no_version(tmp_path):
    with pytest.raises(DatagenError, match=r"before any record was kept \(0 answers are in the cache, 5 steps undone"):
        go(cfg_for(tmp_path, "runs", "--max_requests", "0"))
    assert list_versions(tmp_path / "runs", "answer") == []
    v, _ = go(cfg_for(tmp_path, "runs", "--max_requests", "0", "--allow_empty"))
    assert v.records() == [] and v.manifest()["undone"] == {"teacher": 5}


def test_a_token_budget_is_exceeded_by_at_most_one_batch(tmp_path):
    long_answer = lambda r: "word " * 20  # noqa: E731 - 20 completion tokens a request
    v, teacher = go(cfg_for(tmp_path, "runs", "--max_tokens_total", "30", "--concurrency", "2"), respond=long_answer)
    s = v.manifest()["teacher_stats"]
    used = s["prompt_tokens"] + s["completion_tokens"]
    per_request = used / s["requests"]
    assert s["requests"] == 2 and used - 30 <= 2 * per_request  # one batch of 2 went over, no more
    assert v.manifest()["undone"] == {"teacher": 3}


def test_budget_stops_cleanly_with_what_was_done(tmp_path):
    v, teacher = go(cfg_for(tmp_path, "runs", "--max_requests", "2"))
    m = v.manifest()
    assert len(teacher.seen) == 2 and len(v.records()) == 2
    assert m["stopped"] == "budget" and "after 2 requests" in m["stopped_detail"]
    assert m["counts"]["dropped"] == {} and v.rejected() == [] and m["undone"] == {"teacher": 3}
    assert m["teacher_stats"]["requests"] == 2 and m["teacher_stats"]["errors"] == {"budget_exhausted": 3}
    assert "stopped early: budget" in (v.path / "README.md").read_text()
    # resuming without a budget pays only for the rest
    v2, teacher2 = go(cfg_for(tmp_path, "runs"))
    assert len(teacher2.seen) == 3 and v2.manifest()["teacher_stats"]["cache_hits"] == 2
    assert len(v2.records()) == 5 and v2.manifest()["stopped"] is None


def test_limit_and_from_version(tmp_path):
    first, _ = go(cfg_for(tmp_path, "runs", "--method_cfg.limit", "2"))
    assert len(first.records()) == 2
    # another seed: new requests, not the cached answers of the first run
    second, teacher = go(cfg_for(tmp_path, "runs", "--from", "answer/v0001", "--seed", "9"),
                         respond=lambda r: "again")
    m = second.manifest()
    assert m["parent"] == "answer/v0001" and m["seeds"]["content_sha256"] == first.manifest()["content_sha256"]
    assert [r.output for r in second.records()] == ["again", "again"]
    assert [r.lineage.parents for r in second.records()] == [(r.id,) for r in first.records()]


@pytest.mark.parametrize("flags, match", [
    (["--method_cfg.nope", "1"], r"unknown key 'method_cfg\.nope'"),
    (["--method_cfg.template", "answer/missing"], "template not found"),
    (["--templates", "/nonexistent/dir"], "templates directory not found"),
    (["--seeds", "/nonexistent/seeds.jsonl"], "seed file not found"),
    (["--filters", "no_such_filter"], "unknown filter 'no_such_filter'"),
    (["--from", "nope/v0001"], "dataset version not found"),
])
def test_bad_input_fails_before_any_version(tmp_path, flags, match):
    with pytest.raises(DatagenError, match=match):
        go(cfg_for(tmp_path, "runs", *flags))
    assert list_versions(tmp_path / "runs", "answer") == []


# --- seeds and the filter plumbing the run relies on ---------------------------------------------

def test_seed_formats(tmp_path):
    si = tmp_path / "si.jsonl"
    si.write_text(json.dumps({"id": "t1", "name": "capital", "instruction": "Capital of the country?",
                              "instances": [{"input": "Portugal", "output": "Lisbon"},
                                            {"input": "Peru", "output": "Lima"}],
                              "is_classification": False}) + "\n\n")
    [r] = load_seeds(si)
    assert (r.instruction, r.input, r.output, r.lineage.method) == ("Capital of the country?", "Portugal", "Lisbon",
                                                                    "seed")
    assert r.meta["seed_name"] == "capital" and len(r.meta["instances"]) == 2
    alpaca = tmp_path / "alpaca.json"
    alpaca.write_text(json.dumps([{"instruction": "A?", "input": "", "output": "a"},
                                  {"instruction": "A?", "input": "", "output": "a"},  # same id: kept once
                                  {"instruction": "B?", "output": "b"}]))
    assert [r.instruction for r in load_seeds(alpaca)] == ["A?", "B?"]
    assert len(load_seeds(None)) > 0  # the bundled seeds


@pytest.mark.parametrize("text, match", [
    ("", "is empty"),
    ('{"instruction": "a", "output": "b"}\n[1, 2]\n', "line 2: expected a JSON object"),
    ('{"question": "a"}\n', "line 1: not a seed task"),
    ('{"instruction": "", "output": "b"}\n', "line 1: field 'instruction' is empty"),
    ('{"instruction": "a", "output": 3}\n', "line 1: field 'output' must be a string"),
    ('{"instruction": "a", "instances": []}\n', "'instances' must be a non-empty list"),
    ('[{"instruction": "a", "output": "b"},\n oops]', "line 2: invalid JSON"),
])
def test_bad_seed_files_name_file_and_line(tmp_path, text, match):
    p = tmp_path / "s.jsonl"
    p.write_text(text)
    with pytest.raises(DatagenError, match=match) as exc:
        load_seeds(p)
    assert str(p) in str(exc.value)


def test_filter_apply_funnel_and_verdicts():
    from datagen import filtering as F
    from datagen.record import Record

    recs = [Record.make(t, output="x") for t in ("a", "A ", "b", "c")]
    specs = ["exact_dup", {"name": "exact_dup", "fields": ["output"]}]
    fns = F.build_filters(specs)
    kept, rejected, funnel = F.apply_filters(fns, recs)
    assert [r.instruction for r in kept] == ["a"]
    assert [(r.reason, r.stage, r.detail) for r in rejected] == [
        ("exact_duplicate", "filter:exact_dup", recs[0].id), ("exact_duplicate", "filter:exact_dup", recs[0].id),
        ("exact_duplicate", "filter:exact_dup", recs[0].id)]
    assert funnel == [{"filter": "exact_dup", "in": 4, "kept": 3, "dropped": {"exact_duplicate": 1}},
                      {"filter": "exact_dup", "in": 3, "kept": 1, "dropped": {"exact_duplicate": 2}}]
    with pytest.raises(RuntimeError, match="returned 0 verdicts for 1 records"):
        F.apply_filters([("bad", lambda rs: [])], recs[:1])
    with pytest.raises(DatagenError, match="unknown key 'exact_dup.feilds'; valid keys: fields"):
        F.build_filters([{"name": "exact_dup", "feilds": ["output"]}])
    with pytest.raises(DatagenError, match="a filter is a name or a mapping"):
        F.build_filters([3])


def test_credentials_in_base_url_never_reach_the_manifest(tmp_path):
    from datagen.cli import load_run_config
    from datagen.run import run
    from datagen.teacher import FakeTeacher

    cfg = load_run_config(["--method", "answer", "--out", str(tmp_path), "--method_cfg.limit", "2",
                           "--teacher", "openai", "--base-url", "http://alice:s3cretpw@127.0.0.1:9/v1?key=s3cretq"])
    v = run(cfg, backend=FakeTeacher(lambda r: "fine"))
    text = "".join(p.read_text(errors="ignore") for p in v.path.iterdir() if p.suffix in (".json", ".md"))
    assert "s3cret" not in text
    assert v.manifest()["teacher"]["base_url"] == "http://127.0.0.1:9/v1"
