"""Errors that tell the truth (issue 30, class 4): a full disk says "disk full" and keeps the response
cache (a real tmpfs where this machine lets the test mount one, else an injected SQLITE_FULL), SIGTERM
ends a run with one line, and user-caused errors (one bad row, a bad port, a garbage proxy, a file as
--out, a bogus DATAGEN_LOG) are one `datagen: error:` line with exit 2."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import datagen.session
from bad_input import one_error
from datagen.cli import main
from datagen.teacher import FakeTeacher
from datagen.versions import list_versions, open_version
from fake_openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
DEAD = "http://127.0.0.1:9/v1"




def seeds(tmp_path, n: int = 3) -> str:
    p = tmp_path / "seeds.jsonl"
    p.write_text("".join(json.dumps({"instruction": f"Name color number {i}.", "output": "x"}) + "\n"
                         for i in range(n)))
    return str(p)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs when mounting is allowed (root in a privileged container), else None."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_says_so_and_keeps_the_cache(tmp_path, capsys, monkeypatch, small_disk):
    asked = []
    monkeypatch.setattr(datagen.session, "make_teacher", lambda cfg: FakeTeacher(
        lambda r: asked.append(1) or "An answer. " + "x" * 40_000))
    runs = (small_disk or tmp_path) / "runs"
    filler = (small_disk or tmp_path) / "filler"
    argv = ["generate", "--method", "answer", "--seeds", seeds(tmp_path, 30), "--out", str(runs)]
    if small_disk is not None:
        filler.write_bytes(b"\0" * (3 << 20))  # 1 MB left: the 30 answers (1.2 MB) do not fit
    else:  # no tmpfs here: SQLite reports a full disk from the 10th answer on
        import datagen.cache as cache_module
        real_put = cache_module.ResponseCache.put

        def full_put(self, key, teacher, completion):
            if len(self) >= 10:
                raise self.damaged(sqlite3.OperationalError("database or disk is full"))
            real_put(self, key, teacher, completion)

        monkeypatch.setattr(cache_module.ResponseCache, "put", full_put)
    err = one_error(capsys, argv)
    assert "disk full" in err and "damaged" not in err and "delete" not in err
    db = sqlite3.connect(runs / ".cache" / "responses.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kept = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    db.close()
    assert 0 < kept < 30 and not list_versions(runs, "answer")
    if small_disk is not None:
        filler.unlink()
    else:
        monkeypatch.setattr(cache_module.ResponseCache, "put", real_put)
    asked.clear()
    assert main(argv) == 0
    assert len(asked) == 30 - kept  # the rerun asked only for what the cache did not keep
    assert open_version("answer", runs).manifest()["counts"]["kept"] == 30


def test_sigterm_ends_a_run_with_one_line_and_the_rerun_continues(tmp_path):
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAIServer(latency=0.2) as srv:
        argv = [sys.executable, "-m", "datagen.cli", "generate", "--method", "answer", "--seeds", seeds(tmp_path, 40),
                "--out", str(tmp_path / "runs"), "--teacher", "openai", "--base-url", srv.url, "--model", "m",
                "--concurrency", "2", "--cache", str(cache)]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATAGEN_PROGRESS": "0"}
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and srv.posts < 4:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=60)[1]
        assert proc.returncode == 143, err
        assert err.strip().splitlines()[-1].startswith("datagen: terminated (SIGTERM)") and "Traceback" not in err
        assert not list_versions(tmp_path / "runs", "answer")
        before = srv.posts
        assert subprocess.run(argv, env=env, capture_output=True, timeout=300).returncode == 0
        assert srv.posts - before < 40  # the answers received before SIGTERM came from the cache


def test_one_bad_row_does_not_abort_an_import(tmp_path, capsys):
    src = tmp_path / "data.jsonl"
    src.write_text('{"instruction": "Good one.", "output": "Fine."}\n'
                   '{"instruction": "Lone \\ud800 surrogate.", "output": "Bad."}\n'
                   '{"instruction": "Not a number.", "output": NaN}\n'
                   '{"instruction": "Another good one.", "output": "Fine too."}\n')
    assert main(["import", str(src), "--name", "mine", "--out", str(tmp_path / "runs")]) == 0
    v = open_version("mine", tmp_path / "runs")
    assert [r.output for r in v.records()] == ["Fine.", "Fine too."]
    why = {j.detail.split(": ", 1)[1] for j in v.rejected()}
    assert any("lone surrogate" in w for w in why) and any("'output' is nan" in w for w in why)
    assert "nan" not in {r.output for r in v.records()}


@pytest.mark.parametrize("env, flags, message", [
    ({}, ["--base-url", "http://127.0.0.1:99999/v1"], "port must be a number from 1 to 65535"),
    ({"HTTP_PROXY": "http://[::1"}, ["--base-url", "http://example.invalid/v1"], "proxy"),
    ({"HTTP_PROXY": "http://proxy:99999"}, ["--base-url", "http://example.invalid/v1"], "not a usable URL"),
])
def test_bad_addresses_are_one_line(tmp_path, capsys, monkeypatch, env, flags, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", seeds(tmp_path), "--out",
                             str(tmp_path / "runs"), "--teacher", "openai", "--model", "m", *flags])
    assert message in err


def test_a_file_as_out_and_a_bogus_log_level_are_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "runs").write_text("I am a file")
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", seeds(tmp_path), "--out",
                             str(tmp_path / "runs"), "--teacher", "openai", "--base-url", DEAD, "--model", "m"])
    assert "not a folder" in err
    monkeypatch.setenv("DATAGEN_LOG", "bogus")
    assert "DATAGEN_LOG='bogus' is no log level" in one_error(capsys, ["versions", "--out", str(tmp_path)])
