"""JSONL reading with errors that name the file and line.

    json_objects('{"a": 1}\\n\\n{"b": 2}', "seed file s.jsonl") -> [(1, {"a": 1}), (3, {"b": 2})]
"""
from __future__ import annotations

import json
from pathlib import Path

from datagen.errors import DatagenError


def read_text(path: Path, label: str, missing_hint: str = "") -> str:
    """A file's text; a missing or unreadable file is one DatagenError naming it:
    read_text(Path("s.jsonl"), "seed file") -> DatagenError("seed file not found: s.jsonl")."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatagenError(f"{label} not found: {path}{missing_hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatagenError(f"{label} {path}: cannot read: {exc}") from None


def json_objects(text: str, label: str, hint: str = "") -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; a line that is not a JSON object is a
    DatagenError "<label> line N: ...". `hint` is appended to the not-an-object message."""
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatagenError(f"{label} line {lineno}: invalid JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise DatagenError(f"{label} line {lineno}: expected a JSON object{hint}")
        rows.append((lineno, obj))
    return rows
