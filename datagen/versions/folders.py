"""Numbered folders published atomically: the machinery under dataset versions (vNNNN) and eval
runs (eNNNN). A folder is written under a `.tmp-*` name beside its final place and renamed in one
step, so it is either absent or complete; a writer killed mid-write leaves only a `.tmp-*` dir,
removed by a later writer. A live writer holds an flock on `.tmp-XXXX.lock` beside its folder for as
long as it runs (the kernel drops it when the process dies, kill -9 included), so the cleanup never
removes the folder of a writer still running, however old its mtime.

    publish(tmp, runs / "demo", "v", finish) -> runs/demo/v0003
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
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
_HELD: dict[str, int] = {}  # temp folder -> the fd holding its lock, for this process's live writers


def lock_path(tmp: Path) -> Path:
    return tmp.with_name(tmp.name + ".lock")


def make_tmp(base: Path) -> Path:
    """A private `.tmp-*` folder under base for a writer, with its lock held until release_tmp()."""
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
    fd = os.open(lock_path(tmp), os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _HELD[str(tmp)] = fd
    return tmp


def release_tmp(tmp: Path) -> None:
    """The writer of `tmp` is done (published or aborted): drop and remove its lock."""
    fd = _HELD.pop(str(tmp), None)
    lock_path(tmp).unlink(missing_ok=True)
    if fd is not None:
        os.close(fd)


def writer_alive(tmp: Path) -> bool | None:
    """True while a process holds tmp's lock, False once none does, None for a folder without a lock
    (written by a version of datagen before the lock)."""
    try:
        fd = os.open(lock_path(tmp), os.O_RDWR)
    except FileNotFoundError:
        return None
    except OSError:
        return True  # cannot tell: keep it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def clean_stale_tmp(base: Path, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove `.tmp-*` dirs left by a writer killed mid-write (kill -9 skips its cleanup): those whose lock
    no process holds. A folder without a lock (an older datagen) goes only once its mtime is old."""
    removed = []
    now = time.time()
    for p in sorted(base.glob(".tmp-*")) if base.is_dir() else []:
        try:
            if p.name.endswith(".lock"):
                if not p.with_name(p.name[:-5]).exists() and writer_alive(p.with_name(p.name[:-5])) is False:
                    p.unlink(missing_ok=True)  # the lock of a folder already gone
                continue
            alive = writer_alive(p)
            if p.is_dir() and (alive is False or (alive is None and now - p.stat().st_mtime > older_than)):
                shutil.rmtree(p, ignore_errors=True)
                lock_path(p).unlink(missing_ok=True)
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
            release_tmp(tmp)
            return final
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            for f in tmp.iterdir():
                os.chmod(f, 0o644)
