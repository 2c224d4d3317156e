"""Principles, exemplars and red-teaming topics for SELF-ALIGN (Sun et al. 2023): file formats,
parsing with errors that name the file and line, and the checks that keep them out of training data.

Principles, Markdown (one item per principle, numbered 1, 2, 3, ... in order; text may continue on
the next lines; lines before the first item are ignored):
    1. **Ethical**: Refuse to help with anything harmful ...
    ## 2. Informative            <- heading form; the paragraph below is the text
Principles, YAML (.yaml/.yml): a list of {name: ..., text: ...} mappings.
Exemplars, JSONL: one {"query": ..., "thought": ..., "answer": ...} object per line.

    parse_principles("1. **Candor**: Admit what you do not know.", "p.md") -> [Principle(1, "Candor", "Admit ...")]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from datagen.errors import DatagenError
from datagen.jsonl import json_objects
from datagen.record import normalize, sha256_text


@dataclass(frozen=True)
class Principle:
    number: int
    name: str
    text: str


@dataclass(frozen=True)
class Exemplar:
    query: str
    thought: str
    answer: str


_ITEM = re.compile(r"^(\d+)[.)]\s+\*\*(.+?)\*\*\s*:?\s*(.*)$")   # 1. **Name**: text
_HEADING = re.compile(r"^#{2,6}\s+(\d+)[.)]\s+(.+?)\s*$")        # ## 1. Name
_NUMBERED = re.compile(r"^(?:#{1,6}\s+)?\d+[.)]\s")               # anything that looks like an item


def read_data_file(loader, ref: str, what: str) -> tuple[str, str, str]:
    """A principles/exemplars/topics file: a path on disk, or a name under prompts/ (a --templates
    folder first). Recorded in loader.used (-> manifest "templates"). Returns (text, sha, where).

        read_data_file(loader, "self_align/principles.md", "principles") -> ("# Principles ...", "9f2c...", ".../principles.md")
    """
    path = Path(ref).expanduser()
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DatagenError(f"{what} file {ref}: cannot read: {exc}") from None
        sha = sha256_text(text)
        loader.used[ref] = sha
        return text, sha, str(path)
    try:
        where = str(loader.find(ref))
        text, sha = loader.read_file(ref)
    except DatagenError:
        raise DatagenError(f"{what} file not found: {ref} (a path, or a name under prompts/)") from None
    return text, sha, where


def parse_principles(text: str, source: str) -> list[Principle]:
    """Markdown or YAML (by the file suffix) -> principles numbered 1..n."""
    if source.endswith((".yaml", ".yml")):
        return _parse_principles_yaml(text, source)
    out: list[tuple[int, str, list[str], int]] = []  # number, name, text lines, line no
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        item, heading = _ITEM.match(line), _HEADING.match(line)
        if item or heading:
            m = item or heading
            num, name = int(m.group(1)), m.group(2).strip().rstrip(":").strip()
            if num != len(out) + 1:
                raise DatagenError(f"principles file {source} line {lineno}: expected principle number "
                                   f"{len(out) + 1}, got {num} (number them 1, 2, 3, ... in order)")
            if not name:
                raise DatagenError(f"principles file {source} line {lineno}: principle {num} has no name")
            out.append((num, name, [item.group(3)] if item and item.group(3) else [], lineno))
        elif _NUMBERED.match(line):
            raise DatagenError(f"principles file {source} line {lineno}: malformed principle {line[:60]!r}; "
                               "expected `N. **Name**: text` or `## N. Name`")
        elif out and line and not line.startswith("#"):
            out[-1][2].append(line)
        elif out and line.startswith("#"):
            raise DatagenError(f"principles file {source} line {lineno}: unexpected heading {line[:60]!r} "
                               "after the principles; expected `## N. Name`")
    if not out:
        raise DatagenError(f"principles file {source}: no principles found; write one per line as "
                           "`1. **Name**: text` (or `## 1. Name` headings)")
    principles = []
    for num, name, lines, lineno in out:
        body = normalize(" ".join(lines))
        if not body:
            raise DatagenError(f"principles file {source} line {lineno}: principle {num} ({name}) has no text")
        principles.append(Principle(num, name, body))
    return _unique(principles, source)


def _parse_principles_yaml(text: str, source: str) -> list[Principle]:
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise DatagenError(f"principles file {source}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, list) or not data:
        raise DatagenError(f"principles file {source} line 1: expected a YAML list of {{name, text}} mappings")
    principles = []
    for i, (item, item_node) in enumerate(zip(data, node.value), 1):
        lineno = item_node.start_mark.line + 1
        if not isinstance(item, dict) or set(item) - {"name", "text"}:
            raise DatagenError(f"principles file {source} line {lineno}: item {i} must be a mapping with "
                               "exactly the keys name and text")
        name, body = item.get("name"), item.get("text")
        if not isinstance(name, str) or not name.strip() or not isinstance(body, str) or not body.strip():
            raise DatagenError(f"principles file {source} line {lineno}: item {i} needs a non-empty "
                               "string name and text")
        principles.append(Principle(i, name.strip(), normalize(body)))
    return _unique(principles, source)


def _unique(principles: list[Principle], source: str) -> list[Principle]:
    seen: set[str] = set()
    for p in principles:
        if p.name.lower() in seen:
            raise DatagenError(f"principles file {source}: principle name {p.name!r} appears twice")
        seen.add(p.name.lower())
    return principles


def parse_exemplars(text: str, source: str) -> list[Exemplar]:
    """JSONL, one {query, thought, answer} per line (blank lines skipped)."""
    out = []
    for lineno, obj in json_objects(text, f"exemplars file {source}", " with query, thought and answer"):
        missing = [k for k in ("query", "thought", "answer")
                   if not isinstance(obj.get(k), str) or not obj[k].strip()]
        if missing:
            raise DatagenError(f"exemplars file {source} line {lineno}: missing or empty "
                               f"{', '.join(missing)} (each line needs query, thought and answer strings)")
        extra = sorted(set(obj) - {"query", "thought", "answer"})
        if extra:
            raise DatagenError(f"exemplars file {source} line {lineno}: unknown key(s) {', '.join(extra)}")
        out.append(Exemplar(obj["query"].strip(), obj["thought"].strip(), obj["answer"].strip()))
    if not out:
        raise DatagenError(f"exemplars file {source}: no exemplars found (one JSON object per line)")
    return out


def parse_topics(text: str, source: str) -> tuple[list[dict], list[str]]:
    """topics.yaml -> (question types [{name, description, topics}], generation rules)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DatagenError(f"topics file {source}{f' line {mark.line + 1}' if mark else ''}: invalid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("question_types"), list) or not data["question_types"]:
        raise DatagenError(f"topics file {source}: expected a mapping with a non-empty question_types list")
    types = []
    for i, t in enumerate(data["question_types"], 1):
        ok = isinstance(t, dict) and all(isinstance(t.get(k), str) and t[k].strip() for k in ("name", "description"))
        topics = t.get("topics") if isinstance(t, dict) else None
        if not ok or not isinstance(topics, list) or not topics or not all(isinstance(x, str) for x in topics):
            raise DatagenError(f"topics file {source}: question type {i} needs name, description and a "
                               "non-empty list of topic strings")
        types.append({"name": t["name"], "description": t["description"], "topics": list(topics)})
    rules = data.get("rules") or []
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise DatagenError(f"topics file {source}: rules must be a list of strings")
    return types, rules


# Principle numbers cited in a thought: "principle 3", "principles 2 and 5", "3 (informative)", "#4".
_CITE_LIST = re.compile(r"\b(?:principles?|rules?)\s+((?:#?\d{1,3}(?:\s*(?:,|and|&|or)\s*)?)+)", re.I)
_CITE_PAREN = re.compile(r"(?:#|\b)(\d{1,3})\s*\(([A-Za-z][\w -]{0,40})\)")


def cited_principles(thought: str, principles: list[Principle]) -> list[int]:
    """Numbers of the principles a thought cites, by number or by name, in 1..n, sorted.

        cited_principles("By principle 2 (informative) and 7 (candor) ...", ps) -> [2, 7]
    """
    n = len(principles)
    found: set[int] = set()
    for m in _CITE_LIST.finditer(thought or ""):
        found.update(int(x) for x in re.findall(r"\d+", m.group(1)))
    found.update(int(m.group(1)) for m in _CITE_PAREN.finditer(thought or ""))
    low = (thought or "").lower()
    for p in principles:
        if re.search(r"\b" + re.escape(p.name.lower()) + r"\b", low):
            found.add(p.number)
    return sorted(x for x in found if 1 <= x <= n)


# A principle "leaks" into a record when a run of this many consecutive words of its text shows
# up there (or the whole text, if shorter). Our own choice: 6 words rarely match ordinary phrasing
# by chance and catch a copied clause (SmolLM2-135M revisions often paraphrase the principle).
LEAK_WORDS = 6


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", (text or "").lower())


def leak_spans(principles: list[Principle], n: int = LEAK_WORDS) -> set[tuple[str, ...]]:
    spans: set[tuple[str, ...]] = set()
    for p in principles:
        w = _words(p.text)
        spans.update(tuple(w[i:i + n]) for i in range(max(1, len(w) - n + 1)))
    return spans


def leaked(text: str, spans: set[tuple[str, ...]], n: int = LEAK_WORDS) -> bool:
    """True when `text` repeats a principle: leaked("... Admit when you do not know something or cannot ...", spans) -> True."""
    w = _words(text)
    if not w:
        return False
    sizes = {len(s) for s in spans}
    return any(tuple(w[i:i + k]) in spans for k in sizes for i in range(max(1, len(w) - k + 1)))
