"""Chunks follow the document (datagen/documents/chunks.py): each chunk's span gives back its text
byte for byte from the source (the raw file for markdown and text, the extracted text for HTML, PDF and
DOCX), headings start chunks, the budget holds, and consecutive chunks of a section really overlap."""
from __future__ import annotations

import hashlib

import pytest

from datagen.documents import ChunkConfig, chunk_text, count_tokens, read_document
from document_fixtures import write_corpus

pytest.importorskip("pypdf", reason="the documents extra: pip install 'datagen[documents]'")
pytest.importorskip("bs4", reason="the documents extra: pip install 'datagen[documents]'")

SMALL = ChunkConfig(tokens=40, overlap=12, min_tokens=8)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("docs"))


@pytest.mark.parametrize("key", ["md", "txt", "html", "pdf", "docx"])
def test_spans_give_back_the_source_byte_for_byte(corpus, key):
    doc = read_document(corpus[key])
    chunks = chunk_text(doc.text, SMALL)
    assert len(chunks) >= (1 if key == "docx" else 2)
    if doc.text_of == "raw":  # the span indexes into the file itself
        source = corpus[key].read_bytes()
    else:  # into the extracted text, which reading the file again gives back exactly
        again = read_document(corpus[key])
        assert again.text_sha256 == doc.text_sha256 == hashlib.sha256(again.text.encode()).hexdigest()
        source = again.text.encode("utf-8")
    for c in chunks:
        assert source[c.byte_start:c.byte_end] == c.text.encode("utf-8")
        assert source.decode("utf-8")[c.start:c.end] == c.text
    assert chunks[0].start == len(source.decode("utf-8")) - len(source.decode("utf-8").lstrip())


def test_multibyte_text_keeps_byte_and_character_spans_apart(corpus):
    doc = read_document(corpus["md"])
    chunks = chunk_text(doc.text, SMALL)
    k = next(i for i, c in enumerate(chunks) if "Café" in c.text)
    assert chunks[k].byte_end - chunks[k].byte_start == len(chunks[k].text) + 4  # —: 3 bytes, é and ï: 2
    later = chunks[k + 1]
    assert later.byte_start == later.start + 4
    assert corpus["md"].read_bytes()[later.byte_start:later.byte_end].decode() == later.text


def test_headings_start_chunks_and_name_the_section(corpus):
    doc = read_document(corpus["md"])
    chunks = chunk_text(doc.text, SMALL)
    assert any(c.text.startswith("## Leave") for c in chunks)
    assert any(c.text.startswith("## Equipment") and c.headings == ("Staff handbook", "Equipment") for c in chunks)
    for c in chunks:  # no chunk runs from one section into the next, none ends on a heading
        assert "## " not in c.text[1:]
        assert not c.text.splitlines()[-1].startswith("#")


def test_budget_and_real_overlap_inside_a_section():
    para = " ".join(f"Rule {k} says that item {k} goes in box {k}." for k in range(40))
    chunks = chunk_text("# Rules\n\n" + para, ChunkConfig(tokens=60, overlap=20, min_tokens=8))
    assert len(chunks) > 5
    for a, b in zip(chunks, chunks[1:]):
        assert a.tokens <= 60 and count_tokens(a.text) == a.tokens
        assert b.start < a.end and b.start > a.start  # the next chunk starts inside this one
        shared = a.text[b.start - a.start:]
        assert b.text.startswith(shared) and 0 < count_tokens(shared) <= 20
    covered = "".join(c.text[max(0, prev_end - c.start):] for c, prev_end in
                      zip(chunks, [chunks[0].start] + [c.end for c in chunks[:-1]]))
    assert covered.replace(" ", "") == ("# Rules\n\n" + para).replace(" ", "")  # nothing skipped


def test_no_overlap_when_asked_and_a_long_sentence_is_cut_between_words():
    long = " ".join(["word"] * 130) + "."
    chunks = chunk_text(long, ChunkConfig(tokens=50, overlap=0, min_tokens=1))
    assert [c.tokens for c in chunks] == [50, 50, 31]
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))


def test_paragraph_breaks_are_preferred_ends():
    p1 = " ".join(f"First part sentence {k}." for k in range(6))
    p2 = " ".join(f"Second part sentence {k}." for k in range(6))
    chunks = chunk_text(p1 + "\n\n" + p2, ChunkConfig(tokens=40, overlap=0, min_tokens=1))
    assert chunks[0].text == p1
