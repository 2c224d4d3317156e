"""`datagen review` pairs mode in real Chromium (issue 28, acceptance 1 and 5): label 10 pairs of a pair
version by keyboard alone, kill -9 the server, start it again: it resumes at item 11; the Commit button
writes a pair version of the 10 pairs whose chosen answers are the ones the keys picked (the randomized
sides undone), with lineage `human`; `datagen train reward` trains on it (tiny model). The labelling
speed by keyboard is measured (written to test-artifacts/review-speed.json, not asserted)."""
from __future__ import annotations

import json
import time

import pytest

from datagen.record import Lineage, Record
from datagen.review.journal import journals_sha, read_lines
from datagen.versions import open_version, write_version
from extras import requires
from review_app import ROOT, ReviewServer, chromium_page, needs_chromium, open_app, screenshot_path
from tiny_model import QA, WORSE

pytestmark = needs_chromium
KEYS = ["a", "b", "ArrowLeft", "2", "1", "ArrowRight", "b", "a", "b", "a"]  # 10 labels, A and B mixed


def toy_pairs() -> list[Record]:
    lin = Lineage(method="self_align", teacher="fake")
    return [Record.make(q, output=a, rejected=w, lineage=lin) for q, a in QA for w in WORSE]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("review_pairs")
    write_version(root / "runs", "toy", toy_pairs(), [], {"method": "self_align"})
    (root / "guide.md").write_text("# How to judge\n\n- Prefer the answer that is **correct**.\n- Tie when both "
                                   "are equally good.\n", encoding="utf-8")
    picked, sides, timing = [], [], {}
    with chromium_page() as (page, problems):
        with ReviewServer(["toy", "--annotator", "alice", "--guidelines", "guide.md"], root) as srv:
            open_app(page, srv.url)
            page.wait_for_selector("#pair-pos[data-n='1']")
            assert page.inner_text("#guidelines").startswith("How to judge")
            t0 = time.perf_counter()
            for i, key in enumerate(KEYS):
                a, b, prompt = page.inner_text("#text-a"), page.inner_text("#text-b"), page.inner_text("#prompt")
                side = "A" if key in ("a", "ArrowLeft", "1") else "B"
                picked.append((prompt, {a, b}, a if side == "A" else b))
                sides.append("chosen-on-A" if a in dict(QA).values() else "chosen-on-B")
                page.keyboard.press(key)
                page.wait_for_selector(f"#pair-pos[data-n='{i + 2}']")
            page.wait_for_selector("#saved[data-pending='0'][data-saved='10']")
            timing = {"items": len(KEYS), "seconds": time.perf_counter() - t0}
            page.screenshot(path=str(screenshot_path("review-pairs.png")))
            srv.kill9()  # no goodbye: the journal must already hold every label
        journal = root / "runs" / "toy" / "reviews" / "v0001" / "alice.jsonl"
        lines_after_kill = read_lines(journal)
        with ReviewServer(["toy", "--annotator", "alice"], root) as srv:
            open_app(page, srv.url)
            page.wait_for_selector("#pair-pos[data-n]")
            resumed_at = page.get_attribute("#pair-pos", "data-n")
            page.click("#commit-btn")
            page.wait_for_selector("#commit-btn[data-ref]")
            ref = page.get_attribute("#commit-btn", "data-ref")
        assert problems == [], problems
    timing["items_per_minute"] = 60 * timing["items"] / timing["seconds"]
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "review-speed.json").write_text(json.dumps(timing, indent=2))
    return {"root": root, "picked": picked, "sides": sides, "lines": lines_after_kill, "resumed_at": resumed_at,
            "ref": ref}


def test_every_label_is_in_the_journal_before_the_kill(labelled):
    lines = labelled["lines"]
    assert len(lines) == 10 and [e["n"] for e in lines] == list(range(10))
    assert all(e["annotator"] == "alice" and e["time"] and e["sides"] for e in lines)
    assert [e["label"] for e in lines] == ["A" if k in ("a", "ArrowLeft", "1") else "B" for k in KEYS]


def test_the_restarted_app_resumes_at_item_11(labelled):
    assert labelled["resumed_at"] == "11"


def test_sides_are_randomized_per_item(labelled):
    assert set(labelled["sides"]) == {"chosen-on-A", "chosen-on-B"}


def test_commit_writes_the_pairs_the_keys_chose(labelled):
    root = labelled["root"]
    v = open_version(labelled["ref"], root / "runs")
    assert v.ref == "toy-human/v0001"
    recs = v.records()
    assert len(recs) == 10
    chosen = {(r.instruction, frozenset({r.output, r.rejected})): r.output for r in recs}
    for prompt, both, pick in labelled["picked"]:
        assert chosen[(prompt, frozenset(both))] == pick
    # the keys sometimes picked the worse answer: those pairs are flipped against the source
    assert any(r.output in WORSE for r in recs) and any(r.rejected in WORSE for r in recs)
    m = v.manifest()
    assert m["method"] == "human" and m["parent"] == "toy/v0001"
    assert m["human"]["annotators"] == ["alice"] and m["human"]["mode"] == "pairs"
    assert m["human"]["journal_sha256"] == journals_sha(root / "runs" / "toy" / "reviews" / "v0001")["sha256"]
    assert all(r.lineage.method == "human" and r.lineage.teacher == "human:alice" for r in recs)


@requires("train")
def test_train_reward_runs_on_the_committed_pairs(labelled, tmp_path, capsys):
    from datagen.cli import main
    from tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    assert main(["train", "reward", "--data", labelled["ref"], "--runs", str(labelled["root"] / "runs"),
                 "--model", str(model), "--out", str(tmp_path / "adapters"), "--max_steps", "2", "--num_eval", "2",
                 "--per_device_train_batch_size", "4", "--max_length", "64", "--seed", "0"]) == 0
    prov = json.loads(next((tmp_path / "adapters").rglob("provenance.json")).read_text())
    assert prov["dataset"]["ref"] == "toy-human/v0001" and prov["dataset"]["records_trained"] == 8
