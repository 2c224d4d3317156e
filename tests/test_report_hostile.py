"""A report whose records try to break it (issue 30, class 6): `<!--<script>`, `</script>` and a
script tag in records cannot close or swallow the page's own script (every row shown, search works,
nothing runs), opened in real Chromium; a 1,000,000-character instruction is no error."""
from __future__ import annotations

import os
import shutil

import pytest

from datagen.cli import main
from datagen.record import Lineage, Record
from datagen.report.page import _json_script  # noqa: F401 - the unit under test
from datagen.versions import write_version

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = ["<!--<script>", "</script><script>window.__ran = 1</script>", "<!-- unclosed comment",
           "<img src=x onerror=\"window.__ran = 2\">", "a & b > c", "\u2028line\u2029sep"]


def hostile_version(tmp_path):
    lin = Lineage(method="answer", teacher="fake")
    recs = [Record.make(f"Question {i}: {h}", output=f"Answer {i} {h}", lineage=lin) for i, h in enumerate(HOSTILE)]
    recs += [Record.make(f"Plain question number {i}.", output="Plain answer.", lineage=lin) for i in range(10)]
    recs.append(Record.make("Describe " + "very " * 200_000 + "long things.", output="ok", lineage=lin))
    return write_version(tmp_path / "runs", "hostile", recs, [], {"method": "answer"}), len(recs)


def test_embedded_json_has_no_tag_characters():
    text = _json_script([{"t": s} for s in HOSTILE])
    assert not any(c in text for c in "<>&\u2028\u2029")
    import json
    assert json.loads(text) == [{"t": s} for s in HOSTILE]


def test_a_huge_instruction_makes_a_report(tmp_path, capsys):
    v, n = hostile_version(tmp_path)
    assert max(len(r.instruction) for r in v.records()) > 1_000_000
    assert main(["report", v.ref, "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "r.html")]) == 0, \
        capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is installed by `make test-setup` (required in CI)")
def test_hostile_records_cannot_break_the_page_in_chromium(tmp_path, capsys):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    v, n = hostile_version(tmp_path)
    out = tmp_path / "r.html"
    assert main(["report", v.ref, "--runs", str(tmp_path / "runs"), "--out", str(out)]) == 0
    errors, dialogs = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(out.as_uri())
        page.wait_for_selector("#rows tr")
        rows = page.locator("#rows tr").count()
        page.fill("#q", "<!--<script>")
        found = page.locator("#rows tr").count()
        text = page.inner_text("#rows")
        page.fill("#q", "Plain question number 7")
        plain = page.locator("#rows tr").count()
        ran = page.evaluate("window.__ran || 0")
        browser.close()
    assert errors == [] and dialogs == [] and ran == 0
    assert rows == n and found == 1 and "Question 0: <!--<script>" in text and plain == 1
