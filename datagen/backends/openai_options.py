"""The openai teacher's `teacher.options` (CLI: --teacher.options.NAME VALUE), checked and typed.

    options_of({"retry_initial": "0.01"}) -> {"retry_initial": 0.01, "retry_max": 30.0, ...}
"""
from __future__ import annotations

from datagen.errors import DatagenError

OPTIONS = {"retry_initial": 0.5, "retry_max": 30.0, "preflight": True,  # cfg.options keys for this backend
           "adaptive": True, "recover_after": 25,
           # batch mode (--teacher.batch true): seconds between polls, whether to send the JSONL at
           # all (false: write it for `vllm run-batch` and stop), a batch's limits (OpenAI's)
           "batch_poll": 30.0, "batch_submit": True, "batch_max_requests": 50_000, "batch_max_bytes": 200 << 20}


def _flag(value) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off") if isinstance(value, str) else bool(value)


def options_of(given: dict) -> dict:
    """teacher.options may come from CLI flags as strings: --teacher.options.retry_initial 0.01"""
    unknown = set(given) - set(OPTIONS)
    if unknown:
        raise DatagenError(f"unknown teacher.options for openai: {', '.join(sorted(unknown))}; "
                           f"valid: {', '.join(OPTIONS)}")
    out = {**OPTIONS, **given}
    try:
        out["retry_initial"], out["retry_max"] = float(out["retry_initial"]), float(out["retry_max"])
        out["batch_poll"] = float(out["batch_poll"])
        for k in ("recover_after", "batch_max_requests", "batch_max_bytes"):
            out[k] = int(out[k])
    except (TypeError, ValueError):
        raise DatagenError("teacher.options.retry_initial, retry_max and batch_poll must be numbers (seconds), "
                           "recover_after, batch_max_requests and batch_max_bytes whole numbers") from None
    for k in ("preflight", "adaptive", "batch_submit"):
        out[k] = _flag(out[k])
    return out
