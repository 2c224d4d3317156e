"""Magpie's turns: for every live conversation, a raw-completion request for the next user query
(the chat template up to the user's words), the checks of parse.py, then a chat request for the
answer. A conversation whose first query fails is rejected with the reason; one that fails later
keeps its earlier turns and says why it ended (`meta.end`, `method_stats.ended_early`).

    Turns(cfg, ctx, teacher, template, source, fixed=None, persona_t=None).run(conversations, turn=1)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from datagen.cache import BUDGET_ERROR
from datagen.errors import DatagenError
from datagen.methods.magpie import chat_template as T
from datagen.methods.magpie.parse import derive_seed, parse_query, query_reason, split_reason
from datagen.record import Record, normalize, sha256_text
from datagen.teacher import Request

METHOD = "magpie"


@dataclass
class Conversation:
    index: int
    system: str | None = None        # the system message rendered before every query (persona or system_prompt)
    persona_id: str | None = None
    turns: list[dict] = field(default_factory=list)
    finish_reasons: list = field(default_factory=list)
    end: str | None = None           # why it stopped before num_turns (None: ran them all)
    dropped: bool = False            # its first query or answer failed: rejected, not kept

    @property
    def live(self) -> bool:
        return self.end is None and not self.dropped

    def record(self, ctx, template, multi_turn: bool) -> Record:
        """instruction = first query, output = first answer; all turns in `messages` when multi-turn."""
        meta = {"turns": len(self.turns) // 2, "end": self.end, "finish_reason": self.finish_reasons[-1],
                "finish_reasons": list(self.finish_reasons)}
        if self.persona_id is not None:
            meta["persona_id"] = self.persona_id
        return Record.make(self.turns[0]["content"], "", self.turns[1]["content"],
                           messages=self.turns if multi_turn else None,
                           lineage=ctx.lineage(METHOD, template), meta=meta)


class Turns:
    def __init__(self, cfg, ctx, teacher, template: str | None, source: str, fixed: T.PreQuery | None,
                 persona_t=None) -> None:
        self.cfg, self.ctx, self.teacher, self.template, self.source = cfg, ctx, teacher, template, source
        self.fixed, self.persona_t = fixed, persona_t
        self.markers = T.markers(fixed or T.pre_query(template), template)
        self.seen: set[str] = set()
        self.rejected: dict[str, int] = {}
        self.first: T.PreQuery | None = None

    def pre_query(self, conv: Conversation, turn: int) -> T.PreQuery:
        if turn == 1 and self.fixed is not None:
            return self.fixed
        pq = T.pre_query(self.template, conv.turns, conv.system, self.source)
        return T.PreQuery(pq.text, self.cfg.end_of_turn or pq.end_of_turn, pq.source)

    def query_request(self, conv: Conversation, turn: int) -> tuple[Request, T.PreQuery]:
        pq = self.pre_query(conv, turn)
        self.first = self.first or pq
        s, cfg = self.ctx.sampling, self.cfg
        sampling = s.replace(max_tokens=cfg.query_max_tokens, stop=(pq.end_of_turn,),
                             temperature=s.temperature if cfg.query_temperature is None else cfg.query_temperature,
                             top_p=s.top_p if cfg.query_top_p is None else cfg.query_top_p,
                             seed=derive_seed(s.seed, turn, conv.index))
        return Request(prompt=pq.text, sampling=sampling, key=f"c{conv.index}:q{turn}"), pq

    def answer_request(self, conv: Conversation, turn: int) -> Request:
        s = self.ctx.sampling.replace(seed=derive_seed(self.ctx.sampling.seed, turn, conv.index, answer=True))
        return Request(messages=tuple(conv.turns), sampling=s, key=f"c{conv.index}:a{turn}")

    def fail(self, conv: Conversation, turn: int, reason: str, stage: str, text: str, detail: str = "",
             meta: dict | None = None) -> None:
        """Turn 1: the conversation is rejected. Later: it ends, its earlier turns kept (a budget stop
        there is counted as undone work, as ctx.reject counts it at turn 1, not as a failure)."""
        if reason == BUDGET_ERROR and turn > 1:
            self.ctx.undone[stage] = self.ctx.undone.get(stage, 0) + 1
        elif reason != BUDGET_ERROR:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1
        if turn > 1:
            conv.end = reason
            del conv.turns[2 * (turn - 1):]
            return
        conv.dropped = True
        meta = dict(meta or {}, turn=turn)
        if conv.persona_id is not None:
            meta["persona_id"] = conv.persona_id
        rec = Record.make(text, "", lineage=self.ctx.lineage(METHOD, self.lineage_template()), meta=meta)
        self.ctx.reject(rec, reason, stage, detail)

    def run(self, live: list[Conversation], turn: int) -> None:
        made = [self.query_request(c, turn) for c in live]
        comps = self.teacher.complete([r for r, _ in made])
        if comps and all((c.error or "").startswith("not_found") for c in comps):
            raise DatagenError(f"teacher {self.teacher.name} answered 'not found' to every raw prompt: it has no "
                               "raw completions endpoint, which magpie needs (the embedded teacher, a llama.cpp "
                               "server or vLLM)")
        asking = []
        for conv, (req, pq), comp in zip(live, made, comps):
            if not comp.ok:
                self.fail(conv, turn, (comp.error or "teacher_error").split(":")[0], "teacher", "", comp.error or "")
                continue
            query = parse_query(comp.text, pq.end_of_turn)
            reason, detail = split_reason(query_reason(query, comp.finish_reason, self.markers))
            if reason is None and turn == 1 and normalize(query).lower() in self.seen:
                reason = "duplicate_query"
            if reason:
                self.fail(conv, turn, reason, "magpie:query", query or comp.text, detail,
                          {"raw_query": comp.text, "finish_reason": comp.finish_reason})
                continue
            if turn == 1:
                self.seen.add(normalize(query).lower())
            conv.turns.append({"role": "user", "content": query})
            asking.append(conv)
        self.answer(asking, turn)

    def answer(self, asking: list[Conversation], turn: int) -> None:
        comps = self.teacher.complete([self.answer_request(c, turn) for c in asking]) if asking else []
        for conv, comp in zip(asking, comps):
            query = conv.turns[-1]["content"]
            answer = (comp.text or "").strip() if comp.ok else ""
            if not comp.ok or not answer:
                reason = (comp.error or "teacher_error").split(":")[0] if not comp.ok else "empty_output"
                self.fail(conv, turn, reason, "teacher" if not comp.ok else "magpie:answer", query,
                          comp.error or "", {"finish_reason": comp.finish_reason})
                continue
            conv.turns.append({"role": "assistant", "content": answer})
            conv.finish_reasons.append(comp.finish_reason)

    def lineage_template(self):
        """Lineage's template: the pre-query's origin, and a sha of everything that shapes the prompt."""
        parts = [self.template or "", self.fixed.text if self.fixed else "", self.cfg.system_prompt,
                 self.persona_t.sha if self.persona_t else ""]
        name = self.persona_t.name if self.persona_t else "magpie/pre_query"
        return SimpleNamespace(name=name, sha=sha256_text("\x00".join(parts)))

    def stats(self, convs: list[Conversation], kept: list[Record]) -> dict:
        turns = [len(c.turns) // 2 for c in convs if c.turns and not c.dropped]
        ended: dict[str, int] = {}
        for c in convs:
            if c.end and not c.dropped:
                ended[c.end] = ended.get(c.end, 0) + 1
        return {"pre_query": self.first.text if self.first else None,
                "end_of_turn": self.first.end_of_turn if self.first else None, "template_source": self.source,
                "conversations": len(convs), "kept": len(kept), "failures": dict(sorted(self.rejected.items())),
                "turns": {str(k): turns.count(k) for k in sorted(set(turns))},
                "mean_turns": round(sum(turns) / len(turns), 3) if turns else 0.0,
                "ended_early": dict(sorted(ended.items()))}
