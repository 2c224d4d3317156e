"""`datagen compare` and the report's students section, from eval folders on disk."""
from __future__ import annotations

import json

import pytest

from datagen.cli import main
from datagen.evaluation.compare import compare_rows, render_table, rows_for_version


def ci(mean, lo, hi, n=10):
    return {"mean": mean, "ci95": [lo, hi], "n": n}


def fake_eval(root, name, dataset_ref, sha, strict):
    folder = root / name / "e0001"
    folder.mkdir(parents=True)
    ifs = {"prompt_strict": ci(strict, strict - 0.1, strict + 0.1), "prompt_loose": ci(strict + 0.05, 0, 1),
           "instruction_strict": ci(0.4, 0.3, 0.5)}
    summary = {"eval": f"{name}/e0001", "eval_set": {"scored": 10},
               "models": {"sft-0001": {"role": "student", "if": ifs, "heldout_loss": ci(1.5, 1.2, 1.8)},
                          "base": {"role": "base", "if": ifs, "heldout_loss": None}},
               "pairs": [{"a": "sft-0001", "b": "base", "kind": "base", "wins": 6, "ties": 2, "losses": 2,
                          "win_rate": 0.7, "ci95": [0.45, 0.9]}]}
    prov = {"models": [{"label": "sft-0001", "spec": "adapters/x/sft-0001",
                        "dataset": {"ref": dataset_ref, "content_sha256": sha}}, {"label": "base", "spec": "m.gguf"}]}
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "provenance.json").write_text(json.dumps(prov))
    return folder


def test_rows_link_dataset_student_and_eval(tmp_path):
    a = fake_eval(tmp_path, "one", "demo/v0001", "a" * 64, 0.2)
    b = fake_eval(tmp_path, "two", "demo/v0002", "b" * 64, 0.3)
    rows = compare_rows([a, b])
    assert [(r["dataset"], r["student"], r["eval"]) for r in rows] == [
        ("demo/v0001", "sft-0001", "one/e0001"), ("(base)", "base", "one/e0001"),
        ("demo/v0002", "sft-0001", "two/e0001"), ("(base)", "base", "two/e0001")]
    text = render_table(rows)
    assert "20.0 [10.0, 30.0]" in text and "70.0 [45.0, 90.0] (6/2/2)" in text and "1.500 [1.200, 1.800]" in text
    md = render_table(rows, "md")
    assert md.splitlines()[0].startswith("| dataset | student |") and md.count("\n") == 5 and "base on the same rows" in md
    assert [r["eval"] for r in rows_for_version([a, b], "demo/v0002", None)] == ["two/e0001"]
    assert [r["eval"] for r in rows_for_version([a, b], "other/v0009", "b" * 64)] == ["two/e0001"]


def test_compare_command(tmp_path, capsys):
    fake_eval(tmp_path, "one", "demo/v0001", "a" * 64, 0.2)
    assert main(["compare", "--out", str(tmp_path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["dataset"] == "demo/v0001" and rows[0]["vs_base"]["win_rate"] == 0.7
    assert main(["compare", "one", "--out", str(tmp_path)]) == 0
    assert "demo/v0001" in capsys.readouterr().out
    assert main(["compare", "--out", str(tmp_path / "none")]) == 0 and "no evals" in capsys.readouterr().out
    assert main(["compare", "--format", "xml", "--out", str(tmp_path)]) == 2
    assert main(["compare", "nope", "--out", str(tmp_path)]) == 2
    assert "eval not found: nope" in capsys.readouterr().err


def test_report_shows_students_of_its_version(tmp_path, monkeypatch):
    import datagen.session
    from datagen.versions import list_versions
    from datagen.teacher import FakeTeacher

    monkeypatch.setattr(datagen.session, "make_teacher", lambda cfg: FakeTeacher(lambda r: "An answer."))
    seeds = tmp_path / "s.jsonl"
    seeds.write_text(json.dumps({"instruction": "Name a color.", "output": "x"}) + "\n")
    runs = tmp_path / "runs"
    assert main(["generate", "--method", "answer", "--seeds", str(seeds), "--out", str(runs)]) == 0
    (v,) = list_versions(runs, "answer")
    fake_eval(tmp_path / "evals", "one", v.ref, v.manifest()["content_sha256"], 0.25)
    out = tmp_path / "r.html"
    assert main(["report", v.ref, "--runs", str(runs), "--out", str(out), "--evals", str(tmp_path / "evals")]) == 0
    html = out.read_text()
    assert "Students trained on this version" in html and "25.0 [15.0, 35.0]" in html
    assert main(["report", v.ref, "--runs", str(runs), "--out", str(out), "--evals", str(tmp_path / "x")]) == 0
    assert "Students trained on this version" not in out.read_text()


@pytest.mark.parametrize("bad", ["{", ""])
def test_a_damaged_summary_is_named(tmp_path, capsys, bad):
    folder = fake_eval(tmp_path, "one", "demo/v0001", "a" * 64, 0.2)
    (folder / "provenance.json").write_text(bad)
    assert main(["compare", "--out", str(tmp_path)]) == 2
    assert "is damaged" in capsys.readouterr().err
