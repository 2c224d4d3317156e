"""The HTML report opens in headless Chromium with no console error, its funnel equals the
manifest, its plots are there, and a screenshot is kept in test-artifacts/. `datagen diff` on two
versions from a re-filter lists exactly the removed ids."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from datagen.cli import main
from datagen.versions import Rejection, open_version, write_version
from datagen.versions import diff_versions
from datagen.record import Lineage, Record
from datagen.report import build_report, write_report

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VERBS = ["Write", "Explain", "List", "Summarize", "Classify", "Translate", "Describe", "Suggest"]
NOUNS = ["poem", "story", "email", "recipe", "plan", "summary", "list", "letter", "answer"]


def make_records(n: int, method: str = "self_instruct") -> list[Record]:
    out = []
    for i in range(n):
        v, o = VERBS[i % len(VERBS)], NOUNS[(i * 7) % len(NOUNS)]
        instr = f"{v} a {o} about topic number {i} </script><b>bold</b> for the reader."
        out.append(Record.make(instr, "" if i % 3 else f"input {i}", f"Output {i}: " + "word " * (i % 40),
                               lineage=Lineage(method=method, step=i % 3, operation=["", "deepen"][i % 2])))
    return out


@pytest.fixture()
def version(tmp_path):
    recs = make_records(60)
    rejected = [Rejection(r, reason, "filter:quality", "") for r, reason in
                zip(make_records(9, "self_instruct")[::1], ["too_short"] * 4 + ["not_novel"] * 5)]
    rejected = [Rejection(Record.make(f"rejected {i} {j.record.instruction}", lineage=j.record.lineage), j.reason,
                          j.stage, "dup-of-x") for i, j in enumerate(rejected)]
    manifest = {"method": "self_instruct", "seeds": {"path": "bundled:seeds/tasks.jsonl"},
                "counts": {"generated": 69}, "teacher": {"name": "fake"},
                "teacher_stats": {"requests": 70, "succeeded": 69, "failed": 1, "retries": 3, "cache_hits": 5,
                                  "prompt_tokens": 1000, "completion_tokens": 2000, "errors": {"server_error": 1}}}
    return write_version(tmp_path / "runs", "demo", recs, rejected, manifest)


def test_report_contents_match_manifest(version, tmp_path):
    page = build_report(version, prices={"input": 1.0, "output": 2.0})
    m = version.manifest()
    assert f'data-funnel="kept">{m["counts"]["kept"]}<' in page
    assert f'data-funnel="generated">{m["counts"]["generated"]}<' in page
    for reason, n in m["counts"]["dropped"].items():
        assert f'data-funnel="dropped:{reason}">{n}<' in page
    assert page.count("<svg") >= 6
    assert "<b>bold</b>" not in page.split('<script type="application/json"')[0]  # escaped in HTML
    assert "</script><b>" not in page  # and cannot close the data script
    assert 'data-teacher="estimated_cost_usd">0.005<' in page  # 1000*1/1e6 + 2000*2/1e6


def _open_in_chromium(path: Path, shot: Path):
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda req: errors.append("network: " + req.url)
                if not req.url.startswith(("file:", "data:", "about:")) else None)
        page.goto(path.as_uri())
        page.wait_for_selector("#rows tr")
        result = {
            "kept": page.inner_text('[data-funnel="kept"]'),
            "generated": page.inner_text('[data-funnel="generated"]'),
            "svgs": page.locator("svg.chart").count(),
            "rows": page.locator("#rows tr").count(),
        }
        page.fill("#q", "topic number 17 ")
        result["rows_after_search"] = page.locator("#rows tr").count()
        page.select_option("#which", "rejected")
        page.fill("#q", "")
        result["rejected_rows"] = page.locator("#rows tr").count()
        page.select_option("#which", "all")
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return result, errors


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is installed by `make test-setup` (required in CI)")
def test_report_opens_in_headless_chromium(version, tmp_path):
    pytest.importorskip("playwright")
    out = write_report(version, tmp_path / "report.html")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    result, errors = _open_in_chromium(out, shot)
    m = version.manifest()
    assert errors == []
    assert int(result["kept"].replace(",", "")) == m["counts"]["kept"]
    assert int(result["generated"].replace(",", "")) == m["counts"]["generated"]
    assert result["svgs"] >= 6
    assert result["rows"] == m["counts"]["kept"] + m["counts"]["rejected"]
    assert result["rows_after_search"] == 1
    assert result["rejected_rows"] == m["counts"]["rejected"]
    assert shot.stat().st_size > 10_000


def test_diff_lists_exactly_the_removed_ids(version, tmp_path, capsys):
    records = version.records()
    drop = {r.id for r in records[::4]}
    kept = [r for r in records if r.id not in drop]
    rej = [Rejection(r, "near_duplicate", "filter:minhash", records[1].id) for r in records if r.id in drop]
    child = write_version(version.path.parent.parent, "demo", kept, rej,
                          {"method": "filter", "parent": version.ref, "counts": {}})
    d = diff_versions(version, child)
    assert set(d["removed"]) == drop and len(d["removed"]) == len(drop)
    assert d["added"] == [] and d["changed"] == []
    assert main(["diff", str(version.path), str(child.path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert {ln[2:].split("  ")[0] for ln in lines if ln.startswith("- ")} == {i[:12] for i in drop}  # short ids
    by_id = {r.id[:12]: r.instruction for r in records}
    assert all(ln.split("  ", 1)[1] == " ".join(by_id[ln[2:].split("  ")[0]].split())[:80]
               for ln in lines if ln.startswith("- "))  # the instruction text beside each id
    assert not any(ln.startswith(("+ ", "~ ")) for ln in lines)


def test_report_command_and_bad_input(version, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(version.path), "--out", str(out), "--prices", "0.15,0.6"]) == 0
    assert out.stat().st_size > 1000
    assert main(["report", str(version.path), "--out", str(out), "--prices", "cheap"]) == 2
    assert main(["report", str(tmp_path / "nope"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("datagen: error:") for e in err)
    assert json.loads((version.path / "manifest.json").read_text())["counts"]["kept"] == 60
    assert open_version(str(version.path)).ref == "demo/v0001"


def test_report_of_a_refiltered_version_shows_the_generation_parents_teacher(version, tmp_path):
    records = version.records()
    child = write_version(version.path.parent.parent, "demo", records[:-1],
                          [Rejection(records[-1], "too_short", "filter:length", "")],
                          {"method": "filter", "parent": version.ref, "counts": {}})
    page = build_report(child)
    assert 'data-teacher="requests">70<' in page and "calls made by demo/v0001" in page
    assert "Best ROUGE-L against the seed pool (n=59)" in page  # seeds found through the parent


def _mixed_records(n: int) -> list[Record]:
    """Single-turn records, and every fifth a conversation of 1-3 turns."""
    out = make_records(n)
    for i in range(0, n, 5):
        turns = [{"role": "user", "content": f"question {i}"}]
        for t in range(1 + i % 3):
            turns += [{"role": "assistant", "content": f"answer {i}.{t} " * t}, {"role": "user", "content": "more"}]
        out[i] = Record.make(f"chat {i}", messages=turns[:-1], lineage=out[i].lineage)
    return out


def _figures(a: dict) -> dict:
    return {k: v for k, v in a.items() if k not in ("title", "manifest")}


def test_sharded_and_single_file_versions_give_the_same_report(tmp_path, monkeypatch):
    import statistics
    from collections import Counter

    import datagen.report.build as report

    monkeypatch.setattr(report, "ANALYSIS_SAMPLE", 11)  # samples smaller than the version: the draw matters
    monkeypatch.setattr(report, "BROWSE_SAMPLE", 6)
    recs = _mixed_records(83)
    rejected = [Rejection(Record.make(f"dropped {i}", lineage=Lineage(method="x")), "too_short", "filter:length")
                for i in range(29)]
    manifest = {"method": "self_instruct", "counts": {}, "seeds": {"path": "bundled:seeds/tasks.jsonl"}}
    one = write_version(tmp_path / "a", "demo", recs, rejected, manifest)
    sharded = write_version(tmp_path / "b", "demo", recs, rejected, manifest, shard_rows=7)
    assert "shards" not in one.manifest() and len(sharded.files("records")) == 12
    a, b = report.analyse(one), report.analyse(sharded)
    assert _figures(a) == _figures(b)
    assert report.analyse(one, seed=1)["browse"] != a["browse"]  # the seed, not the layout, picks the sample
    words = [len((r.output or "").split()) for r in recs]
    assert a["lengths"]["output"] == Counter(words) and a["lengths"]["median_output"] == statistics.median(words)
    assert a["sample_sizes"] == {"analysis": 11, "records": 83, "rejected": 29}
    assert len({row["id"] for row in a["browse"]}) == 12 and len(a["novelty"]) == 11
    assert a["conversations"]["n"] == 17 and a["conversations"]["turns"] == sorted(
        Counter(r.num_turns for r in recs if r.messages).items())
    assert dict(a["mix"]["operation"]) == Counter(r.lineage.operation or "-" for r in recs)


def test_reservoir_is_uniform_and_does_not_depend_on_batches():
    import pyarrow as pa

    from datagen.report.reservoir import Reservoir

    table = pa.table({"i": list(range(100))})
    picks = []
    for seed in range(2000):
        whole, split = Reservoir(10, seed, "t"), Reservoir(10, seed, "t")
        whole.offer(table.to_batches()[0], lambda row: row["i"])
        for batch in table.to_batches(max_chunksize=7):
            split.offer(batch, lambda row: row["i"])
        assert whole.items == split.items and len(set(whole.items)) == 10 and split.seen == 100
        picks += whole.items
    per_decile = [sum(1 for p in picks if p // 10 == d) for d in range(10)]
    assert all(1800 <= n <= 2200 for n in per_decile), per_decile  # 2,000 expected each (sd ~ 42)
    short = Reservoir(10, 0, "t")
    short.offer(pa.table({"i": [1, 2, 3]}).to_batches()[0], lambda row: row["i"])
    assert short.items == [1, 2, 3]


def test_word_counts_equal_str_split():
    import random

    import pyarrow as pa

    from datagen.report.scan import word_counts

    rng = random.Random(0)
    ascii_pieces = ["a", "Z", ".", "1", " ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x00", "\x7f"]
    other = ["\x85", "\xa0", "\u3000", "\u2009", "é", "東", "🙂"]
    for _ in range(200):
        texts = [None if rng.random() < 0.1 else "".join(
            rng.choice(ascii_pieces + (other if rng.random() < 0.3 else [])) for _ in range(rng.randint(0, 25)))
            for _ in range(rng.randint(0, 30))]
        arr = pa.array(texts, pa.string())
        for a in (arr, arr.slice(min(2, len(arr)))):
            assert word_counts(a).tolist() == [len((t or "").split()) for t in a.to_pylist()]
