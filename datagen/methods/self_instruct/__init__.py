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
from datagen.personas import load_personas, make_sampler
from datagen.methods.self_instruct.prompts import Task, classification_examples, instance_examples
from datagen.methods.self_instruct.rounds import METHOD, Pool, Round, Setup
from datagen.record import Record

__all__ = ["Config", "METHOD", "run"]

PERSONA_SUFFIX = "_persona"  # with personas, the generation template <name> becomes <name>_persona


@dataclass
class Config:
    num_instructions: int = field(default=60, metadata={"min": 1, "help": "stop once this many new instructions have instances"})
    max_rounds: int = field(default=20, metadata={"min": 1, "help": "stop after this many rounds in any case"})
    prompts_per_round: int = field(default=8, metadata={"min": 1, "help": "generation prompts per round (B)"})
    num_prompt_instructions: int = field(default=8, metadata={"min": 1, 
        "help": "in-context tasks per prompt (Wang et al. 2022 §2.2: 8)"})
    num_machine_instructions: int = field(default=2, metadata={"min": 0, 
        "help": "how many of them come from the machine-generated pool (paper: 2 of 8)"})
    max_new_per_prompt: int = field(default=8, metadata={"min": 1, "help": "keep at most this many instructions per answer"})
    novelty_threshold: float = field(default=0.7, metadata={"min": 0.0, "max": 1.0, 
        "help": "drop an instruction whose ROUGE-L with any pool instruction is >= this (paper: 0.7)"})
    min_words: int = field(default=3, metadata={"min": 0, "help": "instruction_too_short below this many words (paper: 3)"})
    max_words: int = field(default=150, metadata={"min": 1, "help": "instruction_too_long above this many words (paper: 150)"})
    classification_examples: int = field(default=8, metadata={"min": 0, "help": "few-shot yes/no examples (from the seeds)"})
    instance_examples: int = field(default=4, metadata={"min": 0, "help": "example instances shown per instance prompt"})
    max_instances: int = field(default=1, metadata={"min": 1, "help": "records kept per instruction (one per instance)"})
    drop_copied_output: bool = field(default=True, metadata={
        "help": "drop instances whose output repeats the input (not in the paper; small teachers do it a lot)"})
    no_input: str = field(default="<noinput>", metadata={"help": "what instance prompts write for 'no input'"})
    gen_max_tokens: int | None = field(default=None, metadata={"min": 1, "help": "max tokens of an instruction list (default: sampling.max_tokens)"})
    classify_max_tokens: int = field(default=3, metadata={"min": 1, "help": "max tokens of the yes/no answer"})
    instance_max_tokens: int | None = field(default=None, metadata={"min": 1, "help": "max tokens of an instance (default: sampling.max_tokens)"})
    instance_temperature: float | None = field(default=None, metadata={"min": 0.0, "max": 5.0, "help": "instance temperature (default: sampling.temperature)"})
    gen_stop: list[str] = field(default_factory=list, metadata={"help": "stop strings for instruction lists (completion teachers: [\"\\n\\n\"])"})
    instance_stop: list[str] = field(default_factory=lambda: ["Task:"], metadata={"help": "stop strings for instances"})
    overlap_rounds: bool = field(default=True, metadata={
        "help": "write round r's instances while round r+1's instructions are generated (one call to the teacher, "
                "so a batching teacher decodes both together); round r+1's prompts then show machine tasks of "
                "rounds up to r-1. false: each step waits for the one before (the paper's order; alpaca_style always)"})
    alpaca_style: bool = field(default=False, metadata={
        "help": "Alpaca's simplification: instruction, input and output in one request, no classification step"})
    alpaca_tasks_per_request: int = field(default=20, metadata={"min": 1, "help": "tasks asked for per request in alpaca_style (Alpaca: 20)"})
    alpaca_template: str = field(default="self_instruct/alpaca_generate", metadata={"help": "alpaca_style prompt"})
    template: str = field(default="self_instruct/generate", metadata={"help": "instruction generation prompt"})
    classify_template: str = field(default="self_instruct/is_classification", metadata={"help": "classification prompt"})
    input_first_template: str = field(default="self_instruct/instance_input_first", metadata={"help": "open-task instances"})
    output_first_template: str = field(default="self_instruct/instance_output_first", metadata={"help": "classification instances"})
    personas: str = field(default="", metadata={
        "help": "persona JSONL ({id, persona} per line) or 'default' (the bundled 240): each generation prompt "
                "is written for one persona drawn with the run's seed, with the template's <name>_persona twin "
                "(e.g. self_instruct/generate_persona); empty = no personas"})

    def __post_init__(self) -> None:
        if not 0 <= self.num_machine_instructions <= self.num_prompt_instructions or self.num_prompt_instructions < 1:
            raise DatagenError("method_cfg: need 1 <= num_prompt_instructions and 0 <= num_machine_instructions <= it")
        if min(self.num_instructions, self.max_rounds, self.prompts_per_round, self.max_new_per_prompt) < 1:
            raise DatagenError("method_cfg: num_instructions, max_rounds, prompts_per_round, max_new_per_prompt must be >= 1")
        if not 0 < self.novelty_threshold <= 1:
            raise DatagenError(f"method_cfg.novelty_threshold must be in (0, 1], got {self.novelty_threshold}")
        if self.personas:  # a bad persona file fails with the config, before a teacher is loaded
            load_personas(self.personas)



def prepare(seeds: list[Record], teacher, cfg: Config, ctx) -> Setup:
    """Templates, per-step samplings and the few-shot examples, fixed for the run."""
    t = ctx.templates
    gen_s = ctx.sampling.replace(max_tokens=cfg.gen_max_tokens or ctx.sampling.max_tokens, stop=tuple(cfg.gen_stop))
    # Classification identification is a yes/no decision: greedy and one line.
    cls_s = ctx.sampling.replace(max_tokens=cfg.classify_max_tokens, temperature=0.0, stop=("\n",))
    inst_s = ctx.sampling.replace(max_tokens=cfg.instance_max_tokens or ctx.sampling.max_tokens,
                                  temperature=ctx.sampling.temperature if cfg.instance_temperature is None
                                  else cfg.instance_temperature, stop=tuple(cfg.instance_stop))
    gen_name = cfg.alpaca_template if cfg.alpaca_style else cfg.template
    personas = make_sampler(cfg.personas, ctx.sampling.seed)
    gen_t = t.load(gen_name + PERSONA_SUFFIX if personas else gen_name)
    cls_t = t.load(cfg.classify_template)
    inst_t = {False: t.load(cfg.input_first_template), True: t.load(cfg.output_first_template)}
    # Few-shot examples are fixed for the run: the prompts then share a prefix (cheap for llama.cpp).
    cls_ex = classification_examples(seeds, cfg.classification_examples, ctx.rng)
    inst_ex = {c: instance_examples(seeds, cfg.instance_examples, c, ctx.rng) for c in (False, True)}
    return Setup(cfg, ctx, teacher, gen_t, cls_t, inst_t, gen_s, cls_s, inst_s, cls_ex, inst_ex, personas)


def start_pool(seeds: list[Record], threshold: float) -> Pool:
    """Novelty is checked against everything in the pool, seeds included."""
    from filters.novelty import NoveltyIndex

    pool = Pool([Task(s.instruction, s.id, True, s.input, s.output or "") for s in seeds],
                NoveltyIndex(threshold), [])
    for s in seeds:
        pool.index.add(s.instruction)
        pool.pool_ids.append(s.id)
    return pool


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    """Rounds until num_instructions tasks have instances, max_rounds is spent or the budget stops."""
    setup = prepare(seeds, teacher, cfg, ctx)
    pool = start_pool(seeds, cfg.novelty_threshold)
    rounds: list[dict] = []
    ctx.stats.update(rounds=rounds)
    if cfg.overlap_rounds and not cfg.alpaca_style:
        overlapped(setup, pool, rounds)
    else:
        for round_no in range(1, cfg.max_rounds + 1):
            if len(pool.machine_pool) >= cfg.num_instructions or ctx.stopped:
                break
            rounds.append(Round(setup, pool, round_no).run())
    ctx.stats.update(kept_instructions=len(pool.machine_pool), records=len(pool.out), rounds_run=len(rounds),
                     dropped=_sum_dropped(rounds))
    if setup.personas is not None:
        ctx.stats["personas"] = setup.personas.stats()
    return pool.out


def overlapped(setup: Setup, pool: Pool, rounds: list[dict]) -> None:
    """Round r's instances and round r+1's generation prompts go to the teacher in one call, whenever round
    r+1 is sure to be needed (round r cannot reach num_instructions even if every pending task succeeds).
    Answers are taken in a fixed order (r's instances, then r+1's instructions), so a seed gives one version
    whatever order the answers arrive in; r+1's prompts sample the machine pool as round r-1 left it."""
    cfg, ctx, teacher = setup.cfg, setup.ctx, setup.teacher
    ahead, answers = None, None  # the next round, its generation prompts already answered
    for round_no in range(1, cfg.max_rounds + 1):
        if ahead is None:
            if len(pool.machine_pool) >= cfg.num_instructions or ctx.stopped:
                break
            rnd = Round(setup, pool, round_no)
            answers = teacher.complete(rnd.generation_requests())
        else:
            rnd = ahead
        pending = rnd.classify(rnd.take_generation(answers))
        inst = rnd.instance_requests(pending)
        ahead, gen = None, []
        if (round_no < cfg.max_rounds and len(pool.machine_pool) + len(pending) < cfg.num_instructions
                and not ctx.stopped):
            ahead = Round(setup, pool, round_no + 1)
            gen = ahead.generation_requests()
            ctx.progress.set_total(len(gen) + len(inst), desc=f"self_instruct round {round_no}: instances, "
                                                              f"round {round_no + 1}: instructions")
        # the longer answers start first; under a budget round r's instances go first, so a budget spent
        # part way finishes round r rather than starting round r+1
        first_inst = budgeted(teacher)
        got = (teacher.complete(inst + gen if first_inst else gen + inst) if gen or inst else [])
        inst_got, answers = (got[:len(inst)], got[len(inst):]) if first_inst else (got[len(gen):], got[:len(gen)])
        rnd.take_instances(pending, inst_got)
        rounds.append(rnd.st)


def budgeted(teacher) -> bool:
    return getattr(getattr(teacher, "budget", None), "limited", False)


def _sum_dropped(rounds: list[dict]) -> dict:
    total: dict[str, int] = {}
    for st in rounds:
        for k, v in st["dropped"].items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))
