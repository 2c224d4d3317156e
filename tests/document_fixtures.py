"""Documents the tests write themselves: a PDF made with fpdf2 (several pages, headings), an encrypted
PDF and a scan-like PDF (pypdf, fpdf2), HTML with scripts, styles and navigation, markdown with
headings, a text file, a DOCX (the standard library's zipfile), a 0-byte file and a binary named .md.

    write_corpus(tmp_path) -> {"md": Path(".../handbook.md"), "pdf": ..., "empty": ..., ...}
"""
from __future__ import annotations

import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)
MARKDOWN = """# Staff handbook

Welcome to Harbor Lamp Ltd. This handbook explains how we work. Read it in your first week.

## Leave

Every employee has 27 days of paid leave a year. Leave is booked in the Tidewater portal at least two
weeks ahead. Unused leave of up to five days carries over to the next year; the rest lapses on 31 March.

Sick leave is separate: tell your manager before 10:00 on the first day, and send a doctor's note from
the fourth day on. — Café rules apply to everyone, naïve or not.

## Equipment

Each new starter receives a laptop, a headset and a badge. The badge opens the Pier Street office from
07:00 to 20:00. A lost badge costs 15 pounds to replace, because the lock codes must be changed.
"""

TEXT = """Onboarding checklist.\r\n\r\nOn day one, collect your badge from reception and sign the
security policy. On day two, meet your buddy, who answers questions for your first month.\r\n\r\nBy the
end of week one, complete the fire safety course. The course takes forty minutes and ends with a quiz.
"""

HTML = """<!doctype html><html><head><title>Expenses</title><style>p { color: red }</style>
<script>var secret = "do not index";</script></head><body>
<nav><a href="/">Home</a> | <a href="/about">About us</a></nav>
<header><p>Harbor Lamp intranet</p></header>
<main><h1>Expenses policy</h1>
<p>Claims are filed in the Ledgerline app within 30 days of the purchase.
   Receipts over 20 pounds must be photographed.</p>
<script type="text/javascript">trackPageView();</script>
<h2>Travel</h2><p>Train travel is second class. Flights need approval from a director, because they cost
more and emit more.</p><ul><li>Taxis only after 22:00.</li><li>Hotels up to 120 pounds a night.</li></ul>
<!-- an editor's comment that is not content -->
</main><footer>Copyright Harbor Lamp</footer></body></html>
"""

PDF_PAGES = [
    ("Safety manual", "The fire assembly point is the car park behind the Pier Street office. "
     "Fire drills happen twice a year, in April and in October. Wardens wear yellow vests."),
    ("First aid", "First aid kits hang beside every kitchen. The trained first aiders are listed on the "
     "notice board, and their names are updated every quarter by the facilities team."),
    ("Reporting", "Report every accident in the Beacon form within 24 hours, even when nobody was hurt, "
     "because near misses show where the next accident will happen."),
]


def write_pdf(path: Path, pages=PDF_PAGES) -> Path:
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 writes the test PDFs (pip install fpdf2)")
    pdf = fpdf.FPDF()
    pdf.set_creation_date(FIXED_DATE)  # the same bytes on every run (the sha256 seeds the picks)
    pdf.set_auto_page_break(True, margin=15)
    for title, body in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, body)
    pdf.output(str(path))
    return path


def write_scan_pdf(path: Path) -> Path:
    """A PDF whose page is drawn, not written: no text layer (what a scan without OCR gives)."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 writes the test PDFs")
    pdf = fpdf.FPDF()
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()
    for k in range(20):
        pdf.rect(10 + 3 * k, 10 + 5 * k, 80, 4, style="F")
    pdf.output(str(path))
    return path


def write_encrypted_pdf(path: Path, source: Path) -> Path:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=str(source))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="RC4-128")
    with open(path, "wb") as f:
        writer.write(f)
    return path


def write_docx(path: Path) -> Path:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def para(text: str, style: str = "") -> str:
        ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f"<w:p>{ppr}<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"

    body = (para("Parking", "Heading1") + para("The car park has 40 spaces. Spaces are given out by lottery "
                                               "every January.") + para("") +
            '<w:tbl><w:tr><w:tc>' + para("Zone") + '</w:tc><w:tc>' + para("Hours") + '</w:tc></w:tr></w:tbl>')
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document {w}><w:body>{body}</w:body></w:document>'
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", xml)
    return path


def write_corpus(folder: Path) -> dict[str, Path]:
    """Every kind of document, readable and not, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"md": folder / "handbook.md", "txt": folder / "onboarding.txt", "html": folder / "expenses.html"}
    paths["md"].write_text(MARKDOWN, encoding="utf-8")
    paths["txt"].write_bytes(TEXT.encode("utf-8"))
    paths["html"].write_text(HTML, encoding="utf-8")
    paths["pdf"] = write_pdf(folder / "safety.pdf")
    paths["encrypted"] = write_encrypted_pdf(folder / "locked.pdf", paths["pdf"])
    paths["scan"] = write_scan_pdf(folder / "scan.pdf")
    paths["docx"] = write_docx(folder / "parking.docx")
    paths["empty"] = folder / "empty.md"
    paths["empty"].write_bytes(b"")
    paths["binary"] = folder / "image.md"
    paths["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    return paths
