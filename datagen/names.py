"""The one check of names: a name the user gives (`--name` of generate, import, filter, eval, train) and
a file name a manifest lists are plain relative names, resolved inside their folder. `.`, `..`,
`.cache`, separators and absolute paths are refused; a folder reached through a symbolic link that
leaves its parent is refused too.

    child("runs", "demo", "dataset name") -> Path("runs/demo")
    child("runs", "..", "dataset name")   -> DatagenError
    plain_file_name("records-00000.parquet") -> True;  plain_file_name("../v0001/records.parquet") -> False
"""
from __future__ import annotations

import re
from pathlib import Path

from datagen.errors import DatagenError

# A letter, digit or underscore first (so never `.`, `..`, `.cache` or a flag), then letters, digits, . _ -
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")


def is_plain(name: object) -> bool:
    return isinstance(name, str) and NAME.fullmatch(name) is not None


def check_name(name: object, what: str = "dataset name") -> str:
    if not is_plain(name):
        raise DatagenError(f"invalid {what} {name!r}: a plain name of letters, digits, '.', '_' and '-' "
                           "that starts with a letter, digit or '_' (no '/', '.', '..' or hidden names)")
    return str(name)


def inside(folder: str | Path, path: Path) -> bool:
    """Whether `path`, every link followed, lies inside `folder` (also every link followed)."""
    try:
        return path.resolve().is_relative_to(Path(folder).resolve())
    except (OSError, RuntimeError):  # a link loop
        return False


def child(folder: str | Path, name: object, what: str = "dataset name") -> Path:
    """folder/name once `name` is a plain name and the result stays inside `folder`."""
    path = Path(folder) / check_name(name, what)
    if not inside(folder, path) or path.resolve() == Path(folder).resolve():
        raise DatagenError(f"{what} {name!r}: {path} leads outside {folder} (a symbolic link?); choose another name")
    return path


def plain_file_name(entry: object) -> bool:
    """A file entry of a manifest: one plain name, no folder, nothing absolute, nothing hidden."""
    return is_plain(entry)
