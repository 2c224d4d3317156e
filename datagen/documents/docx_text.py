"""DOCX -> text with the standard library (a .docx is a zip of XML): each paragraph of the body, in
order, separated by a blank line; paragraphs styled Title or Heading N become markdown headings; a
table row becomes one paragraph with its cells joined by " | ". An encrypted .docx (an OLE file, not a
zip) or a damaged one is `unreadable_docx`.

    docx_to_text(open("a.docx", "rb").read()) -> "# Leave policy\\n\\nAsk your manager first."
"""
from __future__ import annotations

import io
import re
import zipfile
import xml.etree.ElementTree as ET

from datagen.documents.errors import CannotRead

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_XML_BYTES = 64 << 20  # a larger document.xml is a zip bomb, not a handbook
_HEADING = re.compile(r"^heading\s*([1-6])$", re.IGNORECASE)  # the style id: "Heading1", "heading 2"


def _level(p) -> int:
    style = p.find(f"{W}pPr/{W}pStyle")
    name = (style.get(f"{W}val") or "") if style is not None else ""
    if name.lower() == "title":
        return 1
    m = _HEADING.match(name)
    return int(m.group(1)) if m else 0


def _para_text(p) -> str:
    parts = []
    for el in p.iter():
        if el.tag == f"{W}t":
            parts.append(el.text or "")
        elif el.tag == f"{W}tab":
            parts.append("\t")
        elif el.tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
    return "".join(parts).strip()


def _blocks(body) -> list[str]:
    out = []
    for el in body:
        if el.tag == f"{W}p":
            text, level = _para_text(el), _level(el)
            if text:
                out.append(("#" * level + " " if level else "") + text)
        elif el.tag == f"{W}tbl":
            for row in el.iter(f"{W}tr"):
                cells = [" ".join(_para_text(p) for p in tc.iter(f"{W}p")).strip() for tc in row.iter(f"{W}tc")]
                if any(cells):
                    out.append(" | ".join(c for c in cells if c))
        elif el.tag == f"{W}sdt":  # a content control wraps paragraphs of its own
            content = el.find(f"{W}sdtContent")
            if content is not None:
                out += _blocks(content)
    return out


def docx_to_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("word/document.xml")
            if info.file_size > MAX_XML_BYTES:
                raise CannotRead("unreadable_docx", f"word/document.xml is {info.file_size} bytes")
            root = ET.fromstring(z.read(info))
    except CannotRead:
        raise
    except zipfile.BadZipFile:
        raise CannotRead("unreadable_docx", "not a zip file (an encrypted or damaged .docx?)") from None
    except KeyError:
        raise CannotRead("unreadable_docx", "no word/document.xml inside") from None
    except ET.ParseError as exc:
        raise CannotRead("unreadable_docx", f"word/document.xml: {exc}") from None
    body = root.find(f"{W}body")
    return "\n\n".join(_blocks(body if body is not None else root))
