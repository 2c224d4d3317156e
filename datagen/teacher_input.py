"""The one gate on what a teacher sends back, whatever the backend: every answer goes through checked()
before a method, the response cache or the budget sees it (datagen.cache.CachedTeacher), and every
cached answer again when it is read. An answer of any unexpected shape (text that is not a string,
choices that are not choices) becomes an error, so a method rejects it as `teacher_error` and the
cache never stores it; token counts that are negative, absurd or not numbers are replaced by an
estimate (~4 characters a token), so a server cannot defeat --max-tokens-total.
The transport's own caps (body size, decompressed size) are in datagen/backends/http_client.py.

    checked(Completion(choices=(Choice(["a", "b"]),)))      -> Completion(error="bad_response: ...")
    checked(Completion(choices=(Choice("hi"),), usage={"prompt_tokens": -10**6}), req)
        -> usage {"prompt_tokens": <len(prompt) / 4>}
"""
from __future__ import annotations

import dataclasses

from datagen.teacher import Choice, Completion, Request, sane_count

USAGE_KEYS = ("prompt_tokens", "completion_tokens")


def shape_error(comp: object) -> str | None:
    """Why `comp` is not a Completion datagen can use, or None."""
    if not isinstance(comp, Completion):
        return f"a {type(comp).__name__} instead of an answer"
    if comp.error is not None and not isinstance(comp.error, str):
        return "an error that is not text"
    if not isinstance(comp.choices, (tuple, list)) or not isinstance(comp.usage, dict):
        return "choices or usage of the wrong type"
    for c in comp.choices:
        if not isinstance(c, Choice) or not isinstance(c.text, str) or not isinstance(c.finish_reason, str):
            kind = type(c.text).__name__ if isinstance(c, Choice) else type(c).__name__
            return f"an answer whose text is a {kind}, not a string"
    return None


def estimate(text: str) -> int:
    return (len(text) + 3) // 4


def prompt_text(req: Request | None) -> str:
    if req is None:
        return ""
    return req.prompt if req.prompt is not None else "".join(str(m.get("content", "")) for m in req.messages)


def sane_usage(usage: dict, req: Request | None, choices) -> dict:
    """Only the two counts; each one sent but not a sane count becomes an estimate."""
    out = {}
    for k in USAGE_KEYS:
        if k in usage:
            value = sane_count(usage[k])
            if value is None:
                value = estimate(prompt_text(req)) if k == "prompt_tokens" else sum(estimate(c.text) for c in choices)
            out[k] = value
    return out


def checked(comp: object, req: Request | None = None) -> Completion:
    """`comp` when it is a usable answer (its usage made sane), else an error Completion saying why."""
    why = shape_error(comp)
    if why is not None:
        return Completion(key=getattr(comp, "key", "") if isinstance(getattr(comp, "key", ""), str) else "",
                          error=f"bad_response: {why}")
    usage = sane_usage(comp.usage, req, comp.choices)
    return comp if usage == comp.usage else dataclasses.replace(comp, usage=usage)


def from_cache(row: object, key: str) -> Completion | None:
    """A cached row as a Completion, or None (ask again) when it is not a usable answer."""
    try:
        comp = Completion.from_dict(row, key=key, cached=True)  # type: ignore[arg-type]
    except (TypeError, AttributeError, ValueError):
        return None
    comp = checked(comp)
    return comp if comp.ok else None
