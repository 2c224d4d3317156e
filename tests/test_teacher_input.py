"""What a teacher may send (issue 30, class 2), against a real local server (tests/hostile_server.py):
a gzip bomb and an endless body end the run with one clear line, its peak memory (VmHWM of the run's
own process) under 500 MB, within --timeout x attempts; negative usage cannot defeat
--max-tokens-total; an answer of an unexpected shape is a teacher_error rejection and never cached."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datagen.backends.openai_errors import Failure, parse_body
from datagen.cache import CachedTeacher, ResponseCache, request_key
from datagen.cli import main
from datagen.teacher import Choice, Completion, FakeTeacher, Request, Sampling
from datagen.teacher_input import checked
from datagen.versions import list_versions
from hostile_server import HostileServer

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT, RETRIES = 3, 1
# Runs the CLI, then prints the process's own peak resident memory (kB) as the last stderr line.
RUN = ("import sys\nfrom datagen.cli import main\nrc = main(sys.argv[1:])\n"
       "print([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0], file=sys.stderr)\n"
       "sys.exit(rc)")


def seeds(tmp_path, n: int = 4) -> str:
    p = tmp_path / "seeds.jsonl"
    p.write_text("".join(json.dumps({"instruction": f"Name a color, take {i}.", "output": "x"}) + "\n"
                         for i in range(n)))
    return str(p)


def generate(tmp_path, url: str, *flags: str) -> list[str]:
    return ["generate", "--method", "answer", "--seeds", seeds(tmp_path, 40 if flags else 4), "--out",
            str(tmp_path / "runs"), "--teacher", "openai", "--base-url", url, "--model", "m",
            "--timeout", str(TIMEOUT), "--teacher.max_retries", str(RETRIES), *flags]


@pytest.mark.parametrize("mode", ["bomb", "endless"])
def test_a_huge_body_ends_the_run_with_one_line_and_little_memory(tmp_path, mode):
    with HostileServer(mode) as srv:
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-c", RUN, *generate(tmp_path, srv.url)], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
        elapsed = time.monotonic() - t0
    *lines, peak_kb = p.stderr.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("datagen: error:")]
    assert p.returncode == 2 and len(errors) == 1, p.stderr
    assert "too large" in errors[0] and "MB cap" in errors[0] and "Traceback" not in p.stderr
    assert int(peak_kb) < 500 * 1024, f"peak RSS {int(peak_kb) / 1024:.0f} MB"
    assert elapsed < TIMEOUT * (RETRIES + 1) + 60  # a bound on a hang, not a speed goal
    assert not list_versions(tmp_path / "runs", "answer")


def test_a_body_that_never_ends_slowly_is_cut_by_the_timeout(tmp_path, capsys):
    with HostileServer("trickle") as srv:
        assert main(generate(tmp_path, srv.url)) == 0
        assert srv.posts == 4 * (RETRIES + 1)  # each request tried, retried once, then given up
    [v] = list_versions(tmp_path / "runs", "answer")
    assert v.manifest()["counts"]["dropped"] == {"teacher_error": 4}
    assert all(j.detail.startswith("timeout") for j in v.rejected())


def test_negative_usage_cannot_defeat_the_token_budget(tmp_path, capsys):
    with HostileServer("negative") as srv:
        assert main(generate(tmp_path, srv.url, "--max-tokens-total", "300", "--concurrency", "2")) == 0
        sent = srv.posts
    [v] = list_versions(tmp_path / "runs", "answer")
    m = v.manifest()
    assert m["stopped"] and sent < 40  # stopped by the budget, not after all 40 seeds
    assert 300 <= m["teacher_stats"]["prompt_tokens"] + m["teacher_stats"]["completion_tokens"] < 600


def test_an_answer_of_another_shape_is_rejected_and_never_cached(tmp_path, capsys):
    with HostileServer("parts") as srv:
        argv = generate(tmp_path, srv.url)
        assert main(argv) == 0
        [v] = list_versions(tmp_path / "runs", "answer")
        assert v.manifest()["counts"]["dropped"] == {"teacher_error": 4}
        assert "unexpected shape" in v.rejected()[0].detail
        srv.mode = "good"  # the same server, now answering well: the rerun asks again and keeps all
        assert main(argv) == 0
    assert list_versions(tmp_path / "runs", "answer")[-1].manifest()["counts"]["kept"] == 4


@pytest.mark.parametrize("body, chat", [
    ({"choices": [{"message": {"content": [{"type": "image_url"}]}}]}, True),
    ({"choices": [{"message": "text"}]}, True),
    ({"choices": [{"message": {"content": 42}}]}, True),
    ({"choices": [{"text": ["a"]}]}, False),
    ({"choices": [{"text": "a", "finish_reason": 3}]}, False),
    ({"choices": "abc"}, False),
    ({"choices": [1, 2]}, False),
    ([1, 2], False),
    ("[" * 100_000, False),
])
def test_every_unexpected_shape_is_a_bad_response(body, chat):
    with pytest.raises(Failure) as exc:
        parse_body(body.encode() if isinstance(body, str) else json.dumps(body).encode(), chat)
    assert exc.value.kind == "bad_response" and exc.value.retryable


def test_text_parts_are_read_and_usage_made_sane():
    body = {"choices": [{"message": {"content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}}],
            "usage": {"prompt_tokens": -5, "completion_tokens": "many"}}
    choices, usage = parse_body(json.dumps(body).encode(), True)
    assert choices == [Choice("Hello", "stop")]
    req = Request(messages=({"role": "user", "content": "x" * 400},), sampling=Sampling(max_tokens=8, temperature=0))
    comp = checked(Completion(choices=tuple(choices), usage=usage), req)
    assert comp.usage == {"prompt_tokens": 100, "completion_tokens": 2}


def test_a_poisoned_cache_row_is_asked_again(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    req = Request(messages=({"role": "user", "content": "hi"},), sampling=Sampling(max_tokens=8, temperature=0))
    key = request_key("fake", req)
    with cache._lock:  # a row an older datagen stored: text as a list of parts
        cache._db.execute("INSERT INTO responses (key, teacher, completion) VALUES (?, ?, ?)",
                          (key, "fake", json.dumps({"choices": [{"text": [{"type": "x"}], "finish_reason": "stop"}]})))
    cache.put("k2", "fake", Completion(choices=(Choice(["not", "text"]),)))  # refused: never stored
    assert cache.get("k2") is None
    teacher = CachedTeacher(FakeTeacher(lambda r: "fresh"), cache)
    [comp] = teacher.complete([req])
    assert comp.text == "fresh" and not comp.cached and teacher.stats.requests == 1
