"""Answers stored in a response cache so far, read while a run may still be writing it:
the kill -9 resume tests poll this to kill a run mid-way.

    cache_rows(tmp_path / "runs/.cache/responses.sqlite") -> 12   (0 before the table exists)
"""
from __future__ import annotations

import sqlite3
from pathlib import Path


def cache_rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.Error:  # table not created yet, or the file is mid-write
        return 0
