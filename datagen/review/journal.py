"""The review journal: every human action appended as one JSON line, flushed and fsynced before the
app answers, so a crash, a kill -9 or a closed tab loses nothing and the next start resumes from it.

A dataset version (`runs/<name>/vNNNN/`) and an eval (`evals/<name>/eNNNN/`) are immutable folders, so the
journals of a review live beside them, in a sibling folder keyed by the version: `runs/<name>/reviews/vNNNN/`
(`evals/<name>/reviews/eNNNN/`), one file per annotator (`<annotator>.jsonl`: one writer per file, so two
annotators labelling at once never interleave their lines).

    j = Journal(journal_dir(version_path), "alice"); j.append({"mode": "pairs", "item": "3f1c..", "label": "A"})
    read_journals(folder) -> [{"seq": 0, "time": "...", "annotator": "alice", ...}, ...]   (every annotator)
    journals_sha(folder) -> {"sha256": "...", "files": {"alice.jsonl": "..."}}
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

from datagen.errors import DatagenError

FORMAT = 1  # the journal line format; a reader refuses lines of a newer one


def check_annotator(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name or "") or name.startswith("."):
        raise DatagenError(f"invalid annotator name {name!r}: use 1-64 letters, digits, '.', '_' and '-'")
    return name


def journal_dir(folder: Path) -> Path:
    """runs/demo/v0002 -> runs/demo/reviews/v0002 (evals/ifeval/e0001 -> evals/ifeval/reviews/e0001)."""
    folder = Path(folder)
    return folder.parent / "reviews" / folder.name


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class Journal:
    """One annotator's append-only journal. append() returns once the line is on disk (fsync)."""

    def __init__(self, folder: Path, annotator: str) -> None:
        self.folder = Path(folder)
        self.annotator = check_annotator(annotator)
        self.path = self.folder / f"{annotator}.jsonl"
        self.folder.mkdir(parents=True, exist_ok=True)
        repair_tail(self.path)
        self.seq = len(read_lines(self.path))

    def append(self, entry: dict) -> dict:
        line = {"v": FORMAT, "seq": self.seq, "time": now(), "annotator": self.annotator, **entry}
        data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.seq += 1
        return line


def repair_tail(path: Path) -> None:
    """A kill -9 during a write can leave a last line without its newline: that action was never
    acknowledged to the page, so it is cut off (the rest of the file is kept byte for byte)."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    keep = data[: data.rfind(b"\n") + 1]
    with open(path, "r+b") as f:
        f.truncate(len(keep))
        f.flush()
        os.fsync(f.fileno())


def read_lines(path: Path) -> list[dict]:
    """The complete lines of one journal file (a torn last line is ignored); a damaged line in the
    middle is an error naming the file and line."""
    if not path.is_file():
        return []
    out = []
    lines = path.read_bytes().split(b"\n")
    for n, raw in enumerate(lines[:-1], 1):  # the part after the last newline is torn or empty
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            raise DatagenError(f"review journal {path} is damaged at line {n}; fix or remove that line") from None
        if not isinstance(entry, dict) or entry.get("v", FORMAT) > FORMAT:
            raise DatagenError(f"review journal {path} line {n} is not a journal entry of format {FORMAT}")
        out.append(entry)
    return out


def journal_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    return sorted(p for p in folder.glob("*.jsonl") if not p.name.startswith(".")) if folder.is_dir() else []


def read_journals(folder: Path) -> list[dict]:
    """Every annotator's entries, in time order (ties: annotator, then seq)."""
    entries = [e for p in journal_files(folder) for e in read_lines(p)]
    return sorted(entries, key=lambda e: (e.get("time", ""), e.get("annotator", ""), e.get("seq", 0)))


def journals_sha(folder: Path) -> dict:
    """sha256 of each journal file's complete lines and one sha256 over them all (name and sha, in name order):
    the lineage of a version committed from a review."""
    files = {}
    for p in journal_files(folder):
        data = p.read_bytes()
        files[p.name] = hashlib.sha256(data[: data.rfind(b"\n") + 1]).hexdigest()
    total = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in files.items()).encode()).hexdigest()
    return {"sha256": total, "files": files}
