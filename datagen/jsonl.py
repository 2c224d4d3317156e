"""Reading the text files a user names (seeds, recipes, templates, prompt files, personas) and JSONL,
with errors that name the file and line. read_text is the one reader: a regular file of UTF-8 text,
else one DatagenError (a FIFO is refused before it is opened, so it never blocks; a binary file is
named as such).

    json_objects('{"a": 1}\\n\\n{"b": 2}', "seed file s.jsonl") -> [(1, {"a": 1}), (3, {"b": 2})]
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from datagen.errors import DatagenError


def read_text(path: Path, label: str, missing_hint: str = "") -> str:
    """A file's text; a missing or unreadable file is one DatagenError naming it:
    read_text(Path("s.jsonl"), "seed file") -> DatagenError("seed file not found: s.jsonl")."""
    path = Path(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise DatagenError(f"{label} {path} is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block here until someone writes to it
            raise DatagenError(f"{label} {path} is not a regular file (a FIFO, device or socket)")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DatagenError(f"{label} not found: {path}{missing_hint}") from None
    except UnicodeDecodeError as exc:
        raise DatagenError(f"{label} {path} is not UTF-8 text (a binary file?): byte {exc.start}") from None
    except OSError as exc:
        raise DatagenError(f"{label} {path}: cannot read: {exc.strerror or exc}") from None
    if "\0" in text:
        raise DatagenError(f"{label} {path} is not text: it holds NUL bytes (a binary file?)")
    return text


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
        except RecursionError:
            raise DatagenError(f"{label} line {lineno}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise DatagenError(f"{label} line {lineno}: expected a JSON object{hint}")
        rows.append((lineno, obj))
    return rows
