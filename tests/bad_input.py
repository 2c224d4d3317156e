"""The one check of the bad-input contract (issue 30): exit code 2 and exactly one stderr line,
`datagen: error: ...`, with no traceback and no exception class name in it.

    err = one_error(capsys, ["export", "v", "--out", "/dev/null"])   # -> the line, for more asserts
"""
from __future__ import annotations

import re

from datagen.cli import main

CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Exit)\b|Traceback")


def check_line(code: int, err: str) -> str:
    assert code == 2, err
    assert err.startswith("datagen: error: ") and err.count("\n") == 1, err
    assert not CLASS_NAME.search(err), f"an exception's name in: {err}"
    return err


def one_error(capsys, argv) -> str:
    code = main(argv)
    return check_line(code, capsys.readouterr().err)
