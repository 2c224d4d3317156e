"""How one HTTP exchange with an OpenAI-compatible server failed, and whether to try again.

    status_failure(429, {"retry-after": "2"}, b'{"error": {"message": "slow down"}}')
        -> Failure("rate_limited", "HTTP 429: slow down", retryable=True, retry_after=2.0)
    transport_failure(ConnectionRefusedError(111, "..."), 60) -> Failure("connection", "connection refused", True)
    parse_body(b'{"choices": [{"text": "hi"}]}', chat=False) -> ([Choice("hi", "stop")], {...})
"""
from __future__ import annotations

import email.utils
import errno
import json
import socket
import ssl
import time

import aiohttp

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
    """A timeout or a connection that failed, in plain words: "connection refused", "the server
    closed the connection before answering", "TLS certificate not accepted: ..."."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Failure("timeout", "no connection within the connect timeout", True)
    if isinstance(exc, TimeoutError):
        return Failure("timeout", f"no reply within {timeout:g} s", True)
    return Failure("connection", describe(exc)[:300], True)


def describe(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, aiohttp.ClientError):
        said = describe_aiohttp(exc)
        if said:
            return said
    if isinstance(exc, ConnectionRefusedError) and exc.errno is None and text:
        return text  # our own words (a proxy that refused the tunnel)
    if isinstance(exc, ConnectionRefusedError) or f"[Errno {errno.ECONNREFUSED}]" in text:
        return "connection refused"  # asyncio joins one error per address ("Multiple exceptions: ...")
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or text}"
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return f"{type(exc).__name__}: {text}"


def describe_aiohttp(exc: aiohttp.ClientError) -> str | None:
    """aiohttp's errors in the words datagen has always used; None: describe the OSError inside."""
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection before answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        if "decode" in str(exc).lower():
            return f"bad response body ({str(exc)[:120]})"
        return "the server closed the connection mid-response"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return f"the proxy refused the tunnel (HTTP {exc.status})"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"cannot reach the proxy: {describe(exc.os_error)}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        err = exc.certificate_error
        return f"TLS certificate not accepted: {getattr(err, 'verify_message', None) or err}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve the host name ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return describe(exc.os_error)
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"not an HTTP response datagen can read ({exc.message})"
    return None


def status_failure(code: int, headers, body: bytes) -> Failure:
    """A non-2xx answer: HTTP 429 with Retry-After: 2 -> Failure("rate_limited", "HTTP 429: ...", True, 2.0)."""
    kind = {429: "rate_limited", 400: "bad_request", 401: "auth", 403: "auth", 404: "not_found",
            408: "timeout", 413: "bad_request", 422: "bad_request"}.get(code, "server_error" if code >= 500 else f"http_{code}")
    hint = retry_after_seconds(headers) if code in (429, 503) else None
    return Failure(kind, f"HTTP {code}: {error_text(body)}"[:300], code in RETRY_STATUS, hint)


def error_text(body: bytes) -> str:
    """The server's own words: OpenAI-style {"error": {"message": ...}}, {"error": "..."}, or the text."""
    try:
        data = json.loads(body)
        err = data.get("error", data) if isinstance(data, dict) else data
        message = err.get("message", err) if isinstance(err, dict) else err
    except ValueError:
        message = body.decode("utf-8", "replace")
    return " ".join(str(message).split())[:200] or "(empty body)"


class Shape(ValueError):
    """A 200 body that is JSON but not an answer of the shape datagen reads."""


def parse_body(body: bytes, chat: bool) -> tuple[list[Choice], dict]:
    """A 200 body -> choices in index order, usage (counts as sent: datagen.teacher.checked makes them
    sane). Any other shape (not JSON, nesting too deep, `content` not text, fields missing or of the
    wrong type) is a retried Failure("bad_response"), never an exception or a cached answer."""
    try:
        data = json.loads(body)
        items = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
            raise Shape("no list of choices")
        if len(items) > 1:
            items = sorted(items, key=lambda c: c.get("index") if isinstance(c.get("index"), int) else 0)
        choices = [Choice(text=choice_text(c, chat), finish_reason=text_or(c.get("finish_reason"), "stop"))
                   for c in items]
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        usage = {k: usage.get(k) or 0 for k in ("prompt_tokens", "completion_tokens")}
    except Shape as exc:
        raise Failure("bad_response", f"an answer of an unexpected shape: {exc}", True) from None
    except (ValueError, RecursionError):
        raise Failure("bad_response", f"the body is not JSON datagen can read: {body[:60]!r}", True) from None
    if not choices:
        raise Failure("bad_response", "response has no choices", True)
    return choices, usage


def text_or(value, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise Shape(f"{type(value).__name__} where text belongs")
    return value or default


def choice_text(c: dict, chat: bool) -> str:
    """A choice's text: chat `message.content` as a string or a list of text parts, else `text`."""
    if not chat:
        return text_or(c.get("text"), "")
    message = c.get("message")
    if not isinstance(message, dict):
        raise Shape("a choice without a message object")
    content = message.get("content")
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}, ...]
        if not all(isinstance(p, dict) and p.get("type") in ("text", "output_text") and isinstance(p.get("text"), str)
                   for p in content):
            raise Shape("message content parts other than text")
        return "".join(p["text"] for p in content)
    return text_or(content, "")
