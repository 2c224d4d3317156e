"""Self-chat: multi-turn conversations in which the teacher plays both the user and the assistant
(Baize, Xu et al. 2023, "Baize: An Open-Source Chat Model with Parameter-Efficient Tuning on
Self-Chat Data"; UltraChat, Ding et al. 2023, two models as user and assistant). Each conversation
opens with a seed task (or a version's instruction, with --from) or with a message the teacher
writes for a topic; then, turn by turn, the assistant answers and the user simulator writes the next
message, until the user ends the chat (parse.py: end marker, closing message, repeat) or num_turns
is reached.

    run([seed "Name a fruit."], teacher, Config(num_turns=3), ctx)
    -> [Record("Name a fruit.", output="An apple.", messages=(user, assistant, user, assistant, ...),
               lineage=Lineage(method="self_chat", parents=(seed.id,)), meta={"turns": 3, "end": "max_turns"})]

A turn is one user message and the assistant's answer; `instruction` is the opening user message and
`output` its answer. All conversations advance together, one batch per turn and side, and every
request is built from the conversation so far only: a rerun after a crash sends exactly the same
requests, so the response cache answers every turn already done (kill -9 safe).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from datagen.errors import DatagenError
from datagen.methods.self_align.principles import read_data_file
from datagen.methods.self_chat import parse as P
from datagen.methods.self_chat.prompts import build_assistant_request, build_opening_request, build_user_request
from datagen.personas import load_personas, make_sampler
from datagen.record import Record

__all__ = ["Config", "METHOD", "run"]
METHOD = "self_chat"
SOURCES = ("seeds", "topics")


@dataclass
class Config:
    source: str = field(default="seeds", metadata={
        "help": "seeds: open with the seed tasks (or --from a version's instructions) | topics: the teacher "
                "writes the opening message for a topic of `topics`"})
    topics: str = field(default="self_chat/topics.yaml", metadata={
        "help": "YAML file with a `topics:` list (a path, or a name under prompts/), for source: topics"})
    num_conversations: int = field(default=10, metadata={"min": 0, 
        "help": "conversations to hold: an RNG sample of the seeds, or topics drawn in turn (0 = every seed/topic)"})
    num_turns: int = field(default=3, metadata={"min": 1, "max": 32, 
        "help": "most turns (user message + answer) a conversation may have"})
    min_turns: int = field(default=1, metadata={"min": 1, "max": 32, 
        "help": "a conversation the user ends with fewer turns is rejected as too_few_turns"})
    end_marker: str = field(default="[END]", metadata={
        "help": "the user simulator writes this to end the conversation (shown in its prompt)"})
    stop_on_closing: bool = field(default=True, metadata={
        "help": "a user message that only thanks or says goodbye ends the conversation too"})
    user_max_tokens: int | None = field(default=None, metadata={"min": 1, 
        "help": "max tokens of a user-simulator message (None = sampling.max_tokens)"})
    user_template: str = field(default="self_chat/user", metadata={"help": "user-simulator template"})
    assistant_template: str = field(default="self_chat/assistant", metadata={"help": "assistant system template"})
    opening_template: str = field(default="self_chat/opening", metadata={"help": "opening-message template (topics)"})
    personas: str = field(default="", metadata={
        "help": "persona JSONL ({id, persona} per line) or 'default' (the bundled 240): each conversation's user "
                "is one persona drawn with the run's seed (templates' `persona`); empty = no personas"})

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise DatagenError(f"method_cfg.source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.min_turns > self.num_turns:
            raise DatagenError(f"method_cfg.min_turns {self.min_turns} > num_turns {self.num_turns}")
        if not self.end_marker.strip():
            raise DatagenError("method_cfg.end_marker must not be empty")
        if self.personas:  # a bad persona file fails with the config, before a teacher is loaded
            load_personas(self.personas)


@dataclass
class Conversation:
    """One conversation in progress. `persona` is the per-conversation condition given to the
    templates (None: no persona)."""
    index: int
    opening: str
    parent: Record | None = None
    topic: str = ""
    persona: str | None = None
    persona_id: str | None = None
    seed_offset: int = 0  # topics drawn a second time get another sampling seed, so not the same chat again
    turns: list[dict] = field(default_factory=list)
    finish_reasons: list = field(default_factory=list)
    user_finish_reasons: list = field(default_factory=list)
    end: str | None = None
    dropped: bool = False

    @property
    def live(self) -> bool:
        return self.end is None and not self.dropped

    def record(self, ctx, template, meta: dict | None = None) -> Record:
        first = self.turns[0]["content"] if self.turns else (self.opening or self.topic)
        answer = self.turns[1]["content"] if len(self.turns) > 1 else None
        lineage = ctx.lineage(METHOD, template, parents=[self.parent.id] if self.parent else [])
        info = {"turns": sum(m["role"] == "assistant" for m in self.turns), "end": self.end,
                "finish_reason": self.finish_reasons[-1] if self.finish_reasons else None,
                "finish_reasons": list(self.finish_reasons), "user_finish_reasons": list(self.user_finish_reasons),
                "source": "topic" if self.topic else "seed", **({"topic": self.topic} if self.topic else {}),
                **({"persona_id": self.persona_id} if self.persona_id else {})}
        return Record.make(first, "", answer, messages=self.turns or None, lineage=lineage, meta={**info, **(meta or {})})


def load_topics(cfg: Config, templates) -> list[str]:
    text, _, _ = read_data_file(templates, cfg.topics, "topics")  # a path, or a name under prompts/
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DatagenError(f"topics file {cfg.topics}: invalid YAML: {exc}") from None
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) and t.strip() for t in topics):
        raise DatagenError(f"topics file {cfg.topics}: expected `topics:` with a non-empty list of strings")
    return [t.strip() for t in topics]


def start(seeds: list[Record], cfg: Config, ctx) -> list[Conversation]:
    """The conversations to hold: an RNG sample of distinct seeds in pool order, or shuffled topics, cycled."""
    if cfg.source == "topics":
        order = load_topics(cfg, ctx.templates)
        ctx.rng.shuffle(order)
        n = cfg.num_conversations or len(order)
        return [Conversation(i, "", topic=order[i % len(order)], seed_offset=i // len(order)) for i in range(n)]
    pool = list({r.id: r for r in seeds}.values())
    if cfg.num_conversations and cfg.num_conversations < len(pool):
        pool = [pool[i] for i in sorted(ctx.rng.sample(range(len(pool)), cfg.num_conversations))]
    return [Conversation(i, r.prompt_text(), parent=r) for i, r in enumerate(pool)]


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    tpl = {"user": ctx.templates.load(cfg.user_template), "assistant": ctx.templates.load(cfg.assistant_template)}
    if cfg.source == "topics":
        tpl["opening"] = ctx.templates.load(cfg.opening_template)
    convs = start(seeds, cfg, ctx)
    personas = make_sampler(cfg.personas, ctx.sampling.seed)
    for c in convs if personas else []:
        p = personas.at(c.index)
        c.persona, c.persona_id = p.text, p.id
    user_sampling = ctx.sampling.replace(max_tokens=cfg.user_max_tokens or ctx.sampling.max_tokens)
    ctx.progress.set_total(len(convs) * (2 * cfg.num_turns - 1 + (cfg.source == "topics")), desc="self_chat")
    chat = Chat(cfg, ctx, teacher, tpl, user_sampling)
    if cfg.source == "topics":
        chat.openings(convs)
    else:
        for c in convs:
            c.turns.append({"role": "user", "content": c.opening})
    for k in range(1, cfg.num_turns + 1):
        if k > 1:
            chat.user_turn([c for c in convs if c.live], k)
        chat.assistant_turn([c for c in convs if c.live], k)
    for c in convs:
        if c.live:
            c.end = "max_turns"
    if personas:
        ctx.stats["personas"] = personas.stats()
    return chat.finish(convs)


@dataclass
class Chat:
    """The teacher calls of one run: each method takes the live conversations and advances them one step."""
    cfg: Config
    ctx: object
    teacher: object
    tpl: dict
    user_sampling: object

    def sampling(self, base, c: Conversation):
        return base.replace(seed=(base.seed or 0) + c.seed_offset) if c.seed_offset else base

    def drop(self, c: Conversation, reason: str, stage: str, detail: str = "") -> None:
        """A teacher error or an unusable reply drops the conversation; work the budget left undone is
        counted by ctx.reject as undone, never as a rejection."""
        c.dropped = True
        self.ctx.reject(c.record(self.ctx, self.tpl["assistant"]), reason, stage, detail)

    def openings(self, convs: list[Conversation]) -> None:
        reqs = [build_opening_request(c.topic, self.tpl["opening"], self.sampling(self.user_sampling, c),
                                      f"c{c.index}:open", c.persona)
                for c in convs]
        for c, comp in zip(convs, self.teacher.complete(reqs)):
            text = P.parse_opening(comp.text) if comp.ok else None
            if not comp.ok:
                self.drop(c, "teacher_error", "opening", comp.error or "")
            elif text is None:
                self.drop(c, "empty_opening", "opening")
            else:
                c.opening = text
                c.turns.append({"role": "user", "content": text})
                c.user_finish_reasons.append(comp.finish_reason)

    def user_turn(self, convs: list[Conversation], k: int) -> None:
        reqs = [build_user_request(c.turns, self.tpl["user"], self.cfg.end_marker,
                                   self.sampling(self.user_sampling, c), f"c{c.index}:u{k}", c.persona) for c in convs]
        for c, comp in zip(convs, self.teacher.complete(reqs)):
            if not comp.ok:
                self.drop(c, "teacher_error", "user_turn", comp.error or "")
                continue
            earlier = [m["content"] for m in c.turns]
            turn = P.parse_user_turn(comp.text, self.cfg.end_marker, earlier, self.cfg.stop_on_closing)
            if turn.end:
                c.end = turn.end
            else:
                c.turns.append({"role": "user", "content": turn.text})
                c.user_finish_reasons.append(comp.finish_reason)

    def assistant_turn(self, convs: list[Conversation], k: int) -> None:
        reqs = [build_assistant_request(c.turns, self.tpl["assistant"], self.sampling(self.ctx.sampling, c),
                                        f"c{c.index}:a{k}", c.persona) for c in convs]
        for c, comp in zip(convs, self.teacher.complete(reqs)):
            text = P.parse_assistant(comp.text) if comp.ok else None
            if not comp.ok:
                self.drop(c, "teacher_error", "assistant_turn", comp.error or "")
            elif text is None:
                self.drop(c, "empty_output", "assistant_turn", f"turn {k}")
            elif P.repeats(text, [m["content"] for m in c.turns if m["role"] == "assistant"]):
                c.turns.pop()  # an answer said before answers nothing new: the chat ends at the turn before
                c.user_finish_reasons.pop()
                c.end = "assistant_repeat"
            else:
                c.turns.append({"role": "assistant", "content": text})
                c.finish_reasons.append(comp.finish_reason)

    def finish(self, convs: list[Conversation]) -> list[Record]:
        out, ended, seen = [], {}, {}
        for c in convs:
            if c.dropped:
                continue
            ended[c.end] = ended.get(c.end, 0) + 1
            rec = c.record(self.ctx, self.tpl["assistant"])
            n = rec.meta["turns"]
            if n < self.cfg.min_turns:
                self.ctx.reject(rec, "too_few_turns", "stop", f"{n} turns < {self.cfg.min_turns}; ended by {c.end}")
            elif rec.id in seen:  # two openings that led to the same conversation: keep the first
                self.ctx.reject(rec, "exact_duplicate", "stop", seen[rec.id])
            else:
                seen[rec.id] = rec.id
                out.append(rec)
        turns = [r.meta["turns"] for r in out]
        self.ctx.stats.update(conversations=len(convs), kept=len(out), ended_by=dict(sorted(ended.items())),
                              mean_turns=round(sum(turns) / len(turns), 3) if turns else 0.0,
                              max_turns=max(turns, default=0),
                              turns={str(n): turns.count(n) for n in sorted(set(turns))})
        return out
