"""Options that were quietly wrong (issue 30, class 7) are now errors or right: NaN numbers, select's two
models, report prices, an empty --tree=, control characters from records on a terminal, and a run
identity that settings pacing the requests do not change."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import datagen.session
from bad_input import one_error
from datagen.cli import main
from datagen.record import Lineage, Record
from datagen.teacher import FakeTeacher
from datagen.versions import list_versions, write_version

ROOT = Path(__file__).resolve().parent.parent




@pytest.fixture
def runs(tmp_path):
    lin = Lineage(method="answer", teacher="fake")
    recs = [Record.make("Ring \x07 the bell, clear \x1b[2J the screen, \x1b]0;title\x07 retitle?",
                        output="Beep \x07 \x1b[31mred\x1b[0m", lineage=lin)]  # first: the card shows it
    recs += [Record.make(f"Question {i}?", output=f"Answer {i}", lineage=lin) for i in range(6)]
    write_version(tmp_path / "runs", "demo", recs, [], {"method": "answer"})
    return tmp_path / "runs"


def test_nan_and_infinite_numbers_are_errors(runs, capsys):
    for value in ("nan", "inf", "-inf"):
        err = one_error(capsys, ["select", "--from", "demo", "--out", str(runs), "--budget", "2", "--seed", "0",
                                 "--threshold", value])
        assert "threshold: expected a finite number" in err


def test_select_model_is_the_teachers_and_says_so(runs, capsys, tmp_path):
    err = one_error(capsys, ["select", "--from", "demo", "--out", str(runs), "--budget", "2", "--seed", "0",
                             "--model", str(tmp_path)])
    assert "--embedding-model" in err
    assert main(["select", "--help"]) == 0 and "--embedding_model" in capsys.readouterr().out


@pytest.mark.parametrize("prices", ["-1,2", "nan,1", "1,inf", "0.1,0.2,-0.1,0.1"])
def test_report_prices_are_finite_and_not_negative(runs, capsys, tmp_path, prices):
    err = one_error(capsys, ["report", "demo", "--runs", str(runs), "--out", str(tmp_path / "r.html"),
                             "--prices", prices])
    assert "--prices takes two numbers (0 or more)" in err


def test_an_empty_tree_is_an_error_not_the_card(runs, capsys):
    assert "--tree needs a record id" in one_error(capsys, ["show", "demo", "--out", str(runs), "--tree="])
    assert "--tree needs a value" in one_error(capsys, ["show", "demo", "--out", str(runs), "--tree"])


def test_show_escapes_control_characters_on_a_terminal_only(runs):
    argv = [sys.executable, "-m", "datagen.cli", "show", "demo", "--out", str(runs)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the pty closes when the process ends
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(60) == 0
    assert b"\x1b" not in out and b"\x07" not in out and b"\\x1b[2J" in out and b"\\x07" in out
    piped = subprocess.run(argv, capture_output=True, env=env, timeout=60).stdout
    assert b"\x1b[2J" in piped  # to a file or a pipe the text is written as it is


def test_settings_that_pace_requests_do_not_change_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(datagen.session, "make_teacher", lambda cfg: FakeTeacher(lambda r: "An answer."))
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": f"Name color {i}.", "output": "x"}) + "\n" for i in range(3)))
    base = ["generate", "--method", "answer", "--seeds", str(seeds), "--out", str(tmp_path / "runs")]
    assert main(base) == 0
    for extra in (["--concurrency", "3"], ["--timeout", "7"], ["--teacher.max_retries", "1"],
                  ["--teacher.requests_per_second", "5", "--teacher.tokens_per_minute", "9000"]):
        assert main(base + extra) == 0
        assert "unchanged" in capsys.readouterr().out
    assert [v.version for v in list_versions(tmp_path / "runs", "answer")] == ["v0001"]
    assert main(base + ["--temperature", "0.3"]) == 0  # a setting that changes answers still counts
    assert len(list_versions(tmp_path / "runs", "answer")) == 2
