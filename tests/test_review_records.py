"""`datagen review` records mode in real Chromium (issue 28, acceptance 2): filter, edit one output and
reject one record with a reason by keyboard, commit: a child version with the edit (a new id, lineage
`human`) and the rejection (reason `human:<text>`, stage human), and `datagen diff` shows both."""
from __future__ import annotations

import pytest

from datagen.cli import main
from datagen.record import Lineage, Record
from datagen.versions import Rejection, open_version, write_version
from review_app import ReviewServer, chromium_page, needs_chromium, open_app

pytestmark = needs_chromium


def records() -> list[Record]:
    return [Record.make(f"Write line {i} of the poem about {['rain', 'sun', 'snow'][i % 3]}.", output=f"Line {i}.",
                        lineage=Lineage(method=["self_instruct", "evol_instruct"][i % 2], step=i % 3),
                        meta={"judge_score": i % 10}) for i in range(12)]


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    root = tmp_path_factory.mktemp("review_records")
    rejected = [Rejection(Record.make(f"Too short {i}", output="x"), "too_short", "filter:quality", "3 words")
                for i in range(3)]
    write_version(root / "runs", "poems", records(), rejected, {"method": "self_instruct"})
    seen = {}
    with chromium_page() as (page, problems), ReviewServer(["poems", "--annotator", "ann"], root) as srv:
        open_app(page, srv.url)
        page.wait_for_selector("#rec-pos[data-i='0']")
        page.select_option("#f-verdict", "rejected")
        page.wait_for_selector("#rec-pos[data-i='12']")
        seen["rejected_shown"] = page.inner_text("#rec-pos")
        page.select_option("#f-verdict", "")
        page.keyboard.press("/")
        page.keyboard.type("about snow")
        page.wait_for_selector("#rec-pos[data-shown='4']")
        page.fill("#f-q", "")
        page.wait_for_selector("#rec-pos[data-shown='15']")
        page.keyboard.press("Escape")  # leave the search field: keys act on records again
        page.keyboard.press("j")  # record 1: edit its output
        page.wait_for_selector("#rec-pos[data-i='1']")
        page.keyboard.press("e")
        page.fill("#edit-text", "Line 1, corrected by a person.")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector("#rec-edited:not([hidden])")
        seen["edited_text"] = page.inner_text("#rec-output")
        page.keyboard.press("j")  # record 2: reject it with a reason
        page.wait_for_selector("#rec-pos[data-i='2']")
        page.keyboard.press("r")
        page.keyboard.type("off topic")
        page.keyboard.press("Enter")
        page.wait_for_selector("#rec-pos[data-i='3']")
        page.keyboard.press("k")
        page.wait_for_selector("#rec-badges[data-human='rejected']")
        page.keyboard.press("?")
        seen["help"] = page.inner_text("#overlay")
        page.keyboard.press("Escape")
        page.wait_for_selector("#saved[data-pending='0'][data-saved='2']")
        page.click("#commit-btn")
        page.wait_for_selector("#commit-btn[data-ref]")
        seen["ref"] = page.get_attribute("#commit-btn", "data-ref")
        assert problems == [], problems
    return {"root": root, **seen}


def test_filters_and_help(reviewed):
    assert "of 3 shown" in reviewed["rejected_shown"]
    assert "reject with a reason" in reviewed["help"] and "edit the output" in reviewed["help"]
    assert reviewed["edited_text"] == "Line 1, corrected by a person."


def test_commit_writes_a_child_with_the_edit_and_the_rejection(reviewed):
    runs = reviewed["root"] / "runs"
    parent, child = open_version("poems/v0001", runs), open_version(reviewed["ref"], runs)
    assert child.ref == "poems/v0002" and child.manifest()["parent"] == "poems/v0001"
    kept = child.records()
    assert len(kept) == 11
    edited = [r for r in kept if r.output == "Line 1, corrected by a person."]
    assert len(edited) == 1 and edited[0].lineage.method == "human" and edited[0].lineage.teacher == "human:ann"
    assert edited[0].lineage.parents == (parent.records()[1].id,)
    (rej,) = child.rejected()
    assert rej.reason == "human:off topic" and rej.stage == "human" and rej.record.id == parent.records()[2].id
    assert child.manifest()["human"]["edited"] == 1 and child.manifest()["human"]["rejected"] == 1


def test_diff_shows_the_edit_and_the_rejection(reviewed, capsys):
    runs = reviewed["root"] / "runs"
    assert main(["diff", "poems/v0001", reviewed["ref"], "--out", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "1 added, 2 removed, 1 changed" in out
    parent = open_version("poems/v0001", runs).records()
    assert f"- {parent[2].id[:12]}" in out and f"~ {parent[1].id[:12]} -> " in out
