"""`datagen eval` end to end on the fake OpenAI-compatible server: students, base and judge are
models the server serves, so the judge's preferences are scripted (issue 12)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bad_input import one_error
from datagen.cli import main
from fake_openai_server import FakeOpenAIServer
from cache_rows import cache_rows

ROOT = Path(__file__).resolve().parent.parent
MARK = {"stud": "STUDENT", "stud2": "SECOND", "base-m": "BASE"}


def reply(content: str, seed, index: int, model=None) -> str:
    """Students answer with their marker; judges pick by position or by marker."""
    if model in MARK:
        return f"{MARK[model]} answer: done. all lowercase here"
    first = content.partition("### Answer B")[0].rpartition("### Answer A")[2]
    if model == "judge-first":
        return "Verdict: A"
    if model == "judge-student":
        return "Verdict: A" if "STUDENT" in first else "Verdict: B"
    if model == "judge-base":
        return "Verdict: A" if "BASE" in first else "Verdict: B"
    return "no idea"


@pytest.fixture
def server():
    with FakeOpenAIServer(reply=reply) as srv:
        yield srv


def eval_argv(srv, tmp_path, judge="judge-first", *extra):
    return ["eval", "--students", f"openai:stud@{srv.url}", "--base", f"openai:base-m@{srv.url}", "--limit", "12",
            "--teacher", "openai", "--base-url", srv.url, "--model", judge, "--out", str(tmp_path / "evals"),
            "--resamples", "500", *extra]


def summary(tmp_path, name="ifeval"):
    folder = sorted((tmp_path / "evals" / name).glob("e*"))[-1]
    return folder, json.loads((folder / "summary.json").read_text())


def test_the_template_marks_positions():
    # the scripted judges read positions from the template's own markers
    text = (ROOT / "prompts" / "eval" / "pairwise.j2").read_text()
    assert "### Answer A" in text and "### Answer B" in text


def test_a_judge_preferring_the_first_position_gives_only_ties(server, tmp_path, capsys):
    assert main(eval_argv(server, tmp_path)) == 0
    folder, s = summary(tmp_path)
    (pair,) = s["pairs"]
    assert (pair["a"], pair["b"], pair["wins"], pair["losses"], pair["ties"]) == ("stud", "base", 0, 0, 12)
    assert pair["win_rate"] == 0.5 and pair["reasons"]["order_flip"] == 12
    assert pair["ci95"][0] <= 0.5 <= pair["ci95"][1]
    rows = pq.read_table(folder / "results.parquet").to_pylist()
    assert len(rows) == 24 and {r["model"] for r in rows} == {"stud", "base"}
    student_row = next(r for r in rows if r["model"] == "stud")
    (verdict,) = json.loads(student_row["judge"])
    assert verdict["against"] == "base" and verdict["verdict_ab"] == verdict["verdict_ba"] == "Verdict: A"
    assert json.loads(student_row["checks"]) and student_row["answer"].startswith("STUDENT")
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["eval_set"]["scored"] == 12 and len(prov["eval_set"]["sha256"]) == 64
    assert prov["judge"]["teacher"]["model"] == "judge-first" and prov["judge"]["templates"]["eval/pairwise"]
    assert "stud" in capsys.readouterr().out


@pytest.mark.parametrize("judge, rate", [("judge-student", 1.0), ("judge-base", 0.0)])
def test_a_judge_preferring_one_side_gives_all_or_nothing(server, tmp_path, judge, rate):
    assert main(eval_argv(server, tmp_path, judge)) == 0
    _, s = summary(tmp_path)
    (pair,) = s["pairs"]
    assert pair["win_rate"] == rate and pair["ties"] == 0 and pair["reasons"]["consistent"] == 12


def test_rescoring_asks_no_model_again(server, tmp_path):
    assert main(eval_argv(server, tmp_path)) == 0
    posts = server.posts
    assert main(eval_argv(server, tmp_path)) == 0
    assert server.posts == posts
    (a, b) = sorted((tmp_path / "evals" / "ifeval").glob("e*"))
    sa, sb = (json.loads((f / "summary.json").read_text()) for f in (a, b))
    assert sa["models"] == sb["models"] and sa["pairs"] == sb["pairs"]


def test_if_scores_are_real_checks(server, tmp_path):
    assert main(eval_argv(server, tmp_path, "judge-first", "--judge", "false")) == 0
    folder, s = summary(tmp_path)
    ifs = s["models"]["stud"]["if"]
    assert 0 <= ifs["prompt_strict"]["mean"] <= ifs["prompt_loose"]["mean"] <= 1
    lo, hi = ifs["instruction_strict"]["ci95"]
    assert lo <= ifs["instruction_strict"]["mean"] <= hi
    assert s["pairs"] == [] and sum(k["n"] for k in ifs["per_kind"].values()) == len(
        [c for r in pq.read_table(folder / "results.parquet").to_pylist() if r["model"] == "stud"
         for c in json.loads(r["checks"])])
    # the paired comparison: both answer the same 12 prompts with the same text but for their marker
    [paired] = s["paired"]
    assert (paired["a"], paired["b"], paired["kind"]) == ("stud", "base", "base")
    ps = paired["prompt_strict"]
    assert ps["n"] == 12 and ps["diff"] == pytest.approx(ps["a"] - ps["b"])
    assert ps["ci95"][0] <= ps["diff"] <= ps["ci95"][1] and 0 <= ps["p_mcnemar"] <= 1
    assert paired["answer_words"]["a"] == paired["answer_words"]["b"] == 6
    assert set(paired["per_split"]) <= {"train", "heldout", "eval"}
    from datagen.evaluation.compare import paired_lines

    text = "\n".join(paired_lines(s))
    assert "stud - base (paired, 12 prompts): prompt strict" in text and "empty 0 vs 0, truncated" in text


def test_kill_9_mid_eval_then_resume_asks_only_for_what_is_missing(tmp_path):
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAIServer(reply=reply, latency=0.15) as srv:
        argv = [sys.executable, "-m", "datagen.cli", *eval_argv(srv, tmp_path, "judge-student", "--cache",
                                                                   str(cache), "--concurrency", "1")]
        env = {**os.environ, "DATAGEN_PROGRESS": "0"}
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and cache_rows(cache) < 5:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        cached, before = cache_rows(cache), srv.posts
        assert cached >= 5 and not (tmp_path / "evals" / "ifeval").exists()
        res = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        total = 12 + 12 + 2 * 12  # student and base answers, the judge in both orders
        assert srv.posts - before == total - cached
    _, s = summary(tmp_path)
    assert s["pairs"][0]["win_rate"] == 1.0






def test_bad_input_is_one_line_and_no_eval_folder(server, tmp_path, capsys):
    out = tmp_path / "evals"
    base = ["eval", "--out", str(out), "--teacher", "openai", "--base-url", server.url, "--model", "judge-first",
            "--base", "none"]
    assert "student not found: nope/adapter" in one_error(capsys, [*base, "--students", "nope/adapter"])
    assert "no students given" in one_error(capsys, base)
    s = [*base, "--students", f"openai:stud@{server.url}"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert "has no prompts" in one_error(capsys, [*s, "--eval_set", str(empty)])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "constraints": [{"kind": "no_commas"}]}\n{oops\n')
    assert f"eval set {bad} line 2: invalid JSON" in one_error(capsys, [*s, "--eval_set", str(bad)])
    bad.write_text('{"prompt": "a", "constraints": [{"kind": "no_commas"}]}\n{"prompt": "b", "constraints": []}\n')
    assert "line 2" in one_error(capsys, [*s, "--eval_set", str(bad)])
    kind = tmp_path / "kind.jsonl"
    kind.write_text('{"prompt": "a", "constraints": [{"kind": "rhymes"}]}\n')
    assert "rhymes" in one_error(capsys, [*s, "--eval_set", str(kind)])
    tpl = tmp_path / "tpl" / "eval"
    tpl.mkdir(parents=True)
    (tpl / "pairwise.j2").write_text("<|user|>\nCompare {{ first }} and {{ secnd }}.\n")
    err = one_error(capsys, [*s, "--base", f"openai:base-m@{server.url}", "--templates", str(tmp_path / "tpl"),
                             "--limit", "2"])
    assert "secnd" in err
    assert "unknown comparison 'bogus'" in one_error(capsys, [*s, "--compare", "bogus"])
    assert "limit: must be >= 1, got 0" in one_error(capsys, [*s, "--limit", "0"])
    assert not out.exists() or [p.name for p in out.iterdir()] in ([], [".cache"])


def test_student_against_the_reference_outputs_of_held_out_records(server, tmp_path):
    from datagen.versions import write_version
    from datagen.record import Record

    runs = tmp_path / "runs"
    recs = [Record.make(f"Describe planet number {i}.", output=f"Reference answer {i}.") for i in range(10)]
    v = write_version(runs, "ref", recs, [], {"method": "answer"})
    argv = [*eval_argv(server, tmp_path, "judge-student"), "--compare", "base,reference", "--heldout", v.ref,
            "--runs", str(runs), "--heldout_max", "3"]
    assert main(argv) == 0
    folder, s = summary(tmp_path)
    ref = next(p for p in s["pairs"] if p["kind"] == "reference")
    assert (ref["a"], ref["b"], ref["n"], ref["win_rate"]) == ("stud", "reference@ref/v0001", 3, 1.0)
    rows = [r for r in pq.read_table(folder / "results.parquet").to_pylist() if r["set"] == "heldout"]
    assert len(rows) == 3 and {r["prompt_id"] for r in rows} <= {r.id for r in recs}
    assert all(json.loads(r["judge"])[0]["against"] == "reference@ref/v0001" for r in rows)
    assert s["models"]["stud"]["heldout_loss"] is None  # an endpoint has no weights: no loss
