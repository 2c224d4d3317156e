"""The examples of docs/contributing.md ("Adding a method or a filter"), run as written: the files and
registry lines are taken from the page, the method makes a version and the filter filters it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "contributing.md"
BLOCK = re.compile(r"<!-- (file|registry): (\S+) -->\n```\w*\n(.*?)```", re.S)


def blocks() -> dict[tuple[str, str], str]:
    return {(kind, path): body for kind, path, body in BLOCK.findall(PAGE.read_text(encoding="utf-8"))}


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The example files under tmp_path, found as datagen.methods.* / filters.* modules, and the
    page's registry lines added to the registries (the one-line change a contributor makes)."""
    import datagen.methods as M
    import datagen.session
    import filters as F
    from datagen.teacher import FakeTeacher

    found = blocks()
    for (kind, path), body in found.items():
        if kind == "file":
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(body, encoding="utf-8")
    monkeypatch.setattr(M, "__path__", [*M.__path__, str(tmp_path / "datagen" / "methods")])
    monkeypatch.setattr(F, "__path__", [*F.__path__, str(tmp_path / "filters")])
    for registry, env in ((M.METHODS, {"_Lazy": M._Lazy}), (F.FILTERS, {})):
        line = found[("registry", "datagen/methods/__init__.py" if registry is M.METHODS else "filters/__init__.py")]
        for name, entry in eval("{" + line + "}", env).items():  # noqa: S307 - our own docs text
            monkeypatch.setitem(registry, name, entry)
    monkeypatch.setattr(datagen.session, "make_teacher",
                        lambda cfg: FakeTeacher(lambda r: ' "Please ' + r.messages[-1]["content"].split("\n\n")[-1]
                                                + '" '))
    return tmp_path


def test_the_page_shows_both_examples():
    found = blocks()
    assert {k for k, _ in found} == {"file", "registry"} and len(found) == 5


def test_the_example_method_and_filter_run(installed, capsys):
    from datagen.cli import main
    from datagen.versions import list_versions

    seeds = installed / "seeds.jsonl"
    rows = [("Name a color.", "Blue is a fine color."), ("List three planets you can see at night.", "Mars.")]
    seeds.write_text("".join(json.dumps({"instruction": i, "input": "", "output": o}) + "\n" for i, o in rows))
    out = installed / "runs"
    argv = ["generate", "--method", "paraphrase", "--seeds", str(seeds), "--out", str(out), "--max-tokens", "64",
            "--temperature", "0.7", "--seed", "0", "--templates", str(installed / "prompts")]
    assert main(argv) == 0
    (v,) = list_versions(out, "paraphrase")
    recs = v.records()
    assert [r.instruction for r in recs] == ["Please Name a color.", "Please List three planets you can see at night."]
    assert [r.output for r in recs] == [o for _, o in rows]
    assert all(r.lineage.method == "paraphrase" and r.lineage.template == "paraphrase/rewrite" for r in recs)
    assert v.manifest()["templates"]["paraphrase/rewrite"]

    assert main(["generate", "--method", "paraphrase", "--help"]) == 0
    assert "--method_cfg.limit (default None, min 1): paraphrase only the first N records" in capsys.readouterr().out

    assert main(["filter", "--from", v.ref, "--out", str(out), "--filters", "answer_ratio",
                 "--answer_ratio.ratio", "0.8"]) == 0
    child = list_versions(out, "paraphrase")[-1]
    assert [r.output for r in child.records()] == ["Blue is a fine color."]
    assert [(j.reason, j.detail) for j in child.rejected()] == [("short_answer", "1 < 0.8 x 9")]
    assert main(["filters"]) == 0 and "answer_ratio [per_record]" in capsys.readouterr().out
    assert main(["filter", "--from", v.ref, "--out", str(out), "--filters", "answer_ratio",
                 "--answer_ratio.ratio", "-1"]) == 2
    assert "answer_ratio.ratio: must be >= 0.0, got -1" in capsys.readouterr().err
