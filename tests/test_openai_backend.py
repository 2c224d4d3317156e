"""OpenAICompatTeacher against the fault-injecting fake server (loopback only)."""
import email.utils
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_openai_server import FAULTS, FakeOpenAIServer, reply_text

from datagen import cli
from datagen.backends import TeacherConfig
from datagen.backends.openai_compat import OpenAICompatTeacher, is_local, safe_url
from datagen.backends.openai_errors import retry_after_seconds
from datagen.versions import list_versions
from datagen.errors import DatagenError
from datagen.progress import Progress
from datagen.run import run
from datagen.teacher import Request, Sampling

FAST = {"retry_initial": 0.01, "retry_max": 0.05}  # keep backoff short in tests


@pytest.fixture
def make_teacher(fake_openai):
    def make(**kw):
        kw.setdefault("options", dict(FAST))
        t = OpenAICompatTeacher(TeacherConfig(backend="openai", model="fake-model", base_url=fake_openai.url, **kw))
        return t

    return make


def req(text, n=1, seed=1, max_tokens=50, prompt=None):
    return Request(messages=[{"role": "user", "content": text}], prompt=prompt, key=text,
                   sampling=Sampling(max_tokens=max_tokens, temperature=0.7, n=n, seed=seed))


def seeds_file(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"instruction": f"Task number {i}: say something.", "input": "",
                                        "output": "x"}) + "\n" for i in range(n)))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_order_preserved_and_on_result(fake_openai, make_teacher):
    fake_openai.latency = 0.005
    t = make_teacher(concurrency=8)
    seen = {}
    reqs = [req(f"q{i}", seed=i) for i in range(40)]
    out = t.complete(reqs, on_result=lambda i, c: seen.setdefault(i, c))
    assert [c.text for c in out] == [reply_text(f"q{i}", i, 0) for i in range(40)]
    assert [c.key for c in out] == [f"q{i}" for i in range(40)]
    assert sorted(seen) == list(range(40)) and all(seen[i] is out[i] for i in range(40))
    assert t.name == "openai:fake-model"
    assert (t.stats.requests, t.stats.succeeded, t.stats.failed) == (40, 40, 0)
    assert t.stats.completion_tokens == sum(len(c.text.split()) for c in out)


def test_n_honoured_in_one_request(fake_openai, make_teacher):
    [c] = make_teacher().complete([req("hi", n=3, seed=4)])
    assert [ch.text for ch in c.choices] == [reply_text("hi", 4, i) for i in range(3)]
    assert fake_openai.posts == 1 and fake_openai.bodies[0]["n"] == 3


def test_n_fans_out_when_server_ignores_it(fake_openai, make_teacher):
    fake_openai.ignore_n = True  # llama.cpp's server behaviour
    [c] = make_teacher().complete([req("hi", n=3, seed=4)])
    assert [ch.text for ch in c.choices] == [reply_text("hi", 4, 0), reply_text("hi", 5, 0), reply_text("hi", 6, 0)]
    assert fake_openai.posts == 3
    assert sorted(b.get("seed") for b in fake_openai.bodies) == [4, 5, 6]


def test_finish_reason_length_surfaced(fake_openai, make_teacher):
    t = make_teacher()
    [short] = t.complete([req("a long question here", max_tokens=2)])
    assert short.finish_reason == "length" and short.text == "Re: a"
    fake_openai.inject("truncated")
    [cut] = t.complete([req("another question")])
    assert cut.finish_reason == "length" and cut.ok
    [full] = t.complete([req("another question")])
    assert full.finish_reason == "stop" and full.text == reply_text("another question", 1, 0)


@pytest.mark.parametrize("kind", [k for k in FAULTS if k != "truncated"])
def test_each_fault_kind_is_retried(fake_openai, make_teacher, kind):
    t = make_teacher(timeout=0.5)
    fake_openai.inject(kind)
    [c] = t.complete([req("q")])
    assert c.ok and c.text == reply_text("q", 1, 0)
    assert t.stats.retries == 1 and t.stats.failed == 0
    assert fake_openai.counts == {kind: 1, "ok": 1}


def test_failure_after_retries_is_a_completion_not_an_exception(fake_openai, make_teacher):
    t = make_teacher(max_retries=2)
    fake_openai.inject("500", "500", "500")
    [bad] = t.complete([req("bad")])
    assert not bad.ok and bad.key == "bad" and bad.error.startswith("server_error: HTTP 500")
    [good] = t.complete([req("good")])
    assert good.ok
    assert (t.stats.requests, t.stats.failed, t.stats.succeeded, t.stats.retries) == (2, 1, 1, 2)
    assert t.stats.errors == {"server_error": 1} and fake_openai.posts == 4


def test_retry_after_seconds_is_honoured(fake_openai, make_teacher):
    fake_openai.retry_after = "0.6"
    fake_openai.inject("429")
    [c] = make_teacher().complete([req("q")])
    waited = fake_openai.times[1] - fake_openai.times[0]
    assert c.ok and 0.55 <= waited < 3.0  # the backoff alone would be ~0.01 s


def test_retry_after_http_date_is_honoured(fake_openai, make_teacher):
    fake_openai.retry_after = email.utils.formatdate(time.time() + 2, usegmt=True)  # 1 s resolution
    fake_openai.inject("503")
    [c] = make_teacher().complete([req("q")])
    waited = fake_openai.times[1] - fake_openai.times[0]
    assert c.ok and 0.9 <= waited < 4.0


def test_retry_after_parsing():
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize("limit", [{"requests_per_second": 10}, {"requests_per_minute": 600},
                                   {"tokens_per_second": 505}, {"tokens_per_minute": 30300}])
def test_rate_limits_are_respected(fake_openai, make_teacher, limit):
    # 25 requests; each costs 1 request and len("qNN")/4 + 50 ~ 50.5 tokens: a bucket holds one
    # second's worth (10 requests or 505 tokens), the other 15 wait ~1.5 s at 10 per second.
    t = make_teacher(concurrency=16, **limit)
    t0 = time.monotonic()
    out = t.complete([req(f"q{i:02d}") for i in range(25)])
    elapsed = time.monotonic() - t0
    assert all(c.ok for c in out)
    assert 1.3 <= elapsed < 8.0  # the lower bound is the limit; the upper one only catches a hang
    times = sorted(fake_openai.times)
    assert max(sum(1 for x in times if a <= x < a + 1.0) for a in times) <= 21  # burst 10 + 10 per second


def test_completions_endpoint(fake_openai, make_teacher):
    t = make_teacher(endpoint="completions")
    [c] = t.complete([req("hello")])
    assert c.text == reply_text("hello", 1, 0)
    [p] = make_teacher().complete([req("ignored", prompt="raw prompt")])  # Request.prompt -> completions
    assert p.text == reply_text("raw prompt", 1, 0)
    assert fake_openai.paths["/v1/completions"] == 2 and fake_openai.paths["/v1/chat/completions"] == 0


def test_missing_key_for_the_real_api_is_an_error(monkeypatch):
    monkeypatch.delenv("DATAGEN_TEST_MISSING_KEY", raising=False)
    with pytest.raises(DatagenError, match="DATAGEN_TEST_MISSING_KEY"):
        OpenAICompatTeacher(TeacherConfig(backend="openai", model="gpt-4o-mini", api_key_env="DATAGEN_TEST_MISSING_KEY",
                                          base_url="https://api.openai.com/v1"))
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")  # the default comes from env
    with pytest.raises(DatagenError, match="DATAGEN_TEST_MISSING_KEY"):
        OpenAICompatTeacher(TeacherConfig(backend="openai", model="m", api_key_env="DATAGEN_TEST_MISSING_KEY"))


def test_local_server_without_key_gets_a_dummy(fake_openai, make_teacher, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert make_teacher().complete([req("q")])[0].ok
    assert fake_openai.auth == {"Bearer sk-no-key"}


def test_config_errors():
    with pytest.raises(DatagenError, match="--model"):
        OpenAICompatTeacher(TeacherConfig(backend="openai", base_url="http://127.0.0.1:1/v1"))
    with pytest.raises(DatagenError, match="retry_initail"):
        OpenAICompatTeacher(TeacherConfig(backend="openai", model="m", base_url="http://127.0.0.1:1/v1",
                                          options={"retry_initail": 1}))


def test_refused_key_ends_with_one_line(monkeypatch):
    monkeypatch.setenv("DATAGEN_TEST_KEY", "sk-wrong-key-123456")
    with FakeOpenAIServer(api_key="sk-right") as srv:
        t = OpenAICompatTeacher(TeacherConfig(backend="openai", model="m", base_url=srv.url,
                                              api_key_env="DATAGEN_TEST_KEY"))
        with pytest.raises(DatagenError, match=r"refused the API key from \$DATAGEN_TEST_KEY") as exc:
            t.complete([req("q")])
    assert "sk-wrong-key-123456" not in str(exc.value) and srv.posts == 0


def test_wrong_path_fails_with_one_line(fake_openai):
    t = OpenAICompatTeacher(TeacherConfig(backend="openai", model="m", base_url=fake_openai.url[: -len("/v1")]))
    with pytest.raises(DatagenError, match="refused every request: not_found: HTTP 404"):
        t.complete([req("a"), req("b")])


def test_url_helpers():
    assert [is_local(u) for u in ("http://127.0.0.1:8080/v1", "http://localhost/v1", "http://10.0.0.5/v1",
                                  "http://vllm:8000/v1", "https://api.openai.com/v1", "https://8.8.8.8/v1")] \
        == [True, True, True, True, False, False]
    assert safe_url("https://user:pw@host.example:8443/v1?key=abc") == "https://host.example:8443/v1"


def test_unreachable_server_fails_the_run_with_one_line(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    code = cli.main(["generate", "--method", "answer", "--teacher", "openai", "--base-url", url, "--model", "m",
                     "--seeds", str(seeds_file(tmp_path / "s.jsonl", 3)), "--out", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(f"datagen: error: cannot reach {url}") and "\n" not in err
    assert "connection refused" in err
    assert not list_versions(tmp_path / "runs", "answer")


def test_api_key_never_written(fake_openai, tmp_path):
    """A full CLI run with a distinctive key: the server gets it, no file, log or output holds it."""
    key = "sk-DATAGEN-LEAK-CANARY-7f3a9c"
    env = {**os.environ, "DATAGEN_TEST_KEY": key, "DATAGEN_LOG": "DEBUG"}
    out = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-m", "datagen.cli", "generate", "--method", "answer", "--teacher", "openai",
         "--base-url", fake_openai.url, "--model", "fake-model", "--api-key-env", "DATAGEN_TEST_KEY",
         "--seeds", str(seeds_file(tmp_path / "s.jsonl", 5)), "--out", str(out)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert fake_openai.auth == {f"Bearer {key}"} and fake_openai.posts == 5
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any("sqlite" in p.name for p in files)
    for p in files:
        assert key.encode() not in p.read_bytes(), p
    assert key not in proc.stdout + proc.stderr


def test_faulty_server_200_requests_all_accounted_for(tmp_path):
    """Acceptance: 30% injected faults of every kind; every request ends in the manifest."""
    with FakeOpenAIServer(fault_rate=0.3, seed=7, stall_seconds=5.0, retry_after="0.02") as srv:
        cfg = cli.load_run_config([
            "--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
            "--seeds", str(seeds_file(tmp_path / "s.jsonl", 200)), "--out", str(tmp_path / "runs"),
            "--timeout", "1", "--concurrency", "16", "--teacher.max_retries", "3",
            "--teacher.options.retry_initial", "0.01", "--teacher.options.retry_max", "0.1"])
        version = run(cfg, progress=Progress(enabled=False))
    m = version.manifest()
    s = m["teacher_stats"]
    assert s["requests"] == 200 and s["succeeded"] + s["failed"] == 200
    assert sum(s["errors"].values()) == s["failed"]
    assert s["retries"] > 0 and srv.posts == 200 + s["retries"]  # each retry is one more POST
    assert all(srv.counts[k] > 0 for k in FAULTS)
    records, rejected = version.records(), version.rejected()
    assert len(records) == s["succeeded"]
    assert sum(r.reason == "teacher_error" for r in rejected) == s["failed"]
    # a truncated reply is a success that keeps finish_reason "length" for the truncated filter
    assert sum(r.meta.get("finish_reason") == "length" for r in records) == srv.counts["truncated"]


@pytest.mark.parametrize("kind, error", [
    ("drop", "connection: the server closed the connection before answering"),
    ("stall", "timeout: no reply within 0.3 s"),
    ("malformed", "bad_response: the body is not JSON datagen can read"),
    ("500", "server_error: HTTP 500: injected 500"),
    ("429", "rate_limited: HTTP 429: injected 429"),
])
def test_error_messages_say_what_happened(fake_openai, make_teacher, kind, error):
    t = make_teacher(timeout=0.3, max_retries=0)
    fake_openai.inject(kind)
    [bad] = t.complete([req("q")])
    assert bad.error.startswith(error) and t.stats.errors == {error.split(":")[0]: 1}
    assert make_teacher().complete([req("q")])[0].ok  # the server is fine afterwards


def test_refused_connection_mid_run_is_said_plainly(fake_openai, make_teacher):
    t = make_teacher(max_retries=1)
    assert t.complete([req("warm")])[0].ok  # preflight done: the next batch goes straight to POST
    fake_openai.stop()
    [bad] = t.complete([req("q")])
    assert bad.error == "connection: connection refused" and t.stats.retries == 1


def test_base_url_must_be_http(monkeypatch):
    with pytest.raises(DatagenError, match="must be an http:// or https:// URL"):
        OpenAICompatTeacher(TeacherConfig(backend="openai", model="m", base_url="ftp://127.0.0.1/v1"))


def test_org_and_project_headers_from_the_environment(make_teacher, monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
    headers = make_teacher()._headers
    assert headers["OpenAI-Organization"] == "org-1" and "OpenAI-Project" not in headers
    assert headers["Authorization"] == "Bearer sk-no-key"


def test_a_key_that_would_break_the_header_is_refused(monkeypatch):
    monkeypatch.setenv("DATAGEN_TEST_KEY", "sk-abc\r\nX-Injected: 1")
    with pytest.raises(DatagenError, match=r"the API key in \$DATAGEN_TEST_KEY has characters") as exc:
        OpenAICompatTeacher(TeacherConfig(backend="openai", model="m", base_url="http://127.0.0.1:1/v1",
                                          api_key_env="DATAGEN_TEST_KEY"))
    assert "sk-abc" not in str(exc.value)
