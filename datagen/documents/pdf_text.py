"""PDF -> text with pypdf (pure Python): each page's text layer, pages joined by a line holding a form
feed ("\\n\\f\\n", a paragraph break to the chunker), and the offset where each page starts. A PDF
encrypted with an owner password only (empty user password) opens as any reader opens it; one that
needs a password is `encrypted_pdf`; one whose pages carry (almost) no text, a scan, is `no_text_layer`.

    pdf_to_text(open("a.pdf", "rb").read()) -> ("Page one text\\n\\f\\nPage two text", (0, 16))
"""
from __future__ import annotations

import io
import logging

from datagen.documents.errors import CannotRead
from datagen.extras import MissingExtra

PAGE_BREAK = "\n\f\n"
# Fewer non-space characters than this per page on average: a scan without OCR (a page of prose holds
# ~2,000; a title page ~30).
MIN_CHARS_PER_PAGE = 16


def _reader(data: bytes):
    try:
        import pypdf
    except ImportError:
        raise CannotRead("missing_extra", str(MissingExtra("PDF (pypdf)", "documents"))) from None
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd files are not ours to print
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise CannotRead("unreadable_pdf", f"{type(exc).__name__}: {exc}"[:300]) from None
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except Exception as exc:  # e.g. AES without a crypto library
            raise CannotRead("encrypted_pdf", f"{type(exc).__name__}: {exc}"[:300]) from None
        if not ok:
            raise CannotRead("encrypted_pdf", "needs a password to open")
    return reader


def pdf_to_text(data: bytes) -> tuple[str, tuple[int, ...]]:
    reader = _reader(data)
    texts = []
    try:
        for page in reader.pages:
            texts.append((page.extract_text() or "").replace("\x00", "").strip("\n"))
    except CannotRead:
        raise
    except Exception as exc:
        raise CannotRead("unreadable_pdf", f"page {len(texts) + 1}: {type(exc).__name__}: {exc}"[:300]) from None
    if not texts:
        raise CannotRead("no_text_layer", "0 pages")
    chars = sum(len("".join(t.split())) for t in texts)
    if chars < MIN_CHARS_PER_PAGE * len(texts):
        raise CannotRead("no_text_layer", f"{chars} characters of text in {len(texts)} pages (a scan?)")
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + len(PAGE_BREAK)
    return PAGE_BREAK.join(texts), tuple(starts)
