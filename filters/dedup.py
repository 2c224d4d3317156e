"""Duplicate removal. exact_dup: same normalized text (case and whitespace folded) as an earlier
record; the rejection's detail is the id of the record kept.

    exact_dup()([Record("Hi"), Record(" hi ")]) -> [None, ("exact_duplicate", "<id of first>")]
"""
from __future__ import annotations

from datagen.record import Record, normalize, sha256_text


def exact_key(r: Record, fields: tuple[str, ...] = ("instruction", "input", "output")) -> str:
    return sha256_text("\x1f".join(normalize(str(getattr(r, f) or "")).lower() for f in fields))


def exact_dup(fields: tuple[str, ...] | list[str] = ("instruction", "input", "output")):
    fields = tuple(fields)

    def run(records: list[Record]):
        first: dict[str, str] = {}
        out = []
        for r in records:
            k = exact_key(r, fields)
            if k in first:
                out.append(("exact_duplicate", first[k]))
            else:
                first[k] = r.id
                out.append(None)
        return out
    return run
