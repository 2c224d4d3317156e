"""Your documents as text: find them (files, folders, globs), read them (markdown and text as they are;
HTML, PDF and DOCX as extracted text), and cut that text into chunks that follow its headings and
paragraphs, each with its exact character span.

What a span indexes into, precisely: `Document.text`. For markdown and text files that is the raw file
decoded as UTF-8 (a leading byte-order mark stays in as U+FEFF, CRLF stays CRLF), so
`raw_bytes.decode("utf-8")[start:end] == chunk.text` and `raw_bytes[byte_start:byte_end]` is the
chunk's bytes. For HTML, PDF and DOCX it is the extracted text (`text_of == "extracted"`), whose
sha256 the chunk carries, so the same two identities hold against that text re-extracted.

    docs, unreadable = read_documents(["handbook/", "notes/*.md"])
    chunks = chunk_text(docs[0].text, ChunkConfig(tokens=350, overlap=60))
    docs[0].text[chunks[0].start:chunks[0].end] == chunks[0].text  -> True

Public API: find_documents, read_document, read_documents, Document, Unreadable, ChunkConfig, Chunk,
chunk_text, count_tokens, words (answer normalisation and content words for support checks and F1).
"""
from datagen.documents.chunks import Chunk, ChunkConfig, chunk_text, count_tokens
from datagen.documents.read import Document, Unreadable, find_documents, read_document, read_documents

__all__ = ["Chunk", "ChunkConfig", "Document", "Unreadable", "chunk_text", "count_tokens", "find_documents",
           "read_document", "read_documents"]
