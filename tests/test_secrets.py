"""Credentials in a base URL (`http://user:PASSWORD@host/v1`) stay secret (issue 30, class 3): a
generate, an eval and a report against a real local server, then every byte they printed and every
file they wrote (parquet and SQLite read as text) is searched for the password."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from datagen.redact import scrub, scrub_text
from fake_openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
SECRET = "PA55w0rd-s3cret"


def text_of(path: Path) -> str:
    """A written file as text: parquet rows and SQLite rows decoded, anything else as bytes."""
    if path.suffix == ".parquet":
        return json.dumps(pq.read_table(path).to_pylist(), default=str)
    raw = path.read_bytes()
    if raw.startswith(b"SQLite format 3"):
        db = sqlite3.connect(path)
        try:
            return "\n".join(db.iterdump())
        finally:
            db.close()
    return raw.decode("utf-8", "replace")


def run(tmp_path, *argv) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATAGEN_LOG": "DEBUG", "DATAGEN_PROGRESS": "1"}
    p = subprocess.run([sys.executable, "-m", "datagen.cli", *argv], cwd=tmp_path, capture_output=True, text=True,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout + p.stderr


def test_a_password_in_the_base_url_is_in_no_output_and_no_file(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": f"Name color {i}.", "output": "x"}) + "\n" for i in range(3)))
    with FakeOpenAIServer() as srv:
        url = srv.url.replace("http://", f"http://user:{SECRET}@") + f"?api_key={SECRET}"
        printed = run(tmp_path, "generate", "--method", "answer", "--seeds", str(seeds), "--out", "runs",
                      "--teacher", "openai", "--base-url", url, "--model", "fake-model")
        printed += run(tmp_path, "eval", "--students", f"openai:fake-model@{url}", "--base", "none", "--limit", "3",
                       "--teacher", "openai", "--base-url", url, "--model", "fake-model", "--out", "evals",
                       "--judge", "false", "--resamples", "200")
        printed += run(tmp_path, "report", "answer", "--runs", "runs", "--out", "report.html")
        printed += run(tmp_path, "show", "answer", "--manifest", "--out", "runs")
        assert srv.posts >= 6  # the runs did reach the server
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != seeds]
    assert {"manifest.json", "summary.json", "provenance.json", "report.html", "responses.sqlite"} <= \
        {p.name for p in files}
    assert "127.0.0.1" in printed and SECRET not in printed
    leaks = [str(p.relative_to(tmp_path)) for p in files if SECRET in text_of(p)]
    assert leaks == []
    m = json.loads(next(tmp_path.rglob("manifest.json")).read_text())
    assert m["teacher"]["base_url"].startswith("http://127.0.0.1:") and "user" not in m["teacher"]["base_url"]


def test_the_scrubber():
    assert scrub_text("at http://u:p@ss@host:99999/v1 now") == "at http://host:99999/v1 now"
    assert scrub_text("openai:m@https://k:x@h/v1?key=abc&api-version=1") == "openai:m@https://h/v1?key=***&api-version=1"
    assert scrub_text("write to a@b.com") == "write to a@b.com"
    assert scrub({"a": ["http://u:p@h/"], "http://u:p@k/": 1}) == {"a": ["http://h/"], "http://k/": 1}
