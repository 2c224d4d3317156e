"""The Teacher interface: a batch of requests in, one completion per request out, same order.

    teacher.complete([Request(messages=[{"role": "user", "content": "Hi"}], sampling=s)])
    -> [Completion(choices=(Choice(text="Hello!", finish_reason="stop"),), ...)]
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from datagen.errors import DatagenError
from datagen.record import Message, canonical_json, sha256_text


@dataclass(frozen=True)
class Sampling:
    """Per-request generation parameters, with OpenAI's names. `max_tokens` has no default on
    purpose: a silent default cuts every answer short (vLLM's max_tokens=16, vllm#5395)."""
    max_tokens: int
    temperature: float
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_tokens is None or int(self.max_tokens) < 1:
            raise DatagenError(f"sampling.max_tokens must be a positive integer, got {self.max_tokens!r}")
        if not 0.0 <= float(self.temperature) <= 2.0:
            raise DatagenError(f"sampling.temperature must be in [0, 2], got {self.temperature!r}")
        if not 0.0 < float(self.top_p) <= 1.0:
            raise DatagenError(f"sampling.top_p must be in (0, 1], got {self.top_p!r}")
        if int(self.n) < 1:
            raise DatagenError(f"sampling.n must be >= 1, got {self.n!r}")
        object.__setattr__(self, "stop", tuple(self.stop or ()))

    def replace(self, **changes) -> "Sampling":
        return dataclasses.replace(self, **changes)

    def sha(self) -> str:
        return sha256_text(canonical_json(dataclasses.asdict(self)))[:16]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain_dict(obj) -> dict:
    """dataclasses.asdict() of a dataclass whose fields hold plain values (text, numbers, None, tuples of
    them), without its deep copy: the same dict, which JSON writes the same, for a tenth of the CPU
    (the response cache keys and stores one or more for every answer)."""
    names = _FIELD_NAMES.get(type(obj))
    if names is None:
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    return {name: getattr(obj, name) for name in names}


@dataclass(frozen=True)
class Request:
    """One prompt. `messages` for chat endpoints; `prompt` (raw text) for completion endpoints.
    `key` is an opaque tag the caller uses to match answers (it is not part of the cache key)."""
    messages: tuple[Message, ...] = ()
    sampling: Sampling | None = None
    key: str = ""
    prompt: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(dict(m) for m in self.messages))
        if self.sampling is None:
            raise DatagenError("a Request needs explicit sampling parameters")
        if not self.messages and self.prompt is None:
            raise DatagenError("a Request needs messages or a prompt")


@dataclass(frozen=True)
class Choice:
    text: str
    finish_reason: str = "stop"  # "stop" | "length" | other server values


@dataclass(frozen=True)
class Completion:
    """The answer to one Request. `error` is set (and `choices` empty) when the request failed
    after all retries; callers record it instead of dropping it silently."""
    choices: tuple[Choice, ...] = ()
    usage: dict = field(default_factory=dict)  # prompt_tokens, completion_tokens
    key: str = ""
    error: str | None = None
    cached: bool = False

    @property
    def text(self) -> str:
        return self.choices[0].text if self.choices else ""

    @property
    def finish_reason(self) -> str | None:
        return self.choices[0].finish_reason if self.choices else None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.choices)

    def to_dict(self) -> dict:
        return {"choices": [plain_dict(c) for c in self.choices], "usage": dict(self.usage), "error": self.error}

    @classmethod
    def from_dict(cls, d: dict, key: str = "", cached: bool = False) -> "Completion":
        return cls(choices=tuple(Choice(**c) for c in d.get("choices", [])),
                   usage=dict(d.get("usage") or {}), key=key, error=d.get("error"), cached=cached)


OnResult = Callable[[int, Completion], None]


class Teacher(Protocol):
    """Anything that turns requests into completions. `name` identifies backend and model
    (it goes into lineage and the cache key). `on_result(i, completion)` is called as each
    request finishes, so a cache can persist it before the batch ends (kill -9 safe)."""
    name: str

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        ...


def backend_attr(teacher, name: str, default=None):
    """An optional capability of the backend under any wrapper (CachedTeacher.inner):
    `supports_raw` (bool: raw `Request.prompt` completions, not only chat) and `chat_template()`
    (the model's Jinja chat template, or None when the backend cannot tell).

        backend_attr(CachedTeacher(EmbeddedTeacher(cfg), cache), "supports_raw") -> True
    """
    seen = 0
    while teacher is not None and seen < 8:
        if hasattr(teacher, name):
            return getattr(teacher, name)
        teacher, seen = getattr(teacher, "inner", None), seen + 1
    return default


@dataclass
class TeacherStats:
    """Counters that go into the manifest."""
    requests: int = 0          # requests sent to the backend (cache misses)
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: dict = field(default_factory=dict)  # error kind -> count
    # Written only when set (runs without them keep their manifests as they were):
    concurrency_trace: list = field(default_factory=list)  # [seconds, in-flight limit, "429" | "recover"]
    batch_prompt_tokens: int = 0      # of prompt_tokens, those answered through a batch API (batch price)
    batch_completion_tokens: int = 0
    batches: list = field(default_factory=list)  # batch API jobs: {"id", "status", "requests", "failed"}

    def count_error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def add_usage(self, usage: dict) -> None:
        self.prompt_tokens += sane_count(usage.get("prompt_tokens")) or 0
        self.completion_tokens += sane_count(usage.get("completion_tokens")) or 0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        return {k: v for k, v in d.items() if v or k not in OPTIONAL_STATS}


MAX_COUNT = 10_000_000  # tokens one answer may report; more (or fewer than 0) is a broken server's count


def sane_count(value) -> int | None:
    """A token count a server sent, or None when it is no count (negative, absurd, not a number)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        return None
    return value


OPTIONAL_STATS = ("concurrency_trace", "batch_prompt_tokens", "batch_completion_tokens", "batches")


def one_by_one(one: Callable[[Request], Completion], requests: Sequence[Request],
               on_result: OnResult | None = None) -> list[Completion]:
    """complete() of an in-process backend that answers one request at a time, in order."""
    out = []
    for i, req in enumerate(requests):
        comp = one(req)
        out.append(comp)
        if on_result:
            on_result(i, comp)
    return out


class FakeTeacher:
    """A deterministic teacher for tests: `respond(request) -> str | list[str]` (a list gives
    n choices). Records every request it receives in `.seen`.

        FakeTeacher(lambda r: "ok").complete([req]) -> [Completion(choices=(Choice("ok"),))]
    """

    def __init__(self, respond: Callable[[Request], str | list[str]] | None = None,
                 name: str = "fake", finish_reason: str = "stop") -> None:
        self.respond = respond or (lambda r: (r.messages[-1]["content"] if r.messages else r.prompt))
        self.name = name
        self.finish_reason = finish_reason
        self.seen: list[Request] = []
        self.stats = TeacherStats()

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        out = []
        for i, req in enumerate(requests):
            self.seen.append(req)
            self.stats.requests += 1
            answer = self.respond(req)
            texts = answer if isinstance(answer, list) else [answer] * req.sampling.n
            usage = {"prompt_tokens": sum(len(m["content"].split()) for m in req.messages),
                     "completion_tokens": sum(len(t.split()) for t in texts)}
            comp = Completion(choices=tuple(Choice(t, self.finish_reason) for t in texts),
                              usage=usage, key=req.key)
            self.stats.succeeded += 1
            self.stats.add_usage(usage)
            out.append(comp)
            if on_result:
                on_result(i, comp)
        return out
