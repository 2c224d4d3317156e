"""The one exception a format reader raises: the reason a file cannot be read, which becomes an
Unreadable (and a rejected record), never a traceback.

    raise CannotRead("encrypted_pdf", "needs a password to open")
"""
from __future__ import annotations


class CannotRead(Exception):
    """(reason, detail): reason is snake_case (empty_file, binary_file, encrypted_pdf, ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail
