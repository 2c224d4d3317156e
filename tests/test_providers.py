"""The openai teacher's providers and extras against the fake server: Azure OpenAI's URLs and key
header, extra headers (from the environment, written nowhere), adaptive concurrency in a 429 storm."""
import json
import os
import subprocess
import sys

import pytest
from fake_openai_server import FakeOpenAIServer, reply_text

from datagen.backends import TeacherConfig, public_config
from datagen.backends.openai_compat import OpenAICompatTeacher
from datagen.backends.providers import endpoint_of
from datagen.errors import DatagenError
from datagen.teacher import Request, Sampling

FAST = {"retry_initial": 0.01, "retry_max": 0.05}


def req(text, seed=1):
    return Request(messages=[{"role": "user", "content": text}], key=text,
                   sampling=Sampling(max_tokens=50, temperature=0.7, seed=seed))


def test_an_azure_deployment_url_reaches_the_server_with_api_version_and_api_key(monkeypatch):
    monkeypatch.setenv("DATAGEN_TEST_AZURE_KEY", "azure-key-0123456789")
    with FakeOpenAIServer(api_key="azure-key-0123456789") as srv:
        base = srv.url.replace("/v1", "/openai/deployments/gpt4o?api-version=2024-10-21")
        t = OpenAICompatTeacher(TeacherConfig(backend="openai", model="gpt-4o", base_url=base, provider="azure",
                                              api_key_env="DATAGEN_TEST_AZURE_KEY", options=FAST))
        [c] = t.complete([req("hello")])
        t.close()
    assert c.ok and c.text == reply_text("hello", 1, 0)
    method, path, headers = srv.seen[-1]
    assert (method, path) == ("POST", "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21")
    assert headers["api-key"] == "azure-key-0123456789" and "authorization" not in headers
    assert srv.seen[0][1] == "/openai/deployments/gpt4o/models?api-version=2024-10-21"  # the preflight


def test_azure_is_detected_by_host_and_builds_the_deployment_url(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-abcdefgh")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    where = endpoint_of(TeacherConfig(backend="openai", model="gpt4o", base_url="https://res.openai.azure.com"))
    assert where.provider == "azure" and where.headers["api-key"] == "azure-key-abcdefgh"
    assert where.base_url == "https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21"
    v1 = endpoint_of(TeacherConfig(backend="openai", model="gpt4o", base_url="https://res.openai.azure.com/openai/v1"))
    assert v1.base_url == "https://res.openai.azure.com/openai/v1"  # the v1 API needs no api-version
    monkeypatch.delenv("OPENAI_API_VERSION")
    with pytest.raises(DatagenError, match="needs an api-version"):
        endpoint_of(TeacherConfig(backend="openai", model="gpt4o", base_url="https://res.openai.azure.com"))


def test_extra_headers_from_the_environment_and_their_errors(monkeypatch):
    monkeypatch.setenv("DATAGEN_TEST_HEADER", "secret-header-value-1")
    cfg = TeacherConfig(backend="openai", model="m", base_url="http://127.0.0.1:1/v1",
                        headers="X-Title: datagen; X-Auth: ${DATAGEN_TEST_HEADER}")
    where = endpoint_of(cfg)
    assert where.headers["X-Title"] == "datagen" and where.headers["X-Auth"] == "secret-header-value-1"
    assert "secret-header-value-1" in where.secrets
    assert public_config({"teacher": {"headers": cfg.headers}})["teacher"]["headers"] == "X-Title: ***; X-Auth: ***"
    for bad, words in (("X-Auth: $DATAGEN_TEST_UNSET", "reads \\$DATAGEN_TEST_UNSET, which is not set"),
                       ("no colon here", "is not 'Name: value'")):
        monkeypatch.delenv("DATAGEN_TEST_UNSET", raising=False)
        with pytest.raises(DatagenError, match=words):
            endpoint_of(TeacherConfig(backend="openai", model="m", base_url="http://127.0.0.1:1/v1", headers=bad))


def test_extra_headers_arrive_and_are_written_nowhere(fake_openai, tmp_path):
    """A CLI run and its report: the server gets both headers; no file, log or output holds a value."""
    from_env, literal = "hdr-CANARY-from-env-5e1d", "hdr-CANARY-literal-93ab"
    seeds = tmp_path / "s.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": f"Task {i}: say something.", "output": "x"}) + "\n"
                             for i in range(4)))
    env = {**os.environ, "DATAGEN_TEST_HDR": from_env, "DATAGEN_LOG": "DEBUG"}
    cli = [sys.executable, "-m", "datagen.cli"]
    gen = subprocess.run(cli + ["generate", "--method", "answer", "--teacher", "openai", "--base-url", fake_openai.url,
                                "--model", "fake-model", "--seeds", str(seeds), "--out", str(tmp_path / "runs"),
                                "--teacher.headers", f"X-From-Env: $DATAGEN_TEST_HDR; X-Literal: {literal}"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr
    rep = subprocess.run(cli + ["report", "answer", "--out", str(tmp_path / "report.html")], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert rep.returncode == 0, rep.stderr
    posts = [h for m, _, h in fake_openai.seen if m == "POST"]
    assert len(posts) == 4 and all(h["x-from-env"] == from_env and h["x-literal"] == literal for h in posts)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any("sqlite" in p.name for p in files)
    assert (tmp_path / "report.html").exists()
    for p in files:
        data = p.read_bytes()
        assert from_env.encode() not in data and literal.encode() not in data, p
    for text in (gen.stdout, gen.stderr, rep.stdout, rep.stderr):
        assert from_env not in text and literal not in text


def test_a_429_storm_drops_the_limit_and_it_recovers_with_nothing_lost():
    """The first 160 requests the server gets are answered 429 (Retry-After: 1) one in two; then none."""
    with FakeOpenAIServer(retry_after="1") as srv:
        srv.inject(*["429", "ok"] * 80)
        t = OpenAICompatTeacher(TeacherConfig(backend="openai", model="fake-model", base_url=srv.url, concurrency=16,
                                              max_retries=30, options={**FAST, "recover_after": 5}))
        out = t.complete([req(f"q{i}", seed=i) for i in range(180)])
        t.close()
    assert [c.text for c in out] == [reply_text(f"q{i}", i, 0) for i in range(180)]  # nothing lost
    assert srv.counts["429"] == 80 and t.stats.failed == 0 and t.stats.retries == 80
    trace = t.stats.concurrency_trace
    drops = [row for row in trace if row[2] == "429"]
    assert drops and min(row[1] for row in trace) <= 4  # 16 -> 12 -> 9 -> 6 -> 4 ...
    assert len(drops) < 80  # one burst counts once: requests sent before a drop do not drop it again
    last_drop = max(i for i, row in enumerate(trace) if row[2] == "429")
    recovered = [row[1] for row in trace[last_drop + 1:]]
    assert recovered == list(range(trace[last_drop][1] + 1, 17))  # +1 a step, back to 16
    assert all(a[0] <= b[0] for a, b in zip(trace, trace[1:]))


def test_the_report_prices_batch_tokens_at_the_batch_rate_and_sums_up_the_trace():
    from datagen.report.build import teacher_usage

    stats = {"prompt_tokens": 3_000_000, "completion_tokens": 1_000_000, "batch_prompt_tokens": 2_000_000,
             "batch_completion_tokens": 1_000_000, "batches": [{"id": "batch_1"}],
             "concurrency_trace": [[0.8, 12, "429"], [0.9, 9, "429"], [5.1, 10, "recover"]]}
    usage = teacher_usage({"teacher_stats": stats}, {"input": 1.0, "output": 4.0})
    assert usage["estimated_cost_usd"] == 1.0 + 2.0 * 0.5 + 1.0 * 2.0  # batch tokens at half price
    assert teacher_usage({"teacher_stats": stats}, {"input": 1.0, "output": 4.0, "batch_input": 0.1,
                                                     "batch_output": 0.1})["estimated_cost_usd"] == 1.3
    assert usage["concurrency"] == "lowest 9 after 2 drops on 429 (first at 0.8 s); 10 at 5.1 s; 3 changes"
    assert usage["batch_jobs"] == 1
