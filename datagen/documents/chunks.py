"""Chunks that follow the document. The text is cut into units: a heading line (markdown `#`..`######`,
which the HTML and DOCX readers also write), and the sentences of each paragraph (paragraphs are
separated by a blank line; a sentence longer than the budget is cut between words). Units are packed
into chunks of at most `tokens` tokens; a heading starts a new chunk (a section shorter than
`min_tokens` joins the next instead), a chunk ends at a paragraph break when one falls in its second
half, and never on a heading. Inside a section, each chunk after the first starts with the last
sentences of the one before, up to `overlap` tokens (one sentence up to twice that when the last
is longer): the overlap is real text both chunks hold, not a
setting left unused. Across a heading there is no overlap (the next section is about something else).

A chunk's span is [start, end) in the text it was cut from, and `text[start:end] == chunk.text`;
byte_start/byte_end are the same span in the text's UTF-8 bytes.

"Tokens" are words and punctuation marks (count_tokens), a tokenizer-free proxy: SmolLM2's tokenizer
gives about 1.2-1.4 of its tokens per one of these on English prose.

    chunk_text("# A\\n\\nOne. Two.\\n\\n# B\\n\\nThree.", ChunkConfig(tokens=8, overlap=2, min_tokens=1))
      -> [Chunk(0, start=0, end=13, text="# A\\n\\nOne. Two.", headings=("A",)), Chunk(1, ..., headings=("B",))]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN = re.compile(r"\w+|[^\w\s]")
_PARA_SEP = re.compile(r"\n[^\S\n]*\n\s*")  # a blank (or whitespace-only) line, and any blank lines after it
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(\S[^\n]*)$", re.MULTILINE)
# A sentence ends after . ! ? (and closing quotes or brackets) before whitespace, or at a line break
# before a list item.
_SENT_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s)|\n(?=[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])\s)")


def count_tokens(text: str) -> int:
    """count_tokens("Ask your manager, then HR.") -> 7 (five words, a comma and a full stop)."""
    return len(TOKEN.findall(text))


@dataclass(frozen=True)
class ChunkConfig:
    tokens: int = 350
    overlap: int = 60
    min_tokens: int = 40


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    end: int
    text: str
    tokens: int
    headings: tuple[str, ...]  # the section path at the chunk's start: ("Leave policy", "Sick leave")
    byte_start: int = 0
    byte_end: int = 0


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    tokens: int
    heading: int  # its level, 0 for a sentence
    para: bool  # first unit of a paragraph
    path: tuple[str, ...]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _windows(text: str, start: int, end: int, budget: int) -> list[tuple[int, int, int]]:
    """A span cut between tokens into pieces of at most `budget` tokens: [(start, end, tokens)]."""
    toks = [m.span() for m in TOKEN.finditer(text, start, end)]
    out = []
    for k in range(0, len(toks), budget):
        part = toks[k:k + budget]
        out.append((part[0][0], part[-1][1], len(part)))
    return out or [(start, end, 0)]


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for m in _SENT_END.finditer(text, start, end):
        s, e = _trimmed(text, pos, m.end())
        if e > s:
            out.append((s, e))
        pos = m.end()
    s, e = _trimmed(text, pos, end)
    if e > s:
        out.append((s, e))
    return out


def _segments(text: str):
    """(start, end, heading level, heading title) for each heading line and paragraph, in order."""
    pos = 0
    blocks = []
    for m in _PARA_SEP.finditer(text):
        blocks.append((pos, m.start()))
        pos = m.end()
    blocks.append((pos, len(text)))
    for bs, be in blocks:
        at = bs
        for h in _HEADING.finditer(text, bs, be):
            s, e = _trimmed(text, at, h.start())
            if e > s:
                yield s, e, 0, ""
            yield h.start(), h.end(), len(h.group(1)), h.group(2).strip().rstrip("#").strip()
            at = h.end()
        s, e = _trimmed(text, at, be)
        if e > s:
            yield s, e, 0, ""


def units_of(text: str, budget: int) -> list[Unit]:
    units: list[Unit] = []
    path: list[tuple[int, str]] = []
    for s, e, level, title in _segments(text):
        if level:
            path = [p for p in path if p[0] < level] + [(level, title)]
            names = tuple(t for _, t in path)
            units.append(Unit(s, e, count_tokens(text[s:e]), level, True, names))
            continue
        names, first = tuple(t for _, t in path), True
        for ss, se in _sentences(text, s, e):
            n = count_tokens(text[ss:se])
            for ws, we, wn in (_windows(text, ss, se, budget) if n > budget else [(ss, se, n)]):
                units.append(Unit(ws, we, wn, 0, first, names))
                first = False
    return units


def _ranges(units: list[Unit], cfg: ChunkConfig) -> list[tuple[int, int]]:
    """[(first unit, end unit)] of each chunk (see the module docstring for the rules)."""
    out, i, n, done = [], 0, len(units), 0  # done: units before it are in some chunk already
    while i < n:
        j, tok = i, 0
        while j < n:
            u = units[j]
            if j > i and u.heading and tok >= cfg.min_tokens:
                break
            if j > max(i, done) and tok + u.tokens > cfg.tokens:
                break
            tok += u.tokens
            j += 1
        if j < n and not (units[j].para or units[j].heading):  # end at a paragraph break in the second half
            breaks = [k for k in range(max(i, done) + 1, j) if units[k].para
                      and sum(u.tokens for u in units[i:k]) >= cfg.tokens // 2]
            j = breaks[-1] if breaks else j
        while j < n and j - 1 > max(i, done) and units[j - 1].heading:
            j -= 1
        out.append((i, j))
        done = j
        if j >= n:
            break
        k, ov = j, 0
        if cfg.overlap and not units[j].heading:
            while (k - 1 > i and not units[k - 1].heading and ov + units[k - 1].tokens <= cfg.overlap
                   and ov + units[k - 1].tokens + units[j].tokens <= cfg.tokens):
                k -= 1
                ov += units[k].tokens
            last = units[j - 1]  # a sentence longer than `overlap` still overlaps, up to twice as long
            if (k == j and j - 1 > i and not last.heading and last.tokens <= 2 * cfg.overlap
                    and last.tokens + units[j].tokens <= cfg.tokens):
                k = j - 1
        i = k
    return out


def _byte_offsets(text: str, positions: set[int]) -> dict[int, int]:
    out, char, byte = {}, 0, 0
    for p in sorted(positions):
        byte += len(text[char:p].encode("utf-8"))
        char = p
        out[p] = byte
    return out


def chunk_text(text: str, cfg: ChunkConfig | None = None) -> list[Chunk]:
    cfg = cfg or ChunkConfig()
    units = units_of(text, cfg.tokens)
    spans = [(units[a].start, units[b - 1].end, sum(u.tokens for u in units[a:b]), units[a].path)
             for a, b in _ranges(units, cfg)]
    where = _byte_offsets(text, {p for s, e, _, _ in spans for p in (s, e)})
    return [Chunk(k, s, e, text[s:e], n, path, where[s], where[e]) for k, (s, e, n, path) in enumerate(spans)]
