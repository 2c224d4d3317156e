"""Requests of the documents method (pure): one question request per chunk and question kind, and one
answer request per accepted question, each showing the chunk; what a record keeps of its source.

    Job(doc, chunk, "factual") -> build_question_requests([job], template, sampling)[0].messages
      -> (system, user "Document: handbook.md (section: Leave)\\n\\nPassage: ...")
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from datagen.documents import Chunk, Document
from datagen.documents.chunks import units_of
from datagen.teacher import Request

KINDS = ("factual", "why_how", "compare", "summarize", "extract")


@dataclass(frozen=True)
class Job:
    doc: Document
    chunk: Chunk
    kind: str
    evidence: tuple[int, int] | None = None  # a sentence chosen for the question (document offsets)

    @property
    def key(self) -> str:
        return f"{self.doc.sha256[:16]}:{self.chunk.start}-{self.chunk.end}:{self.kind}"


def section(chunk: Chunk) -> str:
    return " > ".join(chunk.headings)


def pick_evidence(doc: Document, chunk: Chunk, rng: random.Random, min_words: int) -> tuple[int, int] | None:
    """A sentence of the chunk (not a heading) of at least `min_words` words, drawn with `rng`."""
    spans = [(chunk.start + u.start, chunk.start + u.end) for u in units_of(chunk.text, chunk.tokens + 1)
             if not u.heading and len(chunk.text[u.start:u.end].split()) >= min_words]
    return rng.choice(spans) if spans else None


def build_question_requests(jobs: list[Job], template, sampling) -> list[Request]:
    return [Request(messages=template.render(
        kind=j.kind, title=Path(j.doc.path).name, section=section(j.chunk), chunk=j.chunk.text,
        evidence=j.doc.text[j.evidence[0]:j.evidence[1]] if j.evidence else ""), sampling=sampling, key=j.key)
        for j in jobs]


def build_answer_requests(items: list[tuple[Job, str]], template, sampling) -> list[Request]:
    """items: (job, question)."""
    return [Request(messages=template.render(
        kind=j.kind, title=Path(j.doc.path).name, section=section(j.chunk), chunk=j.chunk.text, question=q),
        sampling=sampling, key=j.key) for j, q in items]


def source_meta(doc: Document, chunk: Chunk) -> dict:
    """What a record keeps of where it came from: the document (path, sha256 of its bytes, kind), what the
    span indexes into (`text_of`: raw = the file decoded as UTF-8; extracted = the text the reader
    extracted, whose sha256 is `text_sha256`), the chunk's character and UTF-8 byte spans, its section,
    its pages (PDF) and its text."""
    out = {"path": doc.path, "sha256": doc.sha256, "kind": doc.kind, "text_of": doc.text_of,
           "text_sha256": doc.text_sha256, "chunk": chunk.index, "span": [chunk.start, chunk.end],
           "byte_span": [chunk.byte_start, chunk.byte_end], "section": list(chunk.headings), "text": chunk.text}
    if doc.pages:
        out["pages"] = [doc.page_of(chunk.start), doc.page_of(max(chunk.start, chunk.end - 1))]
    return out
