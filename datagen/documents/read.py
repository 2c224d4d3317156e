"""Finding and reading documents. A file that cannot be read (encrypted, no text layer, binary under a
text name, empty) is an `Unreadable` with a reason, never an exception: the run goes on without it.

    find_documents(["docs/", "notes/*.md", "a.pdf"]) -> [Path("docs/x.md"), Path("notes/y.md"), Path("a.pdf")]
    read_document(Path("a.md")) -> Document(path="a.md", kind="markdown", text="# A\\n...", text_of="raw")
    read_document(Path("empty.md")) -> Unreadable(path="empty.md", reason="empty_file", ...)
"""
from __future__ import annotations

import glob
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from datagen.documents.errors import CannotRead
from datagen.errors import DatagenError

KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".rst": "text",
         ".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx"}
RAW_KINDS = ("markdown", "text")  # their text is the file itself; the others' is extracted


@dataclass(frozen=True)
class Document:
    path: str
    sha256: str  # of the file's bytes
    kind: str  # markdown | text | html | pdf | docx
    text: str  # what chunk spans index into (see the package docstring)
    text_of: str  # "raw": the file decoded as UTF-8; "extracted": the text extracted from it
    pages: tuple[int, ...] = field(default=())  # PDF: the offset in `text` where each page starts

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def page_of(self, offset: int) -> int | None:
        """1-based page holding `offset` (PDF), else None."""
        if not self.pages:
            return None
        return sum(1 for p in self.pages if p <= offset) or 1


@dataclass(frozen=True)
class Unreadable:
    path: str
    sha256: str  # "" when the bytes could not be read
    kind: str
    reason: str  # snake_case: empty_file, binary_file, not_utf8, encrypted_pdf, no_text_layer, ...
    detail: str = ""


def find_documents(specs: list[str]) -> list[Path]:
    """Files named, files under folders named (the known extensions, hidden files skipped), and files a
    glob matches, in order, each once. A path that does not exist or a glob matching nothing is a
    DatagenError: a typo should not quietly make a smaller dataset."""
    out: dict[Path, None] = {}
    for spec in specs:
        if any(c in spec for c in "*?["):
            hits = sorted(glob.glob(spec, recursive=True))
            if not hits:
                raise DatagenError(f"method_cfg.docs: no file matches {spec!r}")
            paths = [Path(h) for h in hits]
        else:
            paths = [Path(spec)]
        for p in paths:
            if p.is_dir():
                out.update((f, None) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in KINDS
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            elif p.exists():
                out[p] = None
            else:
                raise DatagenError(f"method_cfg.docs: no such file or folder: {spec}")
    return list(out)


def check_not_binary(data: bytes) -> None:
    """CannotRead(binary_file) when the first 64 KiB hold a NUL byte (no text format has one)."""
    if b"\x00" in data[:65536]:
        at = data.index(b"\x00")
        raise CannotRead("binary_file", f"NUL byte at offset {at}: not a text file")


def decode_text(data: bytes) -> str:
    """The bytes as UTF-8 text, or CannotRead(binary_file | not_utf8)."""
    check_not_binary(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CannotRead("not_utf8", f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8") from None


def extract(kind: str, data: bytes) -> tuple[str, tuple[int, ...]]:
    if kind in RAW_KINDS:
        return decode_text(data), ()
    if kind == "html":
        from datagen.documents.html_text import html_to_text

        check_not_binary(data)
        return html_to_text(data), ()
    if kind == "pdf":
        from datagen.documents.pdf_text import pdf_to_text

        return pdf_to_text(data)
    if kind == "docx":
        from datagen.documents.docx_text import docx_to_text

        return docx_to_text(data), ()
    raise CannotRead("unsupported_type", kind)


def read_document(path: Path) -> Document | Unreadable:
    """One file as a Document, or an Unreadable with the reason. An unknown extension is read as text."""
    kind = KINDS.get(path.suffix.lower(), "text")
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Unreadable(str(path), "", kind, "unreadable_file", exc.strerror or str(exc))
    sha = hashlib.sha256(data).hexdigest()
    if not data:
        return Unreadable(str(path), sha, kind, "empty_file", "0 bytes")
    try:
        text, pages = extract(kind, data)
    except CannotRead as exc:
        return Unreadable(str(path), sha, kind, exc.reason, exc.detail)
    if not text.strip():
        return Unreadable(str(path), sha, kind, "no_text", "nothing but whitespace" if kind in RAW_KINDS
                          else "no text left after extraction")
    return Document(str(path), sha, kind, text, "raw" if kind in RAW_KINDS else "extracted", pages)


def read_documents(specs: list[str]) -> tuple[list[Document], list[Unreadable]]:
    """Every document the specs name, read; the same bytes under two names are read once (the second
    is an Unreadable "duplicate_file" naming the first)."""
    docs, bad, seen = [], [], {}
    for path in find_documents(specs):
        d = read_document(path)
        if isinstance(d, Document) and d.sha256 in seen:
            bad.append(Unreadable(d.path, d.sha256, d.kind, "duplicate_file", f"same bytes as {seen[d.sha256]}"))
        elif isinstance(d, Document):
            seen[d.sha256] = d.path
            docs.append(d)
        else:
            bad.append(d)
    return docs, bad
