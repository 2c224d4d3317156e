"""The live progress line: requests in flight, rate, tokens, kept/rejected and an ETA."""
import io

from datagen.cache import CachedTeacher, ResponseCache
from datagen.progress import Progress
from datagen.teacher import FakeTeacher, Request, Sampling


def test_progress_line_counts_and_eta():
    p = Progress(enabled=True, desc="gen", total=10, stream=io.StringIO())
    p.start -= 2.0  # two seconds ago
    p.stage_start -= 2.0
    p.update(requests=4, inflight=6, tokens=400)
    p.update(inflight=-4, kept=3, rejected=1, cache_hits=0)
    line = p.line()
    assert "gen: 4/10 calls" in line and "2 in flight" in line and "400 tok" in line
    assert "kept 3 / rejected 1" in line
    eta = float(line.split("ETA ")[1].rstrip("s"))
    assert 2.5 <= eta <= 3.5  # 6 left at ~2 req/s


def test_no_kept_count_before_the_filters_have_run():
    """While a method generates, rejections are known but kept records are not: no "kept 0" then."""
    p = Progress(enabled=True, desc="gen", stream=io.StringIO())
    p.update(requests=2, rejected=5)
    assert "rejected 5" in p.line() and "kept" not in p.line()
    p.update(kept=7)
    assert "kept 7 / rejected 5" in p.line()


def test_cached_teacher_reports_to_progress(tmp_path):
    stream = io.StringIO()
    p = Progress(enabled=True, stream=stream)
    t = CachedTeacher(FakeTeacher(lambda r: "ok"), ResponseCache(tmp_path / "c.sqlite"), progress=p)
    reqs = [Request(messages=[{"role": "user", "content": f"q{i}"}], sampling=Sampling(max_tokens=5, temperature=0))
            for i in range(5)]
    t.complete(reqs)
    t.complete(reqs)
    assert p.counts["requests"] == 5 and p.counts["cache_hits"] == 5 and p.counts["inflight"] == 0
    p.close()
    assert "10 calls" in stream.getvalue()


def test_a_new_stage_counts_its_own_calls_and_eta():
    p = Progress(enabled=True, desc="a", total=4, stream=io.StringIO())
    p.update(requests=4)
    p.set_total(10, desc="b")
    assert "b: 0/10 calls" in p.line() and "ETA" not in p.line()  # no rate yet: no ETA
    p.stage_start -= 1.0
    p.update(cache_hits=5)
    line = p.line()
    assert "b: 5/10 calls" in line and 0.5 <= float(line.split("ETA ")[1].rstrip("s")) <= 1.5


def test_a_log_file_gets_a_plain_line_every_interval(monkeypatch):
    monkeypatch.delenv("DATAGEN_PROGRESS", raising=False)
    stream = io.StringIO()  # not a terminal
    p = Progress(stream=stream, every=0.0, total=3, desc="gen")
    p.update(requests=1)
    p.update(requests=1)
    p.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in stream.getvalue() and lines[-1].startswith("gen: 2/3 calls")
    quiet = io.StringIO()
    q = Progress(stream=quiet, every=60.0)
    q.update(requests=1)
    q.close()
    assert quiet.getvalue() == ""  # a run shorter than the interval (or a quick failure) prints nothing
    monkeypatch.setenv("DATAGEN_PROGRESS", "0")
    off = io.StringIO()
    r = Progress(stream=off, every=0.0)
    r.update(requests=1)
    r.close()
    assert off.getvalue() == ""
