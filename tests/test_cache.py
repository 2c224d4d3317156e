"""ResponseCache / CachedTeacher / Budget, and the Teacher basics they build on."""
import sqlite3

import pytest

from datagen.cache import Budget, CachedTeacher, ResponseCache, request_key
from datagen.errors import DatagenError
from datagen.teacher import Choice, Completion, FakeTeacher, Request, Sampling

S = Sampling(max_tokens=16, temperature=0.7, seed=1)


def req(text, key="", sampling=S, **kw):
    return Request(messages=[{"role": "user", "content": text}], sampling=sampling, key=key, **kw)


def test_sampling_requires_explicit_valid_values():
    with pytest.raises(DatagenError, match="max_tokens"):
        Sampling(max_tokens=None, temperature=0.7)  # type: ignore[arg-type]
    with pytest.raises(DatagenError, match="temperature"):
        Sampling(max_tokens=8, temperature=3.0)
    with pytest.raises(DatagenError, match="top_p"):
        Sampling(max_tokens=8, temperature=0.0, top_p=0.0)
    with pytest.raises(DatagenError, match="sampling"):
        Request(messages=[{"role": "user", "content": "x"}])
    assert Sampling(max_tokens=8, temperature=0, stop=["\n"]).stop == ("\n",)


def test_request_key_ignores_tag_but_not_content():
    base = request_key("t", req("hello", key="a"))
    assert request_key("t", req("hello", key="b")) == base
    assert request_key("t2", req("hello")) != base
    assert request_key("t", req("hello!")) != base
    assert request_key("t", req("hello", sampling=S.replace(max_tokens=17))) != base
    assert request_key("t", req("hello", sampling=S.replace(temperature=0.8))) != base
    assert request_key("t", req("hello", sampling=S.replace(seed=2))) != base
    assert request_key("t", req("hello", sampling=S.replace(n=2))) != base
    sys_msg = Request(messages=[{"role": "system", "content": "hello"}], sampling=S)
    assert request_key("t", sys_msg) != base
    assert request_key("t", Request(prompt="hello", sampling=S)) != base



@pytest.mark.parametrize("sampling", [S, Sampling(max_tokens=8, temperature=0.0), S.replace(n=3, top_p=0.5),
                                      S.replace(stop=["\n", "###"], seed=None)])
def test_request_keys_and_stored_answers_are_what_they_always_were(sampling):
    """The cache's key and stored row, built without dataclasses.asdict's deep copy, are the same text
    as with it, so caches written before stay valid."""
    import dataclasses

    from datagen.record import canonical_json, sha256_text

    r = Request(messages=[{"role": "user", "content": "héllo"}], sampling=sampling)
    old_key = sha256_text(canonical_json({"teacher": "t", "messages": list(r.messages), "prompt": None,
                                          "sampling": dataclasses.asdict(sampling)}))
    assert request_key("t", r) == old_key
    comp = Completion(choices=(Choice("a", "stop"), Choice("b", "length")), usage={"prompt_tokens": 3})
    old_row = {"choices": [dataclasses.asdict(c) for c in comp.choices], "usage": {"prompt_tokens": 3}, "error": None}
    assert canonical_json(comp.to_dict()) == canonical_json(old_row)

def test_fake_teacher_keeps_order_n_and_on_result():
    seen = []
    t = FakeTeacher(lambda r: r.messages[-1]["content"].upper())
    out = t.complete([req("a", key="1"), req("b", key="2", sampling=S.replace(n=3))],
                     on_result=lambda i, c: seen.append((i, c.text)))
    assert [c.text for c in out] == ["A", "B"] and [c.key for c in out] == ["1", "2"]
    assert len(out[1].choices) == 3 and out[0].finish_reason == "stop"
    assert seen == [(0, "A"), (1, "B")]


def test_second_call_is_answered_from_cache(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    inner = FakeTeacher(lambda r: "answer to " + r.messages[-1]["content"])
    t = CachedTeacher(inner, cache)
    first = t.complete([req("a", key="k1"), req("b", key="k2")])
    assert [c.cached for c in first] == [False, False]
    assert t.stats.requests == 2 and t.stats.cache_hits == 0 and len(cache) == 2

    # a new process: fresh cache object on the same file, different caller keys
    t2 = CachedTeacher(FakeTeacher(lambda r: pytest.fail("should not be asked")),
                       ResponseCache(tmp_path / "c.sqlite"))
    got = []
    again = t2.complete([req("b", key="x2"), req("a", key="x1")], on_result=lambda i, c: got.append(i))
    assert [c.text for c in again] == ["answer to b", "answer to a"]
    assert [c.key for c in again] == ["x2", "x1"] and all(c.cached for c in again)
    assert t2.stats.cache_hits == 2 and t2.stats.requests == 0 and sorted(got) == [0, 1]
    assert t2.stats.completion_tokens == 0  # hits cost nothing


def test_mixed_hits_and_misses_keep_order(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    CachedTeacher(FakeTeacher(lambda r: "old " + r.messages[-1]["content"]), cache).complete([req("b")])
    inner = FakeTeacher(lambda r: "new " + r.messages[-1]["content"])
    t = CachedTeacher(inner, cache)
    out = t.complete([req("a"), req("b"), req("c")])
    assert [c.text for c in out] == ["new a", "old b", "new c"]
    assert [r.messages[-1]["content"] for r in inner.seen] == ["a", "c"]
    assert (t.stats.requests, t.stats.cache_hits) == (2, 1)


class FlakyTeacher:
    """Fails every request whose text contains 'bad'; counts what it is asked."""
    name = "flaky"

    def __init__(self):
        self.asked = 0

    def complete(self, requests, on_result=None):
        out = []
        for i, r in enumerate(requests):
            self.asked += 1
            text = r.messages[-1]["content"]
            c = (Completion(key=r.key, error="server_error: 500") if "bad" in text
                 else Completion(choices=(Choice("ok " + text),), usage={"completion_tokens": 2}, key=r.key))
            out.append(c)  # ignores on_result on purpose: CachedTeacher must still store
        return out


def test_failed_completions_are_not_cached(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    inner = FlakyTeacher()
    t = CachedTeacher(inner, cache)
    out = t.complete([req("good"), req("bad")])
    assert out[0].ok and not out[1].ok and out[1].error.startswith("server_error")
    assert len(cache) == 1
    assert t.stats.failed == 1 and t.stats.succeeded == 1 and t.stats.errors == {"server_error": 1}
    t.complete([req("good"), req("bad")])
    assert inner.asked == 3  # the failure is tried again, the success is not
    rows = sqlite3.connect(tmp_path / "c.sqlite").execute("SELECT teacher, completion FROM responses").fetchall()
    assert rows[0][0] == "flaky" and "ok good" in rows[0][1]


def test_budget_max_requests_stops_cleanly(tmp_path):
    inner = FakeTeacher(lambda r: "x")
    t = CachedTeacher(inner, ResponseCache(tmp_path / "c.sqlite"), Budget(max_requests=2))
    out = t.complete([req(str(i)) for i in range(5)])
    assert [c.ok for c in out] == [True, True, False, False, False]
    assert {c.error for c in out[2:]} == {"budget_exhausted"}
    assert len(inner.seen) == 2 and t.stopped and "2 requests" in t.stopped
    # cache hits stay free after the budget is spent
    t2 = CachedTeacher(FakeTeacher(lambda r: "y"), ResponseCache(tmp_path / "c.sqlite"), Budget(max_requests=0))
    out2 = t2.complete([req("0"), req("1"), req("9")])
    assert [c.text for c in out2[:2]] == ["x", "x"] and out2[2].error == "budget_exhausted"
    assert t2.stats.cache_hits == 2 and t2.stats.requests == 0


def test_budget_tokens_total(tmp_path):
    inner = FakeTeacher(lambda r: "one two three")  # 3 completion + 1 prompt token per request
    t = CachedTeacher(inner, None, Budget(max_tokens_total=6))
    t.complete([req("a"), req("b")])
    assert t.stopped
    out = t.complete([req("c")])
    assert out[0].error == "budget_exhausted" and len(inner.seen) == 2


def test_no_cache_means_every_call_is_sent():
    inner = FakeTeacher(lambda r: "x")
    t = CachedTeacher(inner, None)
    t.complete([req("a")])
    t.complete([req("a")])
    assert len(inner.seen) == 2 and t.stats.cache_hits == 0


class _LockedOnce:
    """A connection whose first statements fail as SQLite fails them when another process is switching the
    same new file to WAL: "database is locked" at once, no busy wait."""
    fails = 0

    def __init__(self, real, left):
        self.real, self.left = real, left

    def execute(self, *a):
        if self.left:
            self.left -= 1
            _LockedOnce.fails += 1
            raise sqlite3.OperationalError("database is locked")
        return self.real.execute(*a)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_cache_another_process_is_setting_up_is_retried_then_opened(tmp_path, monkeypatch):
    real_connect, calls = sqlite3.connect, []
    monkeypatch.setattr(_LockedOnce, "fails", 0)

    def connect(*a, **k):
        calls.append(1)
        return _LockedOnce(real_connect(*a, **k), 1 if len(calls) <= 2 else 0)

    monkeypatch.setattr(sqlite3, "connect", connect)
    cache = ResponseCache(tmp_path / "c.sqlite")
    assert len(calls) == 3 and _LockedOnce.fails == 2 and len(cache) == 0


def test_a_cache_locked_for_good_is_one_error_after_the_wait(tmp_path, monkeypatch):
    import datagen.cache as C

    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _LockedOnce(real_connect(*a, **k), 10**9))
    monkeypatch.setattr(C, "OPEN_WAIT_S", 0.3)
    with pytest.raises(DatagenError, match="database is locked"):
        ResponseCache(tmp_path / "c.sqlite")
