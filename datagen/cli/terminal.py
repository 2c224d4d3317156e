"""Text from records (model output, imported data) printed to a terminal stays text: control characters
(ESC, BEL, backspace, C1 codes...) are shown escaped, so a record cannot move the cursor, recolour,
retitle or beep the user's terminal. Output to a file or a pipe is written as it is.

    show("a \x1b[2Jb")  # on a terminal prints: a \x1b[2Jb (the escape sequence as text)
"""
from __future__ import annotations

import re
import sys

# C0 controls but tab and newline, DEL, and the C1 controls a terminal also obeys
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escaped(text: str) -> str:
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def show(text: str = "", file=None) -> None:
    """print(), with control characters escaped when the output is a terminal."""
    file = file or sys.stdout
    print(escaped(text) if file.isatty() else text, file=file)
