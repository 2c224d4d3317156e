"""The one scrubber of credentials in URLs, applied where text leaves the process: the log and error
lines on stdout/stderr (datagen.cli: scrub_logs, and the error line), and every JSON file datagen writes about a run (a version's
manifest, an eval's summary.json and provenance.json, a trained run's provenance.json). A URL's
`user:password@` goes, and so do the values of query parameters that carry keys (key, api_key,
token, sig, ...); everything else is kept as written.

    scrub_text("--base-url http://user:PASSWORD@host/v1?api_key=s3cret&v=1")
        -> "--base-url http://host/v1?api_key=***&v=1"
    scrub({"teacher": {"base_url": "http://u:p@h/v1"}}) -> {"teacher": {"base_url": "http://h/v1"}}
"""
from __future__ import annotations

import logging
import re

# scheme://userinfo@ ; userinfo runs to the last '@' before the host's '/' (a password with ':', '@'
# or '%40' included); the scheme may follow another word ("openai:m@http://u:p@h").
USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#'\"<>]*@")
SECRET_QUERY = re.compile(r"(?i)([?&;](?:api[-_]?key|key|token|access[-_]?token|secret|password|passwd|pwd|sig|"
                          r"signature|auth|code)=)[^&;\s'\"#<>]*")


def scrub_text(text: str) -> str:
    if "://" not in text and "=" not in text:
        return text
    return SECRET_QUERY.sub(r"\1***", USERINFO.sub(r"\1", text))


def scrub(obj):
    """A copy of a JSON-like value with every string (keys too) scrubbed."""
    if isinstance(obj, str):
        return scrub_text(obj)
    if isinstance(obj, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(scrub(v) for v in obj)
    return obj


def scrub_logs() -> None:
    """Every log record from now on, whoever logs it, with its message scrubbed (installed once)."""
    made = logging.getLogRecordFactory()
    if getattr(made, "scrubs", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = made(*args, **kwargs)
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging reports it itself
            return record
        clean = scrub_text(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return record

    factory.scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
