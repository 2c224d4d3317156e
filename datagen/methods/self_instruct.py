"""Self-Instruct (Wang et al. 2022, "Self-Instruct: Aligning Language Models with Self-Generated
Instructions"): the teacher grows a task pool from a few seed tasks, round by round.

Each round (§2.2): B prompts, each showing 8 tasks sampled from the pool (6 human-written seeds and
2 machine-generated ones), ask for new instructions as a continued numbered list; new instructions
pass the filters (§2.3) and a ROUGE-L < 0.7 novelty check against the whole pool; a few-shot prompt
tells classification tasks apart; instances are written input-first for open tasks and output-first
(class label, then input) for classification tasks. Rounds repeat until `num_instructions` tasks
have instances, `max_rounds` is spent or the budget stops the run.

    run(seeds, teacher, Config(num_instructions=60), ctx) -> [Record("Name a bird that cannot fly.", "", "Penguin"), ...]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.methods import self_instruct_parse as P
from datagen.record import Record, normalize
from datagen.teacher import Request

METHOD = "self_instruct"


@dataclass
class Config:
    num_instructions: int = field(default=60, metadata={"help": "stop once this many new instructions have instances"})
    max_rounds: int = field(default=20, metadata={"help": "stop after this many rounds in any case"})
    prompts_per_round: int = field(default=8, metadata={"help": "generation prompts per round (B)"})
    num_prompt_instructions: int = field(default=8, metadata={
        "help": "in-context tasks per prompt (Wang et al. 2022 §2.2: 8)"})
    num_machine_instructions: int = field(default=2, metadata={
        "help": "how many of them come from the machine-generated pool (paper: 2 of 8)"})
    max_new_per_prompt: int = field(default=8, metadata={"help": "keep at most this many instructions per answer"})
    novelty_threshold: float = field(default=0.7, metadata={
        "help": "drop an instruction whose ROUGE-L with any pool instruction is >= this (paper: 0.7)"})
    min_words: int = field(default=3, metadata={"help": "instruction_too_short below this many words (paper: 3)"})
    max_words: int = field(default=150, metadata={"help": "instruction_too_long above this many words (paper: 150)"})
    classification_examples: int = field(default=8, metadata={"help": "few-shot yes/no examples (from the seeds)"})
    instance_examples: int = field(default=4, metadata={"help": "example instances shown per instance prompt"})
    max_instances: int = field(default=1, metadata={"help": "records kept per instruction (one per instance)"})
    drop_copied_output: bool = field(default=True, metadata={
        "help": "drop instances whose output repeats the input (not in the paper; small teachers do it a lot)"})
    no_input: str = field(default="<noinput>", metadata={"help": "what instance prompts write for 'no input'"})
    gen_max_tokens: int | None = field(default=None, metadata={"help": "max tokens of an instruction list (default: sampling.max_tokens)"})
    classify_max_tokens: int = field(default=3, metadata={"help": "max tokens of the yes/no answer"})
    instance_max_tokens: int | None = field(default=None, metadata={"help": "max tokens of an instance (default: sampling.max_tokens)"})
    instance_temperature: float | None = field(default=None, metadata={"help": "instance temperature (default: sampling.temperature)"})
    gen_stop: list[str] = field(default_factory=list, metadata={"help": "stop strings for instruction lists (completion teachers: [\"\\n\\n\"])"})
    instance_stop: list[str] = field(default_factory=lambda: ["Task:"], metadata={"help": "stop strings for instances"})
    alpaca_style: bool = field(default=False, metadata={
        "help": "Alpaca's simplification: instruction, input and output in one request, no classification step"})
    alpaca_tasks_per_request: int = field(default=20, metadata={"help": "tasks asked for per request in alpaca_style (Alpaca: 20)"})
    alpaca_template: str = field(default="self_instruct/alpaca_generate", metadata={"help": "alpaca_style prompt"})
    template: str = field(default="self_instruct/generate", metadata={"help": "instruction generation prompt"})
    classify_template: str = field(default="self_instruct/is_classification", metadata={"help": "classification prompt"})
    input_first_template: str = field(default="self_instruct/instance_input_first", metadata={"help": "open-task instances"})
    output_first_template: str = field(default="self_instruct/instance_output_first", metadata={"help": "classification instances"})

    def __post_init__(self) -> None:
        if not 0 <= self.num_machine_instructions <= self.num_prompt_instructions or self.num_prompt_instructions < 1:
            raise DatagenError("method_cfg: need 1 <= num_prompt_instructions and 0 <= num_machine_instructions <= it")
        if min(self.num_instructions, self.max_rounds, self.prompts_per_round, self.max_new_per_prompt) < 1:
            raise DatagenError("method_cfg: num_instructions, max_rounds, prompts_per_round, max_new_per_prompt must be >= 1")
        if not 0 < self.novelty_threshold <= 1:
            raise DatagenError(f"method_cfg.novelty_threshold must be in (0, 1], got {self.novelty_threshold}")


@dataclass
class Task:
    """A pool entry for in-context sampling: Task("Name a fruit.", id="ab12...", is_seed=True)."""
    instruction: str
    id: str
    is_seed: bool
    input: str = ""
    output: str = ""


def one_line(text: str) -> str:
    return normalize(text)


def sample_context(seed_pool: list[Task], machine_pool: list[Task], cfg: Config, rng) -> list[Task]:
    """num_prompt_instructions tasks: num_machine_instructions from the machine pool (fewer while
    it is small), the rest from the seeds, shuffled. (12 seeds, 0 machine, 8/2) -> 8 seeds."""
    n_machine = min(cfg.num_machine_instructions, len(machine_pool))
    n_seed = min(cfg.num_prompt_instructions - n_machine, len(seed_pool))
    chosen = rng.sample(seed_pool, n_seed) + rng.sample(machine_pool, n_machine)
    rng.shuffle(chosen)
    return chosen


def build_generate_prompts(seed_pool, machine_pool, cfg: Config, template, sampling, rng,
                           round_no: int, alpaca: bool = False) -> list[tuple[Request, list[Task]]]:
    """B requests, each with the in-context tasks it shows (their ids become the lineage parents);
    alpaca=True shows whole tasks (instruction, input, output) and asks for complete new ones."""
    out = []
    for i in range(cfg.prompts_per_round):
        tasks = sample_context(seed_pool, machine_pool, cfg, rng)
        s = sampling.replace(seed=derive_seed(sampling.seed, round_no, i))
        if alpaca:
            msgs = template.render(tasks=[{"instruction": one_line(t.instruction), "input": t.input, "output": t.output}
                                          for t in tasks], num=cfg.alpaca_tasks_per_request, no_input=cfg.no_input)
        else:
            msgs = template.render(tasks=[one_line(t.instruction) for t in tasks])
        out.append((Request(messages=msgs, sampling=s, key=f"gen-{round_no}-{i}"), tasks))
    return out


def derive_seed(base: int | None, round_no: int, i: int) -> int | None:
    """A distinct, reproducible seed per request: (0, round 2, request 5) -> 200005."""
    return None if base is None else base + round_no * 100_000 + i


def classification_examples(seeds: list[Record], n: int, rng) -> list[dict]:
    """Up to n seeds for the yes/no prompt, 3 in 8 of them classification tasks, shuffled. (Measured on
    SmolLM2-135M: 4 of 8 doubled its false "Yes" answers, 2 of 8 gave no "Yes" at all.)"""
    yes = [s for s in seeds if s.meta.get("is_classification")]
    no = [s for s in seeds if not s.meta.get("is_classification")]
    n_yes = min(len(yes), max(1, 3 * n // 8))
    chosen = [(s, True) for s in rng.sample(yes, n_yes)] + [(s, False) for s in rng.sample(no, min(len(no), n - n_yes))]
    rng.shuffle(chosen)
    return [{"instruction": one_line(s.instruction), "is_classification": c} for s, c in chosen]


def instance_examples(seeds: list[Record], n: int, classification: bool, rng) -> list[dict]:
    """n seed instances for the instance prompts; open tasks alternate with and without an input,
    so the teacher sees that a task may need none."""
    pool = [s for s in seeds if bool(s.meta.get("is_classification")) == classification and s.output]
    with_input, without = [s for s in pool if s.input], [s for s in pool if not s.input]
    if classification or not with_input or not without:
        picked = rng.sample(pool, min(n, len(pool)))
    else:
        a, b = rng.sample(with_input, min(len(with_input), (n + 1) // 2)), rng.sample(without, min(len(without), n // 2))
        picked = [x for pair in zip(a, b) for x in pair] + a[len(b):] + b[len(a):]
    return [{"instruction": one_line(s.instruction), "input": s.input, "output": s.output} for s in picked]


def parse_instances(text: str, is_classification: bool) -> list[tuple[str, str]]:
    parse = P.parse_instances_output_first if is_classification else P.parse_instances_input_first
    return P.dedupe_instances(parse(text))



def _error_reason(comp) -> str:
    """"bad_request: prompt too long" -> "bad_request"; budget stops read "budget_exhausted"."""
    return (comp.error or "teacher_error").split(":")[0].strip() or "teacher_error"


def _reject_answer(ctx, req: Request, comp, lineage, reason: str, stage: str, detail: str = "") -> None:
    """A whole answer is unusable: the rejected row is its prompt, with the answer in meta."""
    rec = Record.make(req.messages[-1]["content"], lineage=lineage,
                      meta={"answer": comp.text, "finish_reason": comp.finish_reason})
    ctx.reject(rec, reason, stage, detail or (comp.error or ""))


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    from filters.novelty import NoveltyIndex
    from filters.self_instruct import copied_output_reason, instances_reason, instruction_reason

    alpaca = cfg.alpaca_style
    gen_t = ctx.templates.load(cfg.alpaca_template if alpaca else cfg.template)
    cls_t = ctx.templates.load(cfg.classify_template)
    inst_t = {False: ctx.templates.load(cfg.input_first_template), True: ctx.templates.load(cfg.output_first_template)}
    rng, base = ctx.rng, ctx.sampling.seed
    gen_s = ctx.sampling.replace(max_tokens=cfg.gen_max_tokens or ctx.sampling.max_tokens, stop=tuple(cfg.gen_stop))
    # Classification identification is a yes/no decision: greedy and one line.
    cls_s = ctx.sampling.replace(max_tokens=cfg.classify_max_tokens, temperature=0.0, stop=("\n",))
    inst_s = ctx.sampling.replace(max_tokens=cfg.instance_max_tokens or ctx.sampling.max_tokens,
                                  temperature=ctx.sampling.temperature if cfg.instance_temperature is None
                                  else cfg.instance_temperature, stop=tuple(cfg.instance_stop))
    # Few-shot examples are fixed for the run: the prompts then share a prefix (cheap for llama.cpp).
    cls_ex = classification_examples(seeds, cfg.classification_examples, rng)
    inst_ex = {c: instance_examples(seeds, cfg.instance_examples, c, rng) for c in (False, True)}
    seed_pool = [Task(s.instruction, s.id, True, s.input, s.output or "") for s in seeds]
    machine_pool: list[Task] = []
    index, pool_ids = NoveltyIndex(cfg.novelty_threshold), []
    for s in seeds:  # novelty is checked against everything in the pool, seeds included
        index.add(s.instruction)
        pool_ids.append(s.id)
    out: list[Record] = []
    rounds: list[dict] = []
    ctx.stats.update(rounds=rounds)
    for round_no in range(1, cfg.max_rounds + 1):
        if len(machine_pool) >= cfg.num_instructions or ctx.stopped:
            break
        st = {"round": round_no, "requests": 0, "prompts": cfg.prompts_per_round, "parsed": 0, "candidates": 0,
              "classification": 0, "kept": 0, "dropped": {}}
        rounds.append(st)

        def count(reason: str) -> str:
            st["dropped"][reason] = st["dropped"].get(reason, 0) + 1
            return reason

        def drop(rec, reason, stage, detail=""):
            ctx.reject(rec, count(reason), stage, detail)

        batch = build_generate_prompts(seed_pool, machine_pool, cfg, gen_t, gen_s, rng, round_no, alpaca)
        comps = teacher.complete([req for req, _ in batch])
        cands = []  # (candidate record, pool slot)
        for (req, tasks), comp in zip(batch, comps):
            lineage = ctx.lineage(METHOD, gen_t, parents=[t.id for t in tasks], step=round_no, sampling=req.sampling)
            if not comp.ok:
                _reject_answer(ctx, req, comp, lineage, count(_error_reason(comp)), "teacher")
                continue
            limit = cfg.alpaca_tasks_per_request if alpaca else cfg.max_new_per_prompt
            whole = {t[0]: t[1:] for t in P.parse_alpaca_tasks(comp.text, limit + 1)} if alpaca else {}
            items = list(whole) if alpaca else P.parse_instructions(comp.text, limit=limit + 1)
            st["parsed"] += len(items)
            meta = {"round": round_no, "gen_finish_reason": comp.finish_reason}
            if comp.finish_reason == "length" and items:  # the last item may be cut mid-sentence
                drop(Record.make(items.pop(), lineage=lineage, meta=meta), "truncated", "parse")
            if not items:
                _reject_answer(ctx, req, comp, lineage, count("no_instructions"), "parse")
            for item in items[:limit]:
                rec = Record.make(item, lineage=lineage, meta=dict(meta))
                verdict = instruction_reason(item, cfg.min_words, cfg.max_words)
                if verdict:
                    reason, detail = verdict if isinstance(verdict, tuple) else (verdict, "")
                    drop(rec, reason, "self_instruct:filter", detail)
                    continue
                score, j = index.query(item)
                if score >= cfg.novelty_threshold:  # Wang et al. 2022 §2.3: ROUGE-L < 0.7 with the pool
                    drop(rec, "not_novel", "self_instruct:novelty", pool_ids[j])
                    continue
                rec.meta.update(novelty=round(score, 4), most_similar=pool_ids[j] if j >= 0 else None)
                if alpaca:  # the task came whole: check its instance, keep it, no classification step
                    rec = rec.replace(input=whole[item][0], output=whole[item][1],
                                      meta=dict(rec.meta, alpaca_style=True, finish_reason=comp.finish_reason))
                    bad = instances_reason([whole[item]]) or (cfg.drop_copied_output and copied_output_reason([whole[item]]))
                    if bad:
                        drop(rec, bad, "self_instruct:filter")
                        continue
                    out.append(rec)
                    machine_pool.append(Task(item, rec.id, False, rec.input, rec.output))
                    st["kept"] += 1
                pool_ids.append(rec.id)
                index.add(item)
                if not alpaca:
                    cands.append((rec, len(pool_ids) - 1))
        st["candidates"] = len(cands)
        # §2.2 classification identification, then instances (output-first for classification).
        cls_reqs = [Request(messages=cls_t.render(examples=cls_ex, instruction=one_line(r.instruction)),
                            sampling=cls_s, key=f"cls-{round_no}-{k}") for k, (r, _) in enumerate(cands)]
        cls_comps = teacher.complete(cls_reqs) if cls_reqs else []
        pending = []
        for (rec, slot), req, comp in zip(cands, cls_reqs, cls_comps):
            if not comp.ok:
                drop(rec, _error_reason(comp), "teacher", comp.error or "")
                continue
            verdict = P.parse_is_classification(comp.text)
            rec.meta.update(is_classification=bool(verdict), classification_answer=comp.text.strip()[:40])
            st["classification"] += bool(verdict)
            pending.append((rec, slot))
        inst_reqs = []
        for k, (rec, _) in enumerate(pending):
            c = rec.meta["is_classification"]
            msgs = inst_t[c].render(examples=inst_ex[c], instruction=one_line(rec.instruction), no_input=cfg.no_input)
            inst_reqs.append(Request(messages=msgs, sampling=inst_s.replace(seed=derive_seed(base, round_no, 50_000 + k)),
                                     key=f"inst-{round_no}-{k}"))
        inst_comps = teacher.complete(inst_reqs) if inst_reqs else []
        for (rec, slot), req, comp in zip(pending, inst_reqs, inst_comps):
            c = rec.meta["is_classification"]
            if not comp.ok:
                drop(rec, _error_reason(comp), "teacher", comp.error or "")
                continue
            pairs = parse_instances(comp.text, c)
            if comp.finish_reason == "length" and len(pairs) > 1:
                pairs = pairs[:-1]  # the last instance was cut by max_tokens
            meta = dict(rec.meta, instance_template=inst_t[c].name, instance_template_sha=inst_t[c].sha,
                        finish_reason=comp.finish_reason, instances=len(pairs))
            if not pairs:
                drop(rec.replace(meta=dict(meta, answer=comp.text)), "no_instance", "parse")
                continue
            reason = instances_reason(pairs) or (copied_output_reason(pairs) if cfg.drop_copied_output else None)
            if reason:
                drop(rec.replace(meta=dict(meta, answer=comp.text)), reason, "self_instruct:filter")
                continue
            made = [Record.make(rec.instruction, inp, outp, lineage=rec.lineage, meta=meta)
                    for inp, outp in pairs[: cfg.max_instances]]
            out.extend(made)
            pool_ids[slot] = made[0].id
            machine_pool.append(Task(rec.instruction, made[0].id, False, made[0].input, made[0].output))
            st["kept"] += 1
        st["requests"] = len(batch) + len(cls_reqs) + len(inst_reqs)
    ctx.stats.update(kept_instructions=len(machine_pool), records=len(out), rounds_run=len(rounds),
                     dropped=_sum_dropped(rounds))
    return out


def _sum_dropped(rounds: list[dict]) -> dict:
    total: dict[str, int] = {}
    for st in rounds:
        for k, v in st["dropped"].items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))
