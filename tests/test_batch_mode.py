"""Batch mode of the openai teacher against a fake batch API (tests/fake_batch_server.py): a run
completes through it, failed and expired lines go through the normal path, a run killed while its
batch is in progress resumes polling without uploading again, and the version is the one the normal
path makes from the same answers."""
import json
import os
import signal
import subprocess
import sys

from fake_batch_server import FakeBatchServer

from datagen import cli
from datagen.backends import TeacherConfig
from datagen.backends.batch_api import split
from datagen.backends.openai_compat import OpenAICompatTeacher
from datagen.cache import ResponseCache, request_key
from datagen.progress import Progress
from datagen.run import run
from datagen.teacher import Request, Sampling


def seeds_file(tmp_path, n):
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Task {i}: say something.", "output": "x"}) + "\n"
                            for i in range(n)))
    return str(path)


def flags(srv, tmp_path, out, n, *extra):
    return ["--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
            "--seeds", seeds_file(tmp_path, n), "--out", str(tmp_path / out), "--seed", "1",
            "--teacher.options.retry_initial", "0.01", "--teacher.options.retry_max", "0.05", *extra]


BATCH = ("--teacher.batch", "true", "--teacher.options.batch_poll", "0.02")


def test_a_run_completes_through_the_batch_api_and_matches_the_normal_path(tmp_path):
    """12 requests in batches of 5 (5, 5, 2): two lines of each fail with HTTP 500 and the second
    batch expires half done; those go through the normal path. Same content hash as a normal run."""
    with FakeBatchServer(fail_lines=2, expire={1}) as srv:
        batched = run(cli.load_run_config(flags(srv, tmp_path, "batched", 12, *BATCH,
                                                "--teacher.options.batch_max_requests", "5")),
                      progress=Progress(enabled=False))
        posts_in_batch_run = srv.paths["/v1/chat/completions"]
        normal = run(cli.load_run_config(flags(srv, tmp_path, "normal", 12)), progress=Progress(enabled=False))
    m, n = batched.manifest(), normal.manifest()
    assert srv.uploads == 3 and srv.created == 3
    assert posts_in_batch_run == 2 + 2 + 2 + 3  # 2 failed lines a batch + the expired half (5 - 5 // 2)
    s = m["teacher_stats"]
    assert (s["requests"], s["succeeded"], s["failed"]) == (12, 12, 0) and m["counts"]["kept"] == 12
    assert [b["status"] for b in s["batches"]] == ["completed", "expired", "completed"]
    assert 0 < s["batch_completion_tokens"] < s["completion_tokens"]  # the normal path's are not batch-priced
    assert m["content_sha256"] == n["content_sha256"]
    assert n["teacher_stats"]["cache_hits"] == 0  # the normal run asked its own server (its own cache folder)


def test_kill_9_while_a_batch_is_in_progress_then_a_rerun_uploads_nothing_again(tmp_path):
    with FakeBatchServer() as srv:
        srv.hold.clear()  # the batch stays in_progress
        argv = [sys.executable, "-m", "datagen.cli", "generate", *flags(srv, tmp_path, "runs", 6, *BATCH)]
        proc = subprocess.Popen(argv, cwd=tmp_path, env=dict(os.environ), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            assert srv.polled.wait(60), "the run never polled its batch"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        assert (srv.uploads, srv.created) == (1, 1)
        srv.hold.set()
        version = run(cli.load_run_config(flags(srv, tmp_path, "runs", 6, *BATCH)), progress=Progress(enabled=False))
    assert (srv.uploads, srv.created) == (1, 1)  # resumed polling batch_0: nothing uploaded again
    assert srv.paths["/v1/chat/completions"] == 0 and version.manifest()["counts"]["kept"] == 6
    assert [b["id"] for b in version.manifest()["teacher_stats"]["batches"]] == ["batch_0"]


def test_a_refused_line_is_reported_with_its_error_and_the_jsonl_is_kept_for_vllm(tmp_path, monkeypatch):
    cache = ResponseCache(tmp_path / ".cache" / "responses.sqlite")
    with FakeBatchServer() as srv:
        t = OpenAICompatTeacher(TeacherConfig(backend="openai", model="fake-model", base_url=srv.url, batch=True,
                                              options={"batch_poll": 0.02}))
        t.attach_cache(cache)
        reqs = [Request(messages=[{"role": "user", "content": f"q{i}"}], key=f"q{i}",
                        sampling=Sampling(max_tokens=20, temperature=0.0, seed=i)) for i in range(3)]
        refused = {"status_code": 400, "body": {"error": {"message": "max_tokens is too large"}}}
        line = {"custom_id": "x", "response": refused}
        assert t._batch_mode._completion(reqs[0], line).error == "bad_request: HTTP 400: max_tokens is too large"
        out = t.complete(reqs)
        t.close()
    assert [c.text for c in out] == [f"Re: q{i} (s={i}, i=0)" for i in range(3)]
    [jsonl] = (tmp_path / ".cache" / "batches").glob("*.jsonl")
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert [x["custom_id"] for x in lines] == [request_key(t.name, r) for r in reqs]
    assert lines[0]["url"] == "/v1/chat/completions" and lines[0]["body"]["messages"][0]["content"] == "q0"
    assert cache.job(__import__("hashlib").sha256(jsonl.read_bytes()).hexdigest())["batch_id"] == "batch_0"


def test_files_are_split_at_the_request_and_byte_limits():
    lines = [b"x" * 9 + b"\n"] * 7
    assert [len(f) for f in split(lines, max_requests=3)] == [3, 3, 1]
    assert [len(f) for f in split(lines, max_bytes=25)] == [2, 2, 2, 1]


def test_offline_the_jsonl_runs_elsewhere_and_cache_load_brings_the_answers(tmp_path, capsys):
    """batch_submit false writes the JSONL and stops in one line; a stand-in for `vllm run-batch`
    answers it (the same output format); `datagen cache-load` fills the cache; the rerun is all hits."""
    from fake_openai_server import FakeOpenAIServer

    with FakeBatchServer() as srv:
        offline = flags(srv, tmp_path, "runs", 5, *BATCH, "--teacher.options.batch_submit", "false")
        assert cli.main(["generate", *offline]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("datagen: error: batch: 5 requests written to ") and "\n" not in err
        [jsonl] = (tmp_path / "runs" / ".cache" / "batches").glob("*.jsonl")
        answers = FakeOpenAIServer()  # its _completion: the same answers the server would give
        rows = [json.loads(x) for x in jsonl.read_text().splitlines()]
        out = tmp_path / "vllm-output.jsonl"
        out.write_text("".join(json.dumps({"id": f"r{k}", "custom_id": r["custom_id"], "error": None, "response": {
            "status_code": 200, "body": answers._completion(r["url"], r["body"], truncate=False)}}) + "\n"
            for k, r in enumerate(rows)) + json.dumps({"custom_id": "0" * 64, "response": None,
                                                       "error": {"code": "x", "message": "y"}}) + "\n")
        assert cli.main(["cache-load", str(out), "--out", str(tmp_path / "runs")]) == 0
        assert capsys.readouterr().out.startswith("5 answers loaded into ")
        assert cli.main(["generate", *offline]) == 0
    assert srv.uploads == 0 and srv.posts == 0
    bad = tmp_path / "foreign.jsonl"
    bad.write_text(json.dumps({"custom_id": "request-1", "response": {"status_code": 200, "body": {}}}) + "\n")
    assert cli.main(["cache-load", str(bad), "--out", str(tmp_path / "runs")]) == 2
    assert "not a key datagen wrote" in capsys.readouterr().err
