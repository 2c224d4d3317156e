"""Numbered folders published atomically: the machinery under dataset versions (vNNNN) and eval
runs (eNNNN). A folder is written under a `.tmp-*` name beside its final place and renamed in one
step, so it is either absent or complete; a writer killed mid-write leaves only a `.tmp-*` dir,
removed by a later writer once it is old.

    publish(tmp, runs / "demo", "v", finish) -> runs/demo/v0003
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import time
from pathlib import Path


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def numbered(base: Path, prefix: str = "v") -> list[tuple[int, Path]]:
    """Every <prefix>NNNN directory under base (vNNNN versions, eNNNN evals), complete or not, in order."""
    if not base.is_dir():
        return []
    pattern = re.compile(rf"{re.escape(prefix)}(\d{{4,}})")
    return sorted((int(m.group(1)), p) for p in base.iterdir() if (m := pattern.fullmatch(p.name)) and p.is_dir())


STALE_TMP_SECONDS = 3600


def clean_stale_tmp(base: Path, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove `.tmp-*` dirs left by a writer killed mid-write (kill -9 skips its cleanup). Only
    old ones: a fresh one may belong to a writer that is still running."""
    removed = []
    now = time.time()
    for p in base.glob(".tmp-*") if base.is_dir() else []:
        try:
            if p.is_dir() and now - p.stat().st_mtime > older_than:
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        except OSError:
            continue
    return removed


def publish(tmp: Path, base: Path, prefix: str, finish) -> Path:
    """Rename the finished folder `tmp` onto the next free <prefix>NNNN under `base` and return it.
    `finish(tmp, label)` writes what names the number (the manifest) before each attempt. Rename is
    atomic, so the folder is either absent or complete (a kill -9 leaves at most a .tmp-* dir), and
    it fails if another writer took that number first, in which case the next one is tried."""
    while True:
        taken = numbered(base, prefix)
        final = base / f"{prefix}{(taken[-1][0] + 1 if taken else 1):04d}"
        finish(tmp, final.name)
        for f in tmp.iterdir():
            os.chmod(f, 0o444)  # immutable by convention and by mode
        try:
            os.rename(tmp, final)
            return final
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            for f in tmp.iterdir():
                os.chmod(f, 0o644)
