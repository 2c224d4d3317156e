"""Evol-Instruct (WizardLM, Xu et al. 2023): evolve a pool of instructions for M rounds. Each
round rewrites every instruction with one operation drawn by the run's RNG (in-depth: add
constraints, deepen, concretize, increase reasoning, complicate the input; in-breadth: a new task
on a rarer topic), drops failed evolutions with the paper's four elimination rules (sec. 3.2),
answers the survivors, and puts each survivor in its parent's place in the pool. A failed
evolution leaves its parent in the pool for the next round.

    run([seed "Name a fruit."], teacher, Config(num_rounds=1), ctx)
    -> [Record("Name a tropical fruit and explain how it is grown.", output="...",
               lineage=Lineage(parents=(seed.id,), operation="concretize", step=1))]

Ancestry: lineage.parents names the parent record; intermediate parents are kept records of
earlier rounds (records.parquet, or rejected.parquet if a later filter dropped them), and every
evolved or eliminated record carries meta["seed"] = {id, instruction, input} of its root, so the
tree back to the seed is recoverable from the version alone (datagen/versions/tree.py prints it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datagen.errors import DatagenError
from datagen.methods.evol_instruct import parse as P
from datagen.personas import load_personas, make_sampler
from datagen.record import Record
from datagen.teacher import Request

METHOD = "evol_instruct"
DEFAULT_OPERATIONS = ["add_constraints", "deepen", "concretize", "increase_reasoning", "complicate_input",
                      "breadth"]


@dataclass
class Config:
    num_rounds: int = field(default=4, metadata={"min": 1, "help": "evolution rounds M (WizardLM uses 4)"})
    operations: list = field(default_factory=lambda: list(DEFAULT_OPERATIONS), metadata={
        "help": "operations, each a template <template_dir>/<op>.j2; weight with 'op:2' or {op: 2}"})
    template_dir: str = field(default="evol_instruct", metadata={"help": "folder of the operation templates"})
    answer_template: str = field(default="evol_instruct/answer", metadata={"help": "template for the answers"})
    judge_template: str = field(default="evol_instruct/equal", metadata={"help": "equality judge template"})
    max_pool: int | None = field(default=None, metadata={"min": 1, "help": "evolve at most N starting instructions (RNG sample)"})
    max_added_words: int = field(default=20, metadata={"min": 0, 
        "help": "words an in-depth rewrite may add (WizardLM sec. 3.1: 10 to 20), passed to the templates"})
    rewrite_max_tokens: int | None = field(default=None, metadata={"min": 1, "help": "max tokens of a rewrite (None = sampling.max_tokens)"})
    judge: bool = field(default=True, metadata={"help": "ask the teacher whether a rewrite equals its parent"})
    judge_max_tokens: int = field(default=8, metadata={"min": 1, "help": "max tokens of the equality judge's reply"})
    judge_temperature: float = field(default=0.0, metadata={"min": 0.0, "max": 5.0, "help": "temperature of the equality judge"})
    leak_markers: list = field(default_factory=list, metadata={
        "help": "extra phrases that mark a rewrite as copying its prompt (markers of your own templates)"})
    personas: str = field(default="", metadata={
        "help": "persona JSONL ({id, persona} per line) or 'default' (the bundled 240): an operation with a "
                "<op>_persona template (bundled: breadth) writes its new task for a persona drawn with the "
                "run's seed; empty = no personas"})

    def __post_init__(self) -> None:
        if self.personas:  # a bad persona file fails with the config, before a teacher is loaded
            load_personas(self.personas)


def parse_operations(specs: list) -> list[tuple[str, float]]:
    """['deepen', 'breadth:2', {'concretize': 0.5}] -> [('deepen', 1.0), ('breadth', 2.0), ('concretize', 0.5)]"""
    out = []
    for spec in specs:
        items = spec.items() if isinstance(spec, dict) else [str(spec).partition(":")[::2]]
        for name, weight in items:
            name = str(name).strip()
            try:
                w = float(weight) if weight not in ("", None) else 1.0
            except ValueError:
                raise DatagenError(f"method_cfg.operations: bad weight {weight!r} for {name!r}") from None
            if not name or w < 0:
                raise DatagenError(f"method_cfg.operations: bad entry {spec!r}")
            out.append((name, w))
    if not out or sum(w for _, w in out) <= 0:
        raise DatagenError("method_cfg.operations: name at least one operation with a positive weight")
    return out


def load_operations(cfg: Config, templates) -> dict:
    """Operation name -> Template; an operation without a template is an error before any request."""
    ops = {}
    for name, _ in parse_operations(cfg.operations):
        try:
            ops[name] = templates.load(f"{cfg.template_dir}/{name}")
        except DatagenError as exc:
            raise DatagenError(f"unknown evol_instruct operation {name!r}: {exc}") from None
    return ops


def build_evolve_prompt(parent: Record, template, max_added_words: int, sampling, key: str = "",
                        persona=None) -> Request:
    extra = {} if persona is None else {"persona": persona.text}
    messages = template.render(prompt=parent.prompt_text(), instruction=parent.instruction, input=parent.input,
                               max_added_words=max_added_words, **extra)
    return Request(messages=messages, sampling=sampling, key=key)


def build_judge_prompt(parent: Record, rewrite: str, template, sampling, key: str = "") -> Request:
    return Request(messages=template.render(first=parent.prompt_text(), second=rewrite), sampling=sampling, key=key)


def build_answer_prompt(instruction: str, template, sampling, key: str = "") -> Request:
    return Request(messages=template.render(instruction=instruction, input=""), sampling=sampling, key=key)


def load_persona_ops(cfg: Config, templates, ops: dict) -> dict:
    """Operation -> its `<op>_persona` template, for the operations that have one (with personas only)."""
    out = {}
    for name in ops:
        try:
            out[name] = templates.load(f"{cfg.template_dir}/{name}_persona")
        except DatagenError:
            continue
    return out


def seed_info(rec: Record) -> dict:
    return {"id": rec.id, "instruction": rec.instruction, "input": rec.input}


def initial_pool(seeds: list[Record], max_pool: int | None, rng) -> list[Record]:
    """Distinct seeds, then an RNG sample of max_pool of them in their original order."""
    seen, pool = set(), []
    for r in seeds:
        if r.id not in seen:
            seen.add(r.id)
            pool.append(r)
    if max_pool is not None and len(pool) > max_pool:
        picked = sorted(rng.sample(range(len(pool)), max_pool))
        pool = [pool[i] for i in picked]
    return pool


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    if cfg.num_rounds < 1:
        raise DatagenError("method_cfg.num_rounds must be >= 1")
    ops = load_operations(cfg, ctx.templates)
    weighted = parse_operations(cfg.operations)
    names, weights = [n for n, _ in weighted], [w for _, w in weighted]
    answer_tpl = ctx.templates.load(cfg.answer_template)
    judge_tpl = ctx.templates.load(cfg.judge_template) if cfg.judge else None
    rewrite_sampling = ctx.sampling.replace(max_tokens=cfg.rewrite_max_tokens or ctx.sampling.max_tokens)
    judge_sampling = ctx.sampling.replace(max_tokens=cfg.judge_max_tokens, temperature=cfg.judge_temperature)
    pool = initial_pool(seeds, cfg.max_pool, ctx.rng)
    root = {r.id: seed_info(r) for r in pool}  # pool member id -> its seed
    ctx.stats.update(pool=len(pool), rounds=[dict(round=0, kept=len(pool), **_diversity(pool))])
    calls = 3 if cfg.judge else 2  # rewrite, judge, answer: an upper bound for the progress line
    ctx.progress.set_total(len(pool) * cfg.num_rounds * calls, desc="evol_instruct")
    out: list[Record] = []
    ev = Evolution(cfg, ctx, teacher, ops, answer_tpl, judge_tpl, rewrite_sampling, judge_sampling, root,
                   seen={r.id for r in pool})
    ev.personas = make_sampler(cfg.personas, ctx.sampling.seed)
    if ev.personas is not None:
        ev.persona_ops = load_persona_ops(cfg, ctx.templates, ops)
    for step in range(1, cfg.num_rounds + 1):
        chosen = [names[i] for i in (ctx.rng.choices(range(len(names)), weights=weights, k=1)[0] for _ in pool)]
        kept, stats = evolve_round(ev, pool, chosen, step)
        by_parent = {r.lineage.parents[0]: r for r in kept}
        for child in kept:
            root[child.id] = root[child.lineage.parents[0]]
        pool = [by_parent.get(p.id, p) for p in pool]  # a failed evolution keeps its parent
        out.extend(kept)
        ctx.stats["rounds"].append(stats)
        if ctx.stopped:
            ctx.stats["stopped_after_round"] = step
            break
    ctx.stats["evolved"] = len(out)
    if ev.personas is not None:
        ctx.stats["personas"] = {**ev.personas.stats(), "operations": sorted(ev.persona_ops)}
    return out


@dataclass
class Evolution:
    """What every round shares: config, context, teacher, templates, samplings, each pool member's
    seed (`root`) and the ids kept so far (`seen`)."""
    cfg: Any
    ctx: Any
    teacher: Any
    ops: dict
    answer_tpl: Any
    judge_tpl: Any
    rewrite_sampling: Any
    judge_sampling: Any
    root: dict
    seen: set = field(default_factory=set)
    personas: Any = None  # a PersonaSampler, or None: prompts rendered exactly as without personas
    persona_ops: dict = field(default_factory=dict)  # operation -> its persona template
    persona_k: int = 0  # personas drawn so far

    def persona_prompt(self, parent: Record, op: str, sampling, personas_of: dict) -> Request:
        """The rewrite request; an operation with a persona template gets the run's next persona."""
        if op not in self.persona_ops:
            return build_evolve_prompt(parent, self.ops[op], self.cfg.max_added_words, sampling, key=parent.id)
        persona = self.personas.at(self.persona_k)
        self.persona_k += 1
        personas_of[parent.id] = persona.id
        return build_evolve_prompt(parent, self.persona_ops[op], self.cfg.max_added_words, sampling,
                                   key=parent.id, persona=persona)


def evolve_round(ev: Evolution, pool: list[Record], chosen: list[str], step: int) -> tuple[list[Record], dict]:
    """One round: rewrite -> parse/leak/identical -> judge -> answer -> refusal/stop words."""
    cfg, ctx, teacher, ops, root, seen = ev.cfg, ev.ctx, ev.teacher, ev.ops, ev.root, ev.seen
    rewrite_sampling, judge_sampling, judge_tpl, answer_tpl = ev.rewrite_sampling, ev.judge_sampling, ev.judge_tpl, \
        ev.answer_tpl
    eliminated: dict[str, int] = {}
    unreadable = 0
    op_counts: dict[str, int] = {}
    for op in chosen:
        op_counts[op] = op_counts.get(op, 0) + 1

    personas_of: dict[str, str] = {}  # parent id -> persona id of its rewrite prompt

    def candidate(parent, op, text, output=None, meta=None) -> Record:
        persona = personas_of.get(parent.id)
        lineage = ctx.lineage(METHOD, ev.persona_ops[op] if persona else ops[op], parents=[parent.id], step=step,
                              operation=op, sampling=rewrite_sampling)
        extra = {"persona_id": persona} if persona else {}
        return Record.make(text, "", output, lineage=lineage, meta={"seed": root[parent.id], **extra, **(meta or {})})

    def reject(rec, reason, stage, detail=""):
        eliminated[reason] = eliminated.get(reason, 0) + 1
        ctx.reject(rec, reason, stage, detail)

    requests = [ev.persona_prompt(p, op, rewrite_sampling, personas_of) for p, op in zip(pool, chosen)]
    alive = []  # (parent, op, rewrite, rewrite finish_reason)
    for parent, op, comp in zip(pool, chosen, teacher.complete(requests)):
        if not comp.ok:
            reject(candidate(parent, op, ""), "teacher_error", "teacher", comp.error or "")
            continue
        rewrite = P.parse_rewrite(comp.text)
        if rewrite is None:
            reject(candidate(parent, op, comp.text), "empty_rewrite", "parse")
        elif P.leak_reason(rewrite, tuple(cfg.leak_markers)):
            reject(candidate(parent, op, rewrite), "prompt_leak", "evolve")
        elif _same_words(rewrite, parent.prompt_text()):
            reject(candidate(parent, op, rewrite), "no_information_gain", "evolve", "identical")
        else:
            alive.append((parent, op, rewrite, comp.finish_reason))

    if judge_tpl is not None and alive:
        judged = teacher.complete([build_judge_prompt(p, rw, judge_tpl, judge_sampling, key=p.id)
                                   for p, _, rw, _ in alive])
        survivors = []
        for item, comp in zip(alive, judged):
            if not comp.ok:
                reject(candidate(*item[:3]), "teacher_error", "judge", comp.error or "")
                continue
            verdict = P.parse_equal(comp.text)
            unreadable += verdict is None  # no evidence of equality: the rewrite goes on
            if verdict:
                reject(candidate(item[0], item[1], item[2]), "no_information_gain", "judge", comp.text.strip()[:200])
            else:
                survivors.append(item)
        alive = survivors

    kept = []
    if alive:
        answers = teacher.complete([build_answer_prompt(rw, answer_tpl, ctx.sampling, key=p.id)
                                    for p, _, rw, _ in alive])
        for (parent, op, rewrite, rw_finish), comp in zip(alive, answers):
            if not comp.ok:
                reject(candidate(parent, op, rewrite), "teacher_error", "teacher", comp.error or "")
                continue
            answer = comp.text.strip()
            meta = {"finish_reason": comp.finish_reason, "rewrite_finish_reason": rw_finish}
            rec = candidate(parent, op, rewrite, answer, meta)
            reason = "empty_output" if not answer else P.answer_reason(answer)
            if reason:
                reject(rec, reason, "answer")
            elif rec.id in seen:  # two parents evolved into the same example: keep the first
                reject(rec, "exact_duplicate", "evolve")
            else:
                seen.add(rec.id)
                kept.append(rec)
    stats = dict(round=step, attempted=len(pool), operations=dict(sorted(op_counts.items())),
                 eliminated=dict(sorted(eliminated.items())), judge_unreadable=unreadable, kept=len(kept),
                 **_diversity(kept))
    return kept, stats


def _same_words(a: str, b: str) -> bool:
    """'Name a fruit!' vs 'name a fruit' -> True: a rewrite that changed nothing but case and punctuation."""
    return [w.lower() for w in P.words(a)] == [w.lower() for w in P.words(b)]


def _diversity(records: list[Record]) -> dict:
    texts = [r.prompt_text() for r in records]
    return {**P.length_stats(texts), "distinct_2": P.distinct_n(texts, 2),
            "mean_rouge_l": P.mean_pairwise_rouge_l(texts)}
