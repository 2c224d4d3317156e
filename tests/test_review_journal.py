"""The review journal: one fsynced JSON line per action with annotator and time, beside the version in
a sibling reviews/ folder; a torn last line (kill -9 mid-write) is cut, not fatal; a damaged line in the
middle is named; the sha over the files changes with any action."""
from __future__ import annotations

import json

import pytest

from datagen.errors import DatagenError
from datagen.review.journal import Journal, check_annotator, journal_dir, journals_sha, read_journals


def test_lines_are_appended_with_annotator_time_and_sequence(tmp_path):
    folder = journal_dir(tmp_path / "runs" / "demo" / "v0002")
    assert folder == tmp_path / "runs" / "demo" / "reviews" / "v0002"
    j = Journal(folder, "alice")
    j.append({"mode": "pairs", "item": "k1", "action": "label", "choice": "chosen"})
    j.append({"mode": "pairs", "item": "k2", "action": "label", "choice": "tie"})
    lines = [json.loads(x) for x in (folder / "alice.jsonl").read_text().splitlines()]
    assert [x["seq"] for x in lines] == [0, 1] and all(x["annotator"] == "alice" and x["time"] for x in lines)
    assert Journal(folder, "alice").seq == 2  # a restart continues the sequence
    Journal(folder, "bob").append({"mode": "pairs", "item": "k1", "action": "label", "choice": "rejected"})
    assert [(e["annotator"], e["item"]) for e in read_journals(folder)] == [("alice", "k1"), ("alice", "k2"),
                                                                             ("bob", "k1")]


def test_a_torn_last_line_is_cut_and_the_rest_kept(tmp_path):
    j = Journal(tmp_path, "alice")
    j.append({"mode": "records", "item": "a", "action": "accept"})
    sha = journals_sha(tmp_path)
    with open(j.path, "ab") as f:
        f.write(b'{"mode": "records", "item": "b", "act')  # killed mid-write: never acknowledged
    assert [e["item"] for e in read_journals(tmp_path)] == ["a"]
    assert journals_sha(tmp_path) == sha  # the torn tail is not part of the lineage
    j2 = Journal(tmp_path, "alice")
    j2.append({"mode": "records", "item": "c", "action": "accept"})
    assert [e["item"] for e in read_journals(tmp_path)] == ["a", "c"]
    assert journals_sha(tmp_path) != sha


def test_a_damaged_middle_line_is_named(tmp_path):
    (tmp_path / "alice.jsonl").write_text('{"v": 1, "item": "a"}\nnot json\n{"v": 1, "item": "b"}\n')
    with pytest.raises(DatagenError, match="alice.jsonl is damaged at line 2"):
        read_journals(tmp_path)


@pytest.mark.parametrize("bad", ["", "../x", ".hidden", "a b", "x" * 65])
def test_annotator_names_are_checked(bad):
    with pytest.raises(DatagenError, match="invalid annotator"):
        check_annotator(bad)
