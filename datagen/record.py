"""Record and Lineage: one example and where it came from.

    Record.make("Name a color.", output="Blue.") -> Record(id="3f1c...", ...)
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

Message = dict  # {"role": "system" | "user" | "assistant", "content": str}

_WS = re.compile(r"\s+")


def normalize(text: str | None) -> str:
    """Collapse whitespace and strip: "  a\\n b " -> "a b". Used for ids and exact dedup."""
    return _WS.sub(" ", text or "").strip()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(obj: Any) -> str:
    """Stable JSON used for every hash in the project (sorted keys, no spaces)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


SHORT_ID = 12  # characters of an id shown to a person (commands accept any unique prefix)


def short_id(rid: str) -> str:
    """"3f1c2a9be04d7c...(64)" -> "3f1c2a9be04d": one length wherever a person reads ids."""
    return rid[:SHORT_ID]


def record_id(instruction: str, input: str = "", output: str | None = None,
              rejected: str | None = None, messages: tuple | None = None) -> str:
    """sha256 of the normalized content: the same example always gets the same id."""
    content = {
        "instruction": normalize(instruction),
        "input": normalize(input),
        "output": None if output is None else normalize(output),
        "rejected": None if rejected is None else normalize(rejected),
        "messages": None if messages is None else [
            {"role": m["role"], "content": normalize(m["content"])} for m in messages],
    }
    return sha256_text(canonical_json(content))


@dataclass(frozen=True)
class Lineage:
    """Where a record came from; enough to regenerate it.

    parents: ids of the records it was made from (Self-Instruct: the in-context examples;
    Evol-Instruct: the instruction it evolved from). step: Self-Instruct round / Evol round.
    """
    method: str
    parents: tuple[str, ...] = ()
    template: str = ""
    template_sha: str = ""
    teacher: str = ""
    sampling_sha: str = ""
    run_id: str = ""
    step: int = 0
    operation: str = ""

    def to_dict(self) -> dict:
        # field by field: dataclasses.asdict deep-copies and cost ~30% of a version's import time
        d = {f: getattr(self, f) for f in _LINEAGE_FIELDS}
        d["parents"] = list(self.parents)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Lineage":
        kw = {k: v for k, v in d.items() if k in _LINEAGE_FIELDS}
        kw["parents"] = tuple(kw.get("parents", ()))
        return cls(**kw)


_LINEAGE_FIELDS = tuple(f.name for f in dataclasses.fields(Lineage))


@dataclass(frozen=True)
class Record:
    """One example: instruction [+ input] -> output, optional `rejected` for preference pairs,
    optional `messages` for multi-turn. `meta` holds everything else (scores, finish_reason,
    internal thoughts); it is not part of the id."""
    id: str
    instruction: str
    input: str = ""
    output: str | None = None
    rejected: str | None = None
    messages: tuple[Message, ...] | None = None
    lineage: Lineage = field(default_factory=lambda: Lineage(method="unknown"))
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def make(cls, instruction: str, input: str = "", output: str | None = None, *,
             rejected: str | None = None, messages: tuple | list | None = None,
             lineage: Lineage | None = None, meta: dict | None = None) -> "Record":
        msgs = None if messages is None else tuple(dict(m) for m in messages)
        rid = record_id(instruction, input, output, rejected, msgs)
        return cls(id=rid, instruction=instruction, input=input or "", output=output,
                   rejected=rejected, messages=msgs,
                   lineage=lineage or Lineage(method="unknown"), meta=dict(meta or {}))

    def replace(self, **changes: Any) -> "Record":
        """A copy with changed content; the id is recomputed from the new content."""
        fields = {k: getattr(self, k) for k in
                  ("instruction", "input", "output", "rejected", "messages", "lineage", "meta")}
        fields.update(changes)
        return Record.make(fields.pop("instruction"), fields.pop("input"), fields.pop("output"),
                           **fields)

    @property
    def is_pair(self) -> bool:
        return self.output is not None and self.rejected is not None

    def prompt_text(self) -> str:
        """Instruction and input joined the way exports show them to a student."""
        return self.instruction if not self.input else f"{self.instruction}\n\n{self.input}"

    @property
    def num_turns(self) -> int:
        """Assistant messages of a conversation (0 for a record without `messages`)."""
        return sum(m.get("role") == "assistant" for m in self.messages or ())

    def conversation_text(self) -> str | None:
        """A conversation as one text, one "role: content" block per message, for dedup and reports:
        (user "Hi", assistant "Hello") -> "user: Hi\\nassistant: Hello"; None without `messages`."""
        if self.messages is None:
            return None
        return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in self.messages)

    def to_row(self) -> dict:
        """Flat row for parquet: nested parts as JSON strings so any reader (polars,
        datasets, pandas) loads the same schema."""
        return {
            "id": self.id,
            "instruction": self.instruction,
            "input": self.input,
            "output": self.output,
            "rejected": self.rejected,
            "messages": None if self.messages is None else canonical_json(list(self.messages)),
            "method": self.lineage.method,
            "step": self.lineage.step,
            "lineage": canonical_json(self.lineage.to_dict()),
            "meta": canonical_json(self.meta),
        }

    @classmethod
    def from_row(cls, row: dict) -> "Record":
        msgs = row.get("messages")
        return cls(
            id=row["id"], instruction=row["instruction"], input=row.get("input") or "",
            output=row.get("output"), rejected=row.get("rejected"),
            messages=None if msgs is None else tuple(json.loads(msgs)),
            lineage=Lineage.from_dict(json.loads(row["lineage"])),
            meta=json.loads(row.get("meta") or "{}"),
        )


ROW_COLUMNS = ("id", "instruction", "input", "output", "rejected", "messages", "method",
               "step", "lineage", "meta")
