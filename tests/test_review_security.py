"""`datagen review` is safe by default (issue 28, acceptance 3): hostile records (`<script>`,
`</script><img onerror>`, `javascript:` links, a 1 MB string) and hostile guidelines render as text in real
Chromium, with no dialog, no console error and no element made from them; the page carries a strict CSP;
a request without the token, from another Host, from another Origin or as a cross-site form is refused."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from datagen.record import Lineage, Record
from datagen.versions import write_version
from review_app import ReviewServer, chromium_page, needs_chromium, open_app

SCRIPT = "<script>alert('script')</script>"
IMG = "</script><img src=x onerror=alert('img')>"
LINK = "[click me](javascript:alert('link')) javascript:alert('bare')"
BIG = ("<b>big</b>" + "x" * 990) * 1000  # 1,000,000 characters


def hostile() -> list[Record]:
    lin = Lineage(method="self_align")
    return [Record.make(SCRIPT, LINK, output=IMG, rejected=SCRIPT + " worse", lineage=lin),
            Record.make("A long one " + IMG, output=BIG, rejected="short", lineage=lin),
            Record.make("Links " + LINK, output="<a href=\"javascript:alert('a')\">x</a>", rejected=IMG, lineage=lin)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("review_hostile")
    write_version(root / "runs", "evil", hostile(), [], {"method": "self_align"})
    (root / "guide.md").write_text(f"# Guide {SCRIPT}\n\n- {IMG}\n- {LINK}\n", encoding="utf-8")
    with ReviewServer(["evil", "--annotator", "ann", "--guidelines", "guide.md"], root) as srv:
        yield srv


@needs_chromium
def test_hostile_records_render_as_text(server):
    with chromium_page() as (page, problems):
        open_app(page, server.url)
        page.wait_for_selector("#pair-pos[data-n='1']")
        texts = [page.inner_text("#prompt"), page.inner_text("#text-a"), page.inner_text("#text-b")]
        assert page.inner_text("#guidelines").startswith(f"Guide {SCRIPT}") and IMG in page.inner_text("#guidelines")
        page.keyboard.press("m")  # records mode: every field of every record
        page.wait_for_selector("#rec-pos[data-i='0']")
        shown = []
        for i in range(3):
            page.wait_for_selector(f"#rec-pos[data-i='{i}']")
            shown.append({k: page.eval_on_selector(f"#rec-{k}", "e => e.textContent")
                          for k in ("instruction", "input", "output", "rejected")})
            page.keyboard.press("j")
        counts = {tag: page.locator(f"main {tag}, header {tag}, aside {tag}").count() for tag in ("img", "a", "script")}
        assert problems == [], problems
    assert SCRIPT in texts[0] and IMG in " ".join(texts[1:])
    assert shown[0] == {"instruction": SCRIPT, "input": LINK, "output": IMG, "rejected": SCRIPT + " worse"}
    assert shown[1]["output"] == BIG and len(shown[1]["output"]) == 1_000_000
    assert counts == {"img": 0, "a": 0, "script": 0}


def fetch(url: str, headers: dict | None = None, data: bytes | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_requests_without_the_token_are_refused(server):
    base, token = server.base, server.token
    ok, headers, body = fetch(server.url)
    assert ok == 200 and "script-src 'self'" in headers["Content-Security-Policy"]
    assert b"<script>" not in body and b"onclick" not in body.lower() and b"style=" not in body
    assert fetch(base + "/")[0] == 403
    assert fetch(base + "/static/app.js")[0] == 403
    assert fetch(f"{base}/static/app.js?token={token}")[0] == 200
    assert fetch(f"{base}/api/info?token={token}")[0] == 403  # the API takes the token from a header only
    assert fetch(base + "/api/info", {"X-Review-Token": "0" * 48})[0] == 403
    status, headers, _ = fetch(base + "/api/info", {"X-Review-Token": token})
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    # DNS rebinding: the right token under another Host name is refused
    assert fetch(base + "/api/info", {"X-Review-Token": token, "Host": "evil.example:80"})[0] == 403


def test_state_changing_requests_need_the_origin_and_json(server):
    base, token = server.base, server.token
    body = json.dumps({"label": "A"}).encode()
    url = base + "/api/pairs/pairs/0"
    json_ct = {"Content-Type": "application/json", "X-Review-Token": token}
    assert fetch(url, json_ct, body)[0] == 403  # no Origin
    assert fetch(url, {**json_ct, "Origin": "http://evil.example"}, body)[0] == 403
    assert fetch(url, {"Content-Type": "text/plain", "X-Review-Token": token, "Origin": base}, body)[0] == 415
    assert fetch(url, {**json_ct, "Origin": base}, b"[1]")[0] == 400
    assert fetch(url, {**json_ct, "Origin": base}, json.dumps({"label": "<script>"}).encode())[0] == 400
    assert fetch(url, {**json_ct, "Origin": base}, body)[0] == 200


def test_loopback_by_default_and_other_hosts_only_by_name(server):
    from datagen.review.security import allowed_hosts

    assert server.url.startswith("http://127.0.0.1:")
    assert allowed_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    assert allowed_hosts("192.168.1.5", 8000) == {"192.168.1.5:8000"}  # an explicit --host answers only its name
