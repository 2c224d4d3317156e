"""How one HTTP exchange with an OpenAI-compatible server failed, and whether to try again.

    status_failure(RateLimitError(... 429, Retry-After: 2)) -> Failure("rate_limited", ..., retryable=True, retry_after=2.0)
    parse_body(b'{"choices": [{"text": "hi"}]}', chat=False) -> ([Choice("hi", "stop")], {...})
"""
from __future__ import annotations

import email.utils
import json
import time

from datagen.teacher import Choice

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class Failure(Exception):
    """One failed attempt, classified: kind (goes into stats and Completion.error), retryable, wait hint."""

    def __init__(self, kind: str, message: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.retryable, self.retry_after = kind, message, retryable, retry_after


def retry_after_seconds(headers) -> float | None:
    """Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), or OpenAI's retry-after-ms.

        retry_after_seconds({"retry-after": "2"}) -> 2.0
    """
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    try:
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None


def transport_failure(exc: BaseException, timeout: float) -> Failure:
    """Timeout or dropped connection? Judged by the root cause: the aiohttp transport reports a
    dropped connection as a connect timeout, and asyncio's own deadline as TimeoutError."""
    chain, seen = [exc], set()
    while (chain[-1].__cause__ or chain[-1].__context__) is not None and id(chain[-1]) not in seen:
        seen.add(id(chain[-1]))
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    root = chain[-1]
    if isinstance(exc, TimeoutError) or isinstance(root, TimeoutError) or "Timeout" in type(root).__name__:
        return Failure("timeout", f"no reply within {timeout:g} s", True)
    # Name the socket's own error ("connection refused") rather than whatever the client's cleanup
    # raised on the way out (aiohttp can leave "RuntimeError: no running event loop" at the root).
    cause = next((e for e in chain if isinstance(e, OSError) and not isinstance(e, TimeoutError)), root)
    return Failure("connection", f"{type(cause).__name__}: {cause}"[:300], True)


def status_failure(exc) -> Failure:
    code = exc.status_code
    kind = {429: "rate_limited", 400: "bad_request", 401: "auth", 403: "auth", 404: "not_found",
            408: "timeout", 413: "bad_request", 422: "bad_request"}.get(code, "server_error" if code >= 500 else f"http_{code}")
    hint = retry_after_seconds(exc.response.headers) if code in (429, 503) else None
    message = str(exc.message).removeprefix(f"Error code: {code} - ")
    return Failure(kind, f"HTTP {code}: {message}"[:300], code in RETRY_STATUS, hint)


def parse_body(body: bytes, chat: bool) -> tuple[list[Choice], dict]:
    """A 200 body -> choices in index order, usage. A body that is not the expected JSON is retried."""
    try:
        data = json.loads(body)
        items = sorted(data["choices"], key=lambda c: c.get("index", 0))
        choices = [Choice(text=(c["message"].get("content") or "") if chat else (c.get("text") or ""),
                          finish_reason=c.get("finish_reason") or "stop") for c in items]
        usage = data.get("usage") or {}
        usage = {k: int(usage.get(k) or 0) for k in ("prompt_tokens", "completion_tokens")}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Failure("bad_response", f"malformed response body ({type(exc).__name__}: {str(exc)[:120]})",
                       True) from None
    if not choices:
        raise Failure("bad_response", "response has no choices", True)
    return choices, usage
