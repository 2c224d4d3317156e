"""One running review: the target's items, this annotator's journal, and the answers the page's
requests get (plain dicts, sent as JSON; the page puts every text in as text, never as markup).

    r = Review(open_target("toy"), "alice", "pairs", seed=0)
    r.pair("pairs", 0) -> {"n": 0, "total": 36, "prompt": "...", "A": "...", "B": "...", "label": None}
    r.label("pairs", 0, {"label": "A", "ms": 1800}) -> {"saved": 1, "next": 1, ...}
"""
from __future__ import annotations

from pathlib import Path

from datagen.errors import DatagenError
from datagen.review.journal import Journal, journals_sha, read_journals
from datagen.review.pairs import LABELS, SKIP, TIE, choice_of, pair_items, pair_labels, resume_at, sides
from datagen.review.records import ACTIONS, clean_reason, facets, record_items, record_states, select
from datagen.review.summary import summarize

GUIDELINES_MAX = 1_000_000  # characters of a guidelines file
EDIT_MAX = 5_000_000        # characters of an edited output


class BadRequest(ValueError):
    """A request the page should not send: answered 400 with this message."""


class Review:
    def __init__(self, target, annotator: str, mode: str, seed: int = 0, guidelines: str = "",
                 commit_name: str = "", commit_runs: str | Path = "runs") -> None:
        self.target, self.annotator, self.mode, self.seed = target, annotator, mode, seed
        self.commit_name, self.commit_runs = commit_name, Path(commit_runs)
        self.journal = Journal(target.journals, annotator)
        self.entries = read_journals(target.journals)
        self.modes = target.modes()
        self.records = record_items(target.version) if "records" in self.modes else []
        self.queue = pair_items(target) if set(self.modes) & {"pairs", "blind"} else []
        self.guidelines = read_guidelines(guidelines)

    # --- shared -------------------------------------------------------------------------------
    def append(self, entry: dict) -> dict:
        line = self.journal.append(entry)
        self.entries.append(line)
        return line

    def info(self) -> dict:
        return {"target": self.target.ref, "kind": self.target.kind, "modes": self.modes, "mode": self.mode,
                "annotator": self.annotator, "records": len(self.records), "pairs": len(self.queue),
                "guidelines": bool(self.guidelines), "journal": str(self.journal.path),
                "saved": sum(e.get("annotator") == self.annotator for e in self.entries)}

    def check_mode(self, mode: str) -> str:
        if mode not in self.modes:
            raise BadRequest(f"mode {mode!r} is not offered for {self.target.ref}")
        return mode

    # --- records mode -------------------------------------------------------------------------
    def record_list(self, filters: dict) -> dict:
        self.check_mode("records")
        states = record_states(self.entries)
        idx = select(self.records, states, filters)
        return {"total": len(self.records), "items": [self.records[i].summary(i, states.get(self.records[i].key))
                                                      for i in idx], "facets": facets(self.records)}

    def record_item(self, i: int) -> dict:
        self.check_mode("records")
        if not 0 <= i < len(self.records):
            raise BadRequest(f"no record {i}")
        it = self.records[i]
        return it.full(i, record_states([e for e in self.entries if e.get("item") == it.key]).get(it.key))

    def record_action(self, i: int, body: dict) -> dict:
        self.check_mode("records")
        if not 0 <= i < len(self.records):
            raise BadRequest(f"no record {i}")
        action = body.get("action")
        if action not in ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(ACTIONS)}")
        entry = {"mode": "records", "item": self.records[i].key, "action": action}
        if action == "reject":
            reason = clean_reason(str(body.get("reason") or ""))
            if not reason:
                raise BadRequest("a rejection needs a reason")
            entry["reason"] = reason
        if action == "edit":
            output = body.get("output")
            if not isinstance(output, str) or len(output) > EDIT_MAX:
                raise BadRequest(f"an edit needs the new output (a text of at most {EDIT_MAX} characters)")
            entry["output"] = output
        self.append(entry)
        return self.record_item(i)

    # --- pairs and blind modes ----------------------------------------------------------------
    def labels(self, mode: str) -> dict:
        return pair_labels(self.entries, mode)

    def pair_state(self, mode: str) -> dict:
        self.check_mode(mode)
        labels = self.labels(mode)
        mine = sum(self.annotator in v for v in labels.values())
        return {"total": len(self.queue), "position": resume_at(self.queue, labels, self.annotator),
                "done": mine, "revealed": self.revealed(mode)}

    def pair(self, mode: str, n: int) -> dict:
        self.check_mode(mode)
        if not 0 <= n < len(self.queue):
            raise BadRequest(f"no item {n}")
        it = self.queue[n]
        a, b = sides(it.key, self.seed)
        mine = self.labels(mode).get(it.key, {}).get(self.annotator)
        letter = {it.answers[a][0]: "A", it.answers[b][0]: "B", TIE: "tie", SKIP: "skip"}.get(mine)
        show_names = mode == "pairs" and self.target.kind == "eval"
        return {"n": n, "total": len(self.queue), "key": it.key, "prompt": it.prompt, "A": it.answers[a][1],
                "B": it.answers[b][1], "label": letter,
                "names": {"A": it.answers[a][0], "B": it.answers[b][0]} if show_names else None}

    def label(self, mode: str, n: int, body: dict) -> dict:
        self.check_mode(mode)
        if not 0 <= n < len(self.queue):
            raise BadRequest(f"no item {n}")
        label = body.get("label")
        if label not in LABELS:
            raise BadRequest(f"label must be one of {', '.join(LABELS)}")
        it = self.queue[n]
        shown = sides(it.key, self.seed)
        ms = body.get("ms")
        self.append({"mode": mode, "item": it.key, "action": "label", "label": label, "n": n,
                     "choice": choice_of(it, label, shown), "seed": self.seed,
                     "sides": {"A": it.answers[shown[0]][0], "B": it.answers[shown[1]][0]},
                     "ms": int(ms) if isinstance(ms, (int, float)) and ms >= 0 else None})
        return {"saved": n, **self.pair_state(mode)}

    def revealed(self, mode: str) -> bool:
        """Blind mode shows the names once this annotator has done every item or asked to see them."""
        if mode != "blind":
            return True
        done = resume_at(self.queue, self.labels(mode), self.annotator) >= len(self.queue)
        return done or any(e.get("mode") == mode and e.get("action") == "reveal" and
                           e.get("annotator") == self.annotator for e in self.entries)

    def reveal(self, mode: str) -> dict:
        self.check_mode(mode)
        self.append({"mode": mode, "item": "", "action": "reveal"})
        return self.summary(mode)

    # --- agreement and commit -----------------------------------------------------------------
    def summary(self, mode: str) -> dict:
        self.check_mode(mode)
        s = summarize(self.target, read_journals(self.target.journals), mode)
        if not self.revealed(mode):
            s.pop("win_rates", None)
            s["hidden"] = "the models' names and win rates show once every item is labelled (or on reveal)"
        return s

    def commit(self, mode: str):
        from datagen.review.commit import commit_pairs, commit_records

        self.check_mode(mode)
        entries, sha = read_journals(self.target.journals), journals_sha(self.target.journals)
        if mode == "records":
            return commit_records(self.target, entries, sha)
        return commit_pairs(self.target, entries, sha, mode, self.commit_name,
                            self.target.runs if self.target.kind == "version" else self.commit_runs)


def read_guidelines(path: str) -> str:
    if not path:
        return ""
    p = Path(path)
    if not p.is_file():
        raise DatagenError(f"--guidelines file not found: {path}")
    text = p.read_text(encoding="utf-8", errors="replace")
    if len(text) > GUIDELINES_MAX:
        raise DatagenError(f"--guidelines file {path} is over {GUIDELINES_MAX} characters")
    return text
