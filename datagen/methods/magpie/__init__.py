"""Magpie (Xu et al. 2024): the teacher writes user queries from its chat template's pre-query, then answers them.

"Magpie: Alignment Data Synthesis from Scratch by Prompting Aligned LLMs with Nothing": an aligned
teacher is sent only the pre-query part of its own chat template (ChatML's
`<|im_start|>user\\n`) as a raw completion; what it writes until its end-of-turn token is a user
query, which the teacher then answers through the chat endpoint. No seed tasks are used. With
`num_turns` > 1 the conversation so far, rendered in the template, is followed by the next user
pre-query, and so on. Queries that are empty, cut by max_tokens or leak template text are dropped
with their reason; a query equal to an earlier one is `duplicate_query`.

    run([], teacher, Config(num_conversations=2), ctx)
    -> [Record("How do I keep basil alive indoors?", output="Give it light ...", lineage=Lineage(method="magpie"))]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.methods.magpie import chat_template as T
from datagen.methods.magpie.conversations import Conversation, Turns
from datagen.personas import load_personas, make_sampler
from datagen.teacher import backend_attr

METHOD = "magpie"


@dataclass
class Config:
    num_conversations: int = field(default=20, metadata={"min": 1, "max": 50_000,
                                                         "help": "queries drawn, each opening a conversation"})
    num_turns: int = field(default=1, metadata={"min": 1, "max": 20, "help": "user/assistant turns per conversation"})
    chat_template: str = field(default="", metadata={
        "help": f"a chat format ({', '.join(T.FORMATS)}), a Jinja chat template file, or empty = the teacher's "
                "own (GGUF metadata, a llama.cpp server's /props, a tokenizer)"})
    pre_query: str = field(default="", metadata={
        "help": "the first turn's pre-query text itself (wins over the template), e.g. '<|im_start|>user\\n' "
                "(a backslash-n in it is a newline)"})
    end_of_turn: str = field(default="", metadata={"help": "where a query ends (empty = read from the template)"})
    system_prompt: str = field(default="", metadata={
        "help": "a system message placed before every query (empty = the template's own default, if any)"})
    query_max_tokens: int = field(default=128, metadata={"min": 1, "help": "max tokens of a query"})
    query_temperature: float | None = field(default=None, metadata={
        "min": 0.0, "max": 5.0, "help": "temperature of the queries (default: sampling.temperature; Magpie: 1.0)"})
    query_top_p: float | None = field(default=None, metadata={
        "min": 0.0, "max": 1.0, "help": "top_p of the queries (default: sampling.top_p)"})
    personas: str = field(default="", metadata={
        "help": "persona JSONL ({id, persona} per line) or 'default' (the bundled 240): each conversation's system "
                "message is persona_template for one persona drawn with the run's seed; empty = no personas"})
    persona_template: str = field(default="magpie/persona_system", metadata={
        "help": "the system message of a persona's conversation (variable: persona)"})

    def __post_init__(self) -> None:
        # "\n" typed on a command line arrives as backslash + n; a chat template never means that.
        self.pre_query = self.pre_query.replace("\\n", "\n")
        self.end_of_turn = self.end_of_turn.replace("\\n", "\n")
        if self.personas:  # a bad persona file fails with the config, before a teacher is loaded
            load_personas(self.personas)


def check_raw(teacher) -> None:
    """Magpie needs raw completions; a backend that says it has none is refused before any request."""
    if backend_attr(teacher, "supports_raw", True) is False:
        raise DatagenError(f"teacher {teacher.name} is chat-only: magpie needs raw completions "
                           "(the embedded teacher, a llama.cpp server or vLLM)")


def resolve(cfg: Config, teacher) -> tuple[str | None, str, T.PreQuery | None]:
    """(chat template or None, its source, the fixed first pre-query or None) before any request.
    The template is needed for a later turn, a system message or a persona; a given pre_query alone
    is enough for single turns."""
    needs_template = cfg.num_turns > 1 or bool(cfg.personas) or bool(cfg.system_prompt) or not cfg.pre_query
    if cfg.pre_query and cfg.personas:
        raise DatagenError("method_cfg.pre_query is fixed text: a persona needs the chat template to place its "
                           "system message (use method_cfg.chat_template instead)")
    template, source = None, "method_cfg.pre_query"
    if needs_template or not cfg.end_of_turn:
        own = None if cfg.chat_template else backend_attr(teacher, "chat_template")
        try:
            template, source = T.resolve_template(cfg.chat_template, own() if callable(own) else own)
        except DatagenError:
            if needs_template:
                raise
    fixed = None
    if cfg.pre_query:
        end = cfg.end_of_turn or (T.pre_query(template).end_of_turn if template else "")
        if not end:
            raise DatagenError("method_cfg.pre_query needs method_cfg.end_of_turn (where a query ends), or a "
                               "chat_template to read it from")
        fixed = T.PreQuery(cfg.pre_query, end, "method_cfg.pre_query")
    return template, source, fixed


def run(seeds, teacher, cfg: Config, ctx) -> list:
    """Seeds are not used: Magpie's queries come from the teacher alone."""
    check_raw(teacher)
    template, source, fixed = resolve(cfg, teacher)
    personas = make_sampler(cfg.personas, ctx.sampling.seed)
    persona_t = ctx.templates.load(cfg.persona_template) if personas else None
    convs = []
    for i in range(cfg.num_conversations):
        persona = personas.at(i) if personas else None
        system = persona_t.render_text(persona=persona.text) if persona else (cfg.system_prompt or None)
        convs.append(Conversation(i, system=system, persona_id=persona.id if persona else None))
    turns = Turns(cfg, ctx, teacher, template, source, fixed, persona_t)
    ctx.progress.set_total(cfg.num_conversations * cfg.num_turns * 2, desc="magpie")
    for turn in range(1, cfg.num_turns + 1):
        live = [c for c in convs if c.live]
        if not live or ctx.stopped:
            break
        turns.run(live, turn)
    out = [c.record(ctx, turns.lineage_template(), cfg.num_turns > 1) for c in convs if c.turns and not c.dropped]
    ctx.stats.update(turns.stats(convs, out))
    if personas:
        ctx.stats["personas"] = personas.stats()
    return out
