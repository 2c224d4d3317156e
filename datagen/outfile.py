"""The one way to write an output file the user named (`export --out`, `report --out`, `sample --out`):
a regular file at that path, written under a unique temp name beside it and renamed over it in one
step, so a reader sees the old file or the whole new one, and two writers to one path never mix (the
last rename wins, each file complete). Refused, before anything is written: a device node, a FIFO, a
socket, a folder, a symbolic link (unless `follow_symlinks`: then its target is written, under the
same rules), and any path inside a dataset version or eval folder (they are immutable) or inside a
writer's `.tmp-*` folder.

    with output_file("out.jsonl") as f: f.write("...")      # text; mode="wb" for bytes
    with output_dir("out_hf") as tmp: ds.save_to_disk(tmp)  # a folder, renamed onto a free path
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from datagen.errors import DatagenError

# A folder of these names holding this file is immutable: a dataset version or an eval run.
SEALED = ((re.compile(r"v\d{4,}"), "manifest.json"), (re.compile(r"e\d{4,}"), "summary.json"))


def sealed_folder(path: Path) -> Path | None:
    """The version/eval folder (or writer's temp folder) that `path` lies in, if any."""
    for folder in Path(os.path.realpath(path)).parents:
        if folder.name.startswith(".tmp-") or any(rx.fullmatch(folder.name) and (folder / f).is_file()
                                                  for rx, f in SEALED):
            return folder
    return None


def check_output(path: str | Path, follow_symlinks: bool = False, folder: bool = False) -> Path:
    """The path to write once it is fit to be an output (see the module doc); DatagenError if not."""
    path = Path(path)
    if str(path) in ("", "."):
        raise DatagenError("--out needs a file path")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise DatagenError(f"cannot write {path}: a part of {path.parent} is a file, not a folder") from None
    except OSError as exc:
        raise DatagenError(f"cannot write {path}: {exc.strerror}") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not follow_symlinks:
            raise DatagenError(f"{path} is a symbolic link (to {os.readlink(path)}); give the file it points to, "
                               "or another path")
        return check_output(os.path.realpath(path), False, folder)
    if st is not None:
        if stat.S_ISDIR(st.st_mode) and not folder:
            raise DatagenError(f"{path} is a folder; --out needs a file path")
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise DatagenError(f"{path} is not a regular file (a device, FIFO or socket); --out writes regular files")
        if folder and not stat.S_ISDIR(st.st_mode):
            raise DatagenError(f"{path} is a file; this format writes a folder")
    sealed = sealed_folder(path)
    if sealed is not None:
        raise DatagenError(f"{path} is inside {sealed}, which is immutable (a dataset version, an eval or a "
                           "writer's temp folder); write somewhere else")
    make_dir(path.parent, f"cannot write {path}:")
    return path


# Errors of writing itself (not of reading what is written): named as such, one line.
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC/EDQUOT from the OS, SQLite's SQLITE_FULL, or pyarrow's "No space left on device"."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if getattr(exc, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
        return True
    return "No space left on device" in str(exc) or "database or disk is full" in str(exc)


def io_error(path: Path, exc: OSError) -> DatagenError:
    """An OSError while writing `path` as one line; a full disk says so."""
    if is_disk_full(exc):
        return DatagenError(f"disk full while writing {path}; nothing was written there (free space and run it again)")
    return DatagenError(f"cannot write {path}: {exc.strerror or exc}")


def make_dir(path: str | Path, what: str = "folder") -> Path:
    """mkdir -p, its failures as one line (a part of the path is a file, no permission, disk full)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise DatagenError(f"{what} {path}: a part of it is a file, not a folder; choose another path") from None
    except OSError as exc:
        raise io_error(path, exc) from None
    return path


@contextlib.contextmanager
def output_file(path: str | Path, mode: str = "w", follow_symlinks: bool = False) -> Iterator:
    """An open temp file beside `path` (unique name); on a clean exit it replaces `path` in one step,
    on any error it is removed and `path` is left as it was."""
    path = check_output(path, follow_symlinks)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise io_error(path, exc) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes it owner-only; an export is an ordinary file
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise io_error(path, exc) from None
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in WRITE_ERRNOS:
            raise io_error(path, exc) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str, follow_symlinks: bool = False) -> Path:
    with output_file(path, "w", follow_symlinks) as f:
        f.write(text)
    return Path(path)


@contextlib.contextmanager
def output_dir(path: str | Path) -> Iterator[Path]:
    """A temp folder beside `path` to fill; renamed onto `path` (which must not exist) on a clean exit."""
    path = check_output(path, folder=True)
    if path.exists():
        raise DatagenError(f"{path} already exists; choose another --out")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp / "out"
        os.chmod(tmp / "out", 0o755)
        os.rename(tmp / "out", path)
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS or exc.filename in (str(tmp / "out"), str(path)):
            raise io_error(path, exc) from None
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
