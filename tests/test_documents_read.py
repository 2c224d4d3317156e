"""Reading documents (datagen/documents/): markdown and text as they are, HTML without its scripts,
styles and navigation, PDF and DOCX as extracted text; every unreadable file is an Unreadable with its
reason, and the rest are read."""
from __future__ import annotations

import pytest

from datagen.documents import Document, Unreadable, find_documents, read_document, read_documents
from datagen.errors import DatagenError
from document_fixtures import MARKDOWN, PDF_PAGES, write_corpus

pytest.importorskip("pypdf", reason="the documents extra: pip install 'datagen[documents]'")
pytest.importorskip("bs4", reason="the documents extra: pip install 'datagen[documents]'")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("docs"))


def test_markdown_and_text_are_the_raw_file(corpus):
    md = read_document(corpus["md"])
    assert isinstance(md, Document) and md.kind == "markdown" and md.text_of == "raw"
    assert md.text == MARKDOWN and md.text.encode("utf-8") == corpus["md"].read_bytes()
    txt = read_document(corpus["txt"])
    assert txt.text.encode("utf-8") == corpus["txt"].read_bytes() and "\r\n" in txt.text  # CRLF kept


def test_html_loses_scripts_styles_navigation_and_keeps_headings(corpus):
    doc = read_document(corpus["html"])
    assert doc.kind == "html" and doc.text_of == "extracted"
    for gone in ("secret", "trackPageView", "color: red", "About us", "intranet", "Copyright", "editor's comment"):
        assert gone not in doc.text, gone
    assert doc.text.startswith("# Expenses policy\n\nClaims are filed in the Ledgerline app within 30 days")
    assert "\n\n## Travel\n\n" in doc.text and "- Taxis only after 22:00." in doc.text
    assert "Receipts over 20 pounds" in doc.text and "  " not in doc.text  # whitespace collapsed in blocks


def test_pdf_text_by_page(corpus):
    doc = read_document(corpus["pdf"])
    assert doc.kind == "pdf" and len(doc.pages) == len(PDF_PAGES)
    for n, (title, body) in enumerate(PDF_PAGES, 1):
        start = doc.text.index(title)
        assert doc.page_of(start) == n
        assert " ".join(body.split()[:6]) in " ".join(doc.text.split())


def test_docx_paragraphs_headings_and_tables(corpus):
    doc = read_document(corpus["docx"])
    assert doc.text == ("# Parking\n\nThe car park has 40 spaces. Spaces are given out by lottery every January."
                        "\n\nZone | Hours")


@pytest.mark.parametrize("key,reason", [("empty", "empty_file"), ("binary", "binary_file"),
                                        ("encrypted", "encrypted_pdf"), ("scan", "no_text_layer")])
def test_unreadable_files_say_why(corpus, key, reason):
    bad = read_document(corpus[key])
    assert isinstance(bad, Unreadable) and bad.reason == reason and bad.detail


def test_other_unreadable_files(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9".encode("latin-1"))
    assert read_document(latin).reason == "not_utf8"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf")
    assert read_document(broken).reason == "unreadable_pdf"
    fake = tmp_path / "fake.docx"
    fake.write_bytes(b"plain words")
    assert read_document(fake).reason == "unreadable_docx"
    blank = tmp_path / "blank.md"
    blank.write_text("\n  \n")
    assert read_document(blank).reason == "no_text"


def test_a_folder_a_glob_and_duplicates(corpus, tmp_path):
    folder = corpus["md"].parent
    found = find_documents([str(folder)])
    assert {p.name for p in found} == {p.name for p in corpus.values()}
    assert find_documents([str(folder / "*.md")]) == sorted(p for p in found if p.suffix == ".md")
    copy = tmp_path / "copy.md"
    copy.write_bytes(corpus["md"].read_bytes())
    docs, bad = read_documents([str(corpus["md"]), str(copy)])
    assert [d.path for d in docs] == [str(corpus["md"])]
    assert [(b.reason, b.detail) for b in bad] == [("duplicate_file", f"same bytes as {corpus['md']}")]


def test_a_missing_path_or_an_empty_glob_is_an_error(tmp_path):
    with pytest.raises(DatagenError, match="no such file or folder"):
        find_documents([str(tmp_path / "nope.md")])
    with pytest.raises(DatagenError, match="no file matches"):
        find_documents([str(tmp_path / "*.pdf")])
