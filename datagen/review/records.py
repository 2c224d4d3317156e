"""Records mode: the kept and rejected rows of a version, filtered for the page, and the human state of
each row folded from the journal (accept, reject with a reason, edit the output; the latest action wins
whoever made it).

    items = record_items(version)                 # kept rows then rejected rows, each with a stable key
    state = record_states(read_journals(folder))  # {key: {"status": "rejected", "reason": "...", ...}}
    select(items, state, {"reason": "too_short", "q": "poem"}) -> [item, ...]
"""
from __future__ import annotations

from dataclasses import dataclass

from datagen.record import Record
from datagen.versions import DatasetVersion

ACTIONS = ("accept", "reject", "edit", "clear")
REASON_CHARS = 200  # a human reason is one line: `human:<text>` in the rejected rows


@dataclass
class RecordItem:
    key: str             # the record id (kept), "rejected:<row>:<id>" (a rejected row: ids may repeat there)
    record: Record
    status: str          # the version's verdict: "kept" | "rejected"
    reason: str = ""
    stage: str = ""
    detail: str = ""

    @property
    def score(self) -> float | None:
        s = self.record.meta.get("judge_score")
        return float(s) if isinstance(s, (int, float)) else None

    def text(self) -> str:
        r = self.record
        return "\n".join(x for x in (r.instruction, r.input, r.output or "", r.rejected or "",
                                     r.conversation_text() or "") if x)

    def summary(self, i: int, human: dict | None) -> dict:
        r = self.record
        return {"i": i, "key": self.key, "status": self.status, "reason": self.reason, "method": r.lineage.method,
                "step": r.lineage.step, "score": self.score, "title": " ".join(r.instruction.split())[:120],
                "human": (human or {}).get("status") or ("edited" if (human or {}).get("output") is not None else "")}

    def full(self, i: int, human: dict | None) -> dict:
        r = self.record
        return {**self.summary(i, human), "id": r.id, "instruction": r.instruction, "input": r.input,
                "output": r.output, "rejected": r.rejected, "messages": list(r.messages or []) or None,
                "stage": self.stage, "detail": self.detail, "lineage": r.lineage.to_dict(),
                "meta": r.meta, "state": human or {}}


def record_items(version: DatasetVersion) -> list[RecordItem]:
    items = [RecordItem(r.id, r, "kept") for r in version.records()]
    items += [RecordItem(f"rejected:{n}:{j.record.id}", j.record, "rejected", j.reason, j.stage, j.detail)
              for n, j in enumerate(version.rejected())]
    return items


def clean_reason(text: str) -> str:
    """One line, at most REASON_CHARS: "too  vague\\n" -> "too vague"."""
    return " ".join((text or "").split())[:REASON_CHARS]


def record_states(entries: list[dict]) -> dict[str, dict]:
    """Fold the records-mode journal entries (in time order) into each key's human state:
    {"status": "accepted" | "rejected" | None, "reason", "output" (an edit or None), "annotators", "time"}."""
    out: dict[str, dict] = {}
    for e in entries:
        if e.get("mode") != "records" or e.get("action") not in ACTIONS:
            continue
        s = out.setdefault(e["item"], {"status": None, "reason": "", "output": None, "annotators": []})
        if e["action"] == "accept":
            s.update(status="accepted", reason="")
        elif e["action"] == "reject":
            s.update(status="rejected", reason=clean_reason(e.get("reason", "")))
        elif e["action"] == "edit":
            s["output"] = e.get("output")
        else:
            s.update(status=None, reason="", output=None)
        if e.get("annotator") not in s["annotators"]:
            s["annotators"].append(e.get("annotator"))
        s["time"] = e.get("time")
    return out


def _number(text: str) -> float | None:
    try:
        return float(text) if str(text).strip() != "" else None
    except ValueError:
        return None


def select(items: list[RecordItem], states: dict[str, dict], f: dict) -> list[int]:
    """Indexes of the items that pass the filters: method, reason, verdict (kept | rejected), human
    (unreviewed | accepted | rejected | edited), score_min/score_max (judge score), step, q (text, any case)."""
    q = (f.get("q") or "").lower()
    lo, hi, step = _number(f.get("score_min", "")), _number(f.get("score_max", "")), _number(f.get("step", ""))
    out = []
    for i, it in enumerate(items):
        st = states.get(it.key) or {}
        human = st.get("status") or ("edited" if st.get("output") is not None else "unreviewed")
        if f.get("method") and it.record.lineage.method != f["method"]:
            continue
        if f.get("reason") and it.reason != f["reason"]:
            continue
        if f.get("verdict") and it.status != f["verdict"]:
            continue
        if f.get("human") and not (human == f["human"] or (f["human"] == "edited" and st.get("output") is not None)):
            continue
        if (lo is not None or hi is not None) and (it.score is None or (lo is not None and it.score < lo)
                                                    or (hi is not None and it.score > hi)):
            continue
        if step is not None and it.record.lineage.step != step:
            continue
        if q and q not in it.text().lower() and q not in (st.get("output") or "").lower():
            continue
        out.append(i)
    return out


def facets(items: list[RecordItem]) -> dict:
    """The values the page's filter menus offer."""
    return {"methods": sorted({it.record.lineage.method for it in items}),
            "reasons": sorted({it.reason for it in items if it.reason}),
            "steps": sorted({it.record.lineage.step for it in items}),
            "scored": any(it.score is not None for it in items)}
