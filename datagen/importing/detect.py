"""Which format a file is in, from the columns of its first rows, and the `--map` renames applied
before that.

    detect([{"instruction": "a", "output": "b"}], "x.jsonl") -> ("alpaca", "every sampled row has instruction")
    parse_map("instruction=question,output=answer") -> {"instruction": "question", "output": "answer"}
"""
from __future__ import annotations

from collections import Counter

from datagen.errors import DatagenError
from datagen.importing.formats import FORMATS

# format -> (columns a row must have, columns it must not have): the signature of each export format
SIGNATURES = {
    "dpo": ({"prompt", "chosen", "rejected"}, set()),
    "prompt-completion": ({"prompt", "completion"}, set()),
    "messages": ({"messages"}, set()),
    "sharegpt": ({"conversations"}, set()),
    "self-instruct": ({"instruction", "instances"}, set()),
    "alpaca": ({"instruction"}, {"instances"}),
}
TARGETS = ("instruction", "input", "output", "conversations", "messages", "prompt", "completion", "chosen",
           "rejected", "instances", "name", "is_classification")
SAMPLE = 100  # rows looked at to detect the format and check --map


def row_formats(keys) -> list[str]:
    keys = set(keys)
    return [f for f, (need, never) in SIGNATURES.items() if need <= keys and not (never & keys)]


def detect(rows: list[dict], label: str) -> tuple[str, str]:
    """(format, why) from sampled rows; a mix, a row that fits two formats, or none: a DatagenError."""
    seen: Counter = Counter()
    for row in rows:
        fits = row_formats(row)
        if len(fits) > 1:
            raise DatagenError(f"{label} is ambiguous: a row fits {' and '.join(fits)} (columns "
                               f"{', '.join(sorted(row))}); pass --format {' or --format '.join(fits)}")
        seen[fits[0] if fits else None] += 1
    found = [f for f in seen if f]
    if len(found) > 1:
        raise DatagenError(f"{label} is ambiguous: its rows look like {', '.join(found)}; pass --format "
                           f"({', '.join(FORMATS)})")
    if not found:
        cols = sorted({k for row in rows for k in row})
        raise DatagenError(f"cannot tell the format of {label} (columns: {', '.join(cols) or 'none'}): pass "
                           f"--format ({', '.join(FORMATS)}) and --map TARGET=COLUMN for other column names")
    fmt = found[0]
    need = ", ".join(sorted(SIGNATURES[fmt][0]))
    if not seen[None]:
        return fmt, f"every sampled row has {need}"
    return fmt, f"{seen[fmt]} of {len(rows)} sampled rows have {need}"


def parse_map(text: str) -> dict[str, str]:
    """'instruction=question,output=answer' -> {target: source column}."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        target, eq, source = (s.strip() for s in part.partition("="))
        if not eq or not target or not source:
            raise DatagenError(f"--map takes TARGET=COLUMN pairs separated by commas, got {part!r}")
        if target not in TARGETS:
            raise DatagenError(f"--map {part}: unknown target {target!r}; targets: {', '.join(TARGETS)}")
        if target in out:
            raise DatagenError(f"--map names {target!r} twice")
        out[target] = source
    return out


def check_map(mapping: dict[str, str], rows: list[dict], label: str) -> None:
    """Every mapped column must appear in the sampled rows: a typo is an error before anything is written."""
    cols = {k for row in rows for k in row}
    missing = [f"{t}={s}" for t, s in mapping.items() if s not in cols]
    if missing:
        raise DatagenError(f"--map {', '.join(missing)}: no such column in {label} (columns: "
                           f"{', '.join(sorted(cols))})")


def apply_map(row: dict, mapping: dict[str, str]) -> dict:
    """{"question": "a"} with {"instruction": "question"} -> {"instruction": "a"}"""
    if not mapping:
        return row
    out = {k: v for k, v in row.items() if k not in mapping.values()}
    for target, source in mapping.items():
        if source in row:
            out[target] = row[source]
    return out
