"""`datagen filter`: any version -> the next version, from flags or a recipe; the manifest names the
parent, the full filter config and the funnel, which is printed too; rejected rows keep reason,
stage and the id of the record they duplicate."""
import json

import pytest

from bad_input import check_line
from datagen import cli
from datagen.versions import Rejection, list_versions, write_version
from datagen.refilter import FilterConfig, refilter
from datagen.progress import Progress
from datagen.record import Record
from datagen.run import RunConfig, run
from datagen.session import SamplingConfig
from datagen.teacher import FakeTeacher

LONG = ("The committee reviewed the annual budget and decided to increase funding for public libraries, "
        "school lunch programs and road repairs over the next two fiscal years.")


def parent(tmp_path):
    recs = [
        Record.make("Summarize the budget news.", output=LONG, meta={"finish_reason": "stop"}),
        Record.make("Summarise the budget news.", output=LONG),                          # near duplicate
        Record.make("SUMMARIZE the budget  news.", output=LONG.upper()),                 # exact duplicate
        Record.make("Tell me a joke.", output="As an AI language model, I cannot tell jokes."),
        Record.make("Name a color.", output="Blue."),
        Record.make("Write code.", output="```python\nprint('hi')\n"),
    ]
    old = [Rejection(Record.make("Broken?", output=""), "empty_output", "parse")]
    return write_version(tmp_path / "runs", "demo", recs, old, {"method": "answer"}), recs


def test_filter_from_flags_writes_a_child_version(tmp_path, capsys):
    v1, recs = parent(tmp_path)
    rc = cli.main(["filter", "--from", "demo/v0001", "--out", str(tmp_path / "runs"), "--filters",
                   "exact_dup,minhash,quality", "--minhash.threshold", "0.7", "--quality.min_words", "2"])
    assert rc == 0
    v2 = list_versions(tmp_path / "runs", "demo")[-1]
    assert v2.version == "v0002"
    m = v2.manifest()
    assert m["method"] == "filter" and m["parent"] == "demo/v0001"
    assert m["parent_content_sha256"] == v1.manifest()["content_sha256"]
    assert m["config"]["filters"] == [{"name": "exact_dup"}, {"name": "minhash", "threshold": 0.7},
                                      {"name": "quality", "min_words": 2}]
    assert [(f["filter"], f["in"], f["kept"]) for f in m["funnel"]] == [("exact_dup", 6, 5), ("minhash", 5, 4),
                                                                        ("quality", 4, 1)]
    assert m["funnel"][2]["dropped"] == {"refusal": 1, "too_short": 1, "broken_code_fence": 1}
    c = m["counts"]
    assert (c["input"], c["kept"], c["rejected"], c["parent_rejected"]) == (6, 1, 5, 1)
    assert [r.id for r in v2.records()] == [recs[0].id]
    rej = {r.record.id: (r.reason, r.stage, r.detail) for r in v2.rejected()}
    assert rej[recs[1].id] == ("near_duplicate", "filter:minhash", recs[0].id)
    assert rej[recs[2].id] == ("exact_duplicate", "filter:exact_dup", recs[0].id)
    assert "empty_output" not in {r.reason for r in v2.rejected()}  # the parent's rejections stay there
    out = capsys.readouterr().out
    assert "parent demo/v0001" in out and "near_duplicate 1" in out and "kept 1 of 6" in out
    assert v1.manifest()["counts"]["kept"] == 6  # the parent is untouched


def test_filter_from_a_recipe_with_flag_overrides(tmp_path, capsys):
    parent(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: other\nmethod: answer\nseed: 3\nsampling: {max_tokens: 16, temperature: 0}\n"
                      "filters:\n  - exact_dup\n  - {name: quality, min_words: 5, checks: [empty, length]}\n")
    rc = cli.main(["filter", "--config", str(recipe), "--from", str(tmp_path / "runs" / "demo"),
                   "--quality.min_words", "1"])
    assert rc == 0
    m = list_versions(tmp_path / "runs", "demo")[-1].manifest()
    assert m["config"]["filters"][1] == {"name": "quality", "min_words": 1, "checks": ["empty", "length"]}
    assert [f["kept"] for f in m["funnel"]] == [5, 5]


@pytest.mark.parametrize("args,message", [
    (["--filters", "quality"], "--from VERSION is required"),
    (["--from", "demo"], "no filters given"),
    (["--from", "demo", "--filters", "nope"], "unknown filter 'nope'"),
    (["--from", "demo", "--filters", "quality", "--minhash.threshold", "0.8"], "not in the list: minhash"),
    (["--from", "demo", "--filters", "minhash", "--minhash.threshold", "high"], "minhash.threshold: expected a number"),
    (["--from", "demo", "--filters", "minhash", "--minhash.bands", "99", "--minhash.rows", "9"], "exceeds num_perm"),
    (["--from", "demo", "--filters", "judge"], "needs sampling.max_tokens and sampling.temperature"),
    (["--from", "nothing/v0009", "--filters", "quality"], "dataset version not found"),
])
def test_bad_filter_commands_are_one_line_errors(tmp_path, capsys, args, message):
    parent(tmp_path)
    code = cli.main(["filter", "--out", str(tmp_path / "runs"), *args])
    assert message in check_line(code, capsys.readouterr().err)
    assert len(list_versions(tmp_path / "runs", "demo")) == 1


def test_judge_refilter_records_teacher_and_scores(tmp_path):
    parent(tmp_path)
    cfg = FilterConfig(from_version="demo", output_dir=str(tmp_path / "runs"), filters=["quality", "judge"],
                       sampling=SamplingConfig(max_tokens=32, temperature=0.0), seed=1)
    judge = FakeTeacher(lambda req: "Score: 8" if "Blue" in req.messages[-1]["content"] else "Score: 3", name="j")
    v = refilter(cfg, backend=judge, progress=Progress(enabled=False))
    m = v.manifest()
    assert m["teacher"]["name"] == "j" and m["teacher_stats"]["requests"] == 4  # what quality kept
    assert m["templates"].keys() == {"filters/judge"}
    assert [(r.output, r.meta["judge_score"]) for r in v.records()] == [("Blue.", 8.0)]
    assert m["funnel"][-1]["dropped"] == {"low_judge_score": 3}
    assert {r.record.meta.get("judge_score") for r in v.rejected() if r.reason == "low_judge_score"} == {3.0}


def test_generate_recipes_can_list_these_filters(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": t, "output": "x"}) + "\n"
                             for t in ["Name a color.", "Name a colour.", "Tell me a joke."]))
    cfg = RunConfig(name="gen", method="answer", seeds=str(seeds), output_dir=str(tmp_path / "runs"), seed=1,
                    filters=["quality", {"name": "minhash", "threshold": 0.8, "fields": ["output"]}])
    cfg.sampling.max_tokens, cfg.sampling.temperature = 16, 0.0
    answers = {"Name a color.": "Blue is a calm colour often used in art and design.",
               "Name a colour.": "Blue is a calm colour often used in art and design!",
               "Tell me a joke.": "As an AI language model, I cannot."}
    teacher = FakeTeacher(lambda req: next(a for q, a in answers.items() if q in req.messages[-1]["content"]))
    v = run(cfg, progress=Progress(enabled=False), backend=teacher)
    assert [(f["filter"], f["kept"]) for f in v.manifest()["funnel"]] == [("quality", 2), ("minhash", 1)]
