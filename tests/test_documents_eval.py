"""The knowledge eval (datagen/evaluation/knowledge.py): the questions --method documents held out are
answered closed book by a student and its base (scripted models on the fake server), scored against
their references by token F1 and exact match and by the judge reading the reference, with paired
intervals in `datagen eval` and `datagen compare`."""
from __future__ import annotations

import json

import pytest

from datagen.cli import main
from datagen.documents.words import exact_match, token_f1
from datagen.evaluation.paired import paired_diff
from datagen.versions import open_version
from document_fixtures import write_corpus
from fake_openai_server import FakeOpenAIServer
from scripted_teacher import scripted_reply

pytest.importorskip("pypdf", reason="the documents extra: pip install 'datagen[documents]'")
pytest.importorskip("bs4", reason="the documents extra: pip install 'datagen[documents]'")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kn")
    write_corpus(tmp / "docs")
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        assert main(["generate", "--method", "documents", "--docs", str(tmp / "docs"), "--teacher", "openai",
                     "--base-url", srv.url, "--model", "m", "--out", str(tmp / "runs"), "--name", "hb",
                     "--method_cfg.chunk_tokens", "60", "--method_cfg.overlap_tokens", "15"]) == 0
    held = [j.record for j in open_version("hb", str(tmp / "runs")).rejected() if j.reason == "heldout_eval"]
    return tmp, {r.instruction: r.output for r in held}


def run_eval(tmp, refs: dict, capsys, *extra) -> tuple[dict, str]:
    known = sorted(refs)[: len(refs) // 2]  # the student learned half of the facts, the base none

    def reply(content, seed, index, model=None):
        if model == "judge":
            ref = content.split("### Reference answer (from the document)\n", 1)[1].split("\n\n### Answer", 1)[0]
            answer = content.split("### Answer to grade\n", 1)[1].split("\n\n### Your decision", 1)[0]
            return f"Same facts.\nVerdict: {'correct' if answer.strip() == ref.strip() else 'incorrect'}"
        question = content.split("\n")[0]
        if model == "stud" and question in known:
            return refs[question]
        return "I do not know this company's rules."

    with FakeOpenAIServer(reply=reply) as srv:
        code = main(["eval", "--students", f"openai:stud@{srv.url}", "--base", f"openai:base-m@{srv.url}",
                     "--eval_set", "knowledge:hb", "--runs", str(tmp / "runs"), "--out", str(tmp / "evals"),
                     "--teacher", "openai", "--base-url", srv.url, "--model", "judge", "--resamples", "500", *extra])
        questions = [b["messages"][-1]["content"] for b in srv.bodies if b["model"] in ("stud", "base-m")]
    assert code == 0
    assert all("Passage" not in q and "\"\"\"" not in q for q in questions)  # closed book: the question alone
    folder = sorted((tmp / "evals" / "knowledge-hb").glob("e*"))[-1]
    return json.loads((folder / "summary.json").read_text()), capsys.readouterr().out


def test_scores_against_the_reference_with_paired_intervals(made, capsys):
    tmp, refs = made
    summary, out = run_eval(tmp, refs, capsys)
    n = len(refs)
    assert summary["eval_set"]["format"] == "knowledge" and summary["eval_set"]["scored"] == n >= 4
    known = sorted(refs)[: n // 2]
    stud_f1 = [1.0 if q in known else token_f1("I do not know this company's rules.", refs[q]) for q in refs]
    base_f1 = [token_f1("I do not know this company's rules.", refs[q]) for q in refs]
    k = summary["models"]["stud"]["knowledge"]
    assert k["token_f1"]["mean"] == pytest.approx(sum(stud_f1) / n)
    assert k["exact_match"]["mean"] == pytest.approx(len(known) / n)
    assert k["judge_correct"]["mean"] == pytest.approx(len(known) / n)
    assert summary["models"]["base"]["knowledge"]["judge_correct"]["mean"] == 0
    p = next(p for p in summary["paired"] if p["a"] == "stud" and p["b"] == "base")
    assert p["token_f1"]["diff"] == pytest.approx(paired_diff(stud_f1, base_f1)["diff"])
    assert p["exact_match"]["only_a"] == len(known) and p["exact_match"]["only_b"] == 0
    assert p["token_f1"]["ci95"][0] <= p["token_f1"]["diff"] <= p["token_f1"]["ci95"][1]
    assert not any(exact_match("I do not know this company's rules.", r) for r in refs.values())
    assert "token F1 %" in out and "stud - base (paired" in out and "exact match +" in out
    assert main(["compare", "--out", str(tmp / "evals"), "--format", "md"]) == 0
    table = capsys.readouterr().out
    assert "| token F1 % |" in table and "knowledge-hb" in table


def test_a_version_without_heldout_questions_is_one_error_line(made, capsys, tmp_path):
    tmp, _ = made
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        assert main(["generate", "--method", "documents", "--docs", str(tmp / "docs" / "handbook.md"),
                     "--teacher", "openai", "--base-url", srv.url, "--model", "m", "--out", str(tmp_path / "runs"),
                     "--method_cfg.heldout", "0"]) == 0
        capsys.readouterr()
        assert main(["eval", "--students", f"openai:stud@{srv.url}", "--base", "none", "--eval_set",
                     "knowledge:documents", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "evals"),
                     "--judge", "false"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no held-out questions" in err[0]
