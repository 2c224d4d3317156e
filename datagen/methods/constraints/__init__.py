"""Constraints: instructions with verifiable constraints, answered n times and kept by verification.

Each instruction (seeds, `--from` a version: Self-Instruct, Magpie, personas...) gets one to three compatible
constraints from the library's training kinds (datagen/constraints: TRAIN_KINDS; the held-out kinds stay
unseen for eval), worded with the training phrasings, seeded per instruction. The teacher answers it with
`n` candidates; each is guarded (empty, truncated, next to wordless, repetitive or echoed: dropped) and
verified; `keep` picks best (rejection sampling: RFT, Yuan et al. 2023; AutoIF, Dong et al. 2024, with
its pass-rate threshold), pairs (a passing against a failing answer, for `datagen train dpo`) or all.
The constraints stay in every record's meta (`constraints`, `base_instruction`), so the `constraints`
filter, `train grpo --reward constraints` and eval check them again. The teacher's pass@1 and pass@n,
overall and per kind, go to the manifest's method_stats.

On-policy rounds (AutoIF's largest gain came from online DPO): the student answers instead of a teacher,
`--teacher student --model adapters/NAME/sft-0001 --method_cfg.keep pairs`, and the pairs train DPO.

    run([Record("Describe a lake.")], teacher, Config(n=4), ctx)
    -> [Record("Describe a lake.\\n\\nWrite less than 60 words.", output="...", meta={"constraints": [...], ...})]
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.methods.answer import candidates, make_pair
from datagen.methods.constraints.select import choose, judge, repaired
from datagen.methods.constraints.tally import Tally
from datagen.record import Record
from datagen.teacher import Request

METHOD = "constraints"
PER_SEED = True  # a prompt's constraints are seeded by the run's seed and the seed record's id alone
KEEP = ("best", "pairs", "all")


@dataclass
class Config:
    template: str = field(default="constrained/answer", metadata={"help": "prompt template of the answer request"})
    instruction_template: str = field(default="constrained/instruction", metadata={
        "help": "how an instruction and its constraint wordings make the new instruction"})
    limit: int | None = field(default=None, metadata={"min": 1, "help": "use only the first N instructions"})
    variants: int = field(default=1, metadata={"min": 1, "max": 64, "help": (
        "prompts made from each instruction, each with its own sampled constraints (a small seed set "
        "still gives many prompts)")})
    n: int = field(default=4, metadata={"min": 1, "max": 64, "help": "candidates sampled per instruction"})
    min_constraints: int = field(default=1, metadata={"min": 1, "max": 3, "help": "fewest constraints a prompt gets"})
    max_constraints: int = field(default=3, metadata={"min": 1, "max": 3, "help": "most constraints a prompt gets"})
    kinds: str = field(default="", metadata={
        "help": "comma-separated constraint kinds to draw from (training kinds only); empty = all of TRAIN_KINDS"})
    keep: str = field(default="best", metadata={
        "help": "best (a passing candidate) | pairs (passing vs failing, for DPO) | all (every verified one)"})
    min_pass_rate: float = field(default=0.0, metadata={
        "min": 0.0, "max": 1.0, "help": "best/pairs: keep a prompt only when at least this share of its n "
                                        "candidates pass (AutoIF filters by pass rate); 0 = one passing is enough"})
    min_words: int = field(default=3, metadata={
        "min": 0, "help": "a candidate with fewer words is dropped (too_short) before verification"})
    pair_unfinished: bool = field(default=False, metadata={"help": (
        "keep pairs: a candidate the guard dropped as cut off by max_tokens or looping is the rejected side "
        "when there is one (marked meta.rejected.guard), so DPO learns to end an answer; otherwise the failing "
        "one that met fewest constraints")})
    repair: bool = field(default=False, metadata={"help": (
        "when no candidate passes, rewrite the best failing one by rule for the format kinds "
        "(datagen/constraints/repair.py: case, commas, layout, prefixes, suffixes, quotes, JSON, a cut at a "
        "sentence end) and keep it if it then passes; marked meta.repaired")})


def kind_pool(cfg: Config) -> tuple[str, ...]:
    from datagen.constraints import HELDOUT_KINDS, TRAIN_KINDS

    if not cfg.kinds.strip():
        return tuple(TRAIN_KINDS)
    kinds = tuple(k.strip() for k in cfg.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in TRAIN_KINDS]
    if bad:
        why = "held out for eval" if all(k in HELDOUT_KINDS for k in bad) else "not a training kind"
        raise DatagenError(f"method_cfg.kinds: {', '.join(bad)}: {why} (training kinds: {', '.join(sorted(TRAIN_KINDS))})")
    return kinds


def check_config(cfg: Config) -> tuple[str, ...]:
    if cfg.keep not in KEEP:
        raise DatagenError(f"method_cfg.keep must be one of {', '.join(KEEP)}, got {cfg.keep!r}")
    if cfg.min_constraints > cfg.max_constraints:
        raise DatagenError(f"method_cfg.min_constraints {cfg.min_constraints} > max_constraints {cfg.max_constraints}")
    if cfg.keep == "pairs" and cfg.n < 2:
        raise DatagenError("method_cfg.keep pairs needs method_cfg.n >= 2 (a passing and a failing answer)")
    kinds = kind_pool(cfg)
    if len(kinds) < cfg.max_constraints:
        raise DatagenError(f"method_cfg.kinds names {len(kinds)} kind(s); max_constraints is {cfg.max_constraints}")
    return kinds


def constrain(rec: Record, rng: random.Random, kinds, cfg: Config, template) -> Record:
    """The instruction with 1-3 sampled constraints worded in; they and the original go into meta."""
    from datagen.constraints import phrase, sample

    cs = sample(rng, rng.randint(cfg.min_constraints, cfg.max_constraints), kinds)
    wordings = [phrase(c, rng, "train") for c in cs]
    text = template.render(instruction=rec.instruction.strip(), constraints=wordings)[-1]["content"]
    return Record.make(text, rec.input, None, lineage=rec.lineage,
                       meta={"constraints": [c.to_dict() for c in cs], "base_instruction": rec.instruction})


def build_prompts(pool: list[Record], template, sampling) -> list[Request]:
    return [Request(messages=template.render(instruction=r.instruction, input=r.input), sampling=sampling, key=r.id)
            for r in pool]


def rng_for(seed: int | None, rec: Record, variant: int = 0) -> random.Random:
    """One generator per instruction and variant, from the run's seed and its id: the same seed gives the same
    constraints wherever (and in whatever block) the instruction is answered. Variant 0 is the single prompt
    of `variants: 1`."""
    return random.Random(f"{seed or 0}:{rec.id}:constraints" + (f":{variant}" if variant else ""))


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    kinds = check_config(cfg)
    seeds = seeds[: cfg.limit] if cfg.limit else seeds
    inst_tmpl, template = ctx.templates.load(cfg.instruction_template), ctx.templates.load(cfg.template)
    pool, prompts, seen = [], [], set()
    for r in seeds:
        for v in range(cfg.variants):
            p = constrain(r, rng_for(ctx.sampling.seed, r, v), kinds, cfg, inst_tmpl)
            if p.instruction not in seen:  # two variants that drew the same constraints are one prompt
                seen.add(p.instruction)
                pool.append(r)
                prompts.append(p)
    sampling = ctx.sampling.replace(n=cfg.n)
    ctx.progress.set_total(len(prompts), desc="constraints")
    completions = teacher.complete(build_prompts(prompts, template, sampling))
    tally, out = Tally(), []
    for seed, prompt, comp in zip(pool, prompts, completions):
        lineage = ctx.lineage(METHOD, template, parents=[seed.id], sampling=sampling)
        prompt = prompt.replace(lineage=lineage)
        if not comp.ok:
            ctx.reject(prompt, "teacher_error", "teacher", comp.error or "")
            continue
        cands = [c.replace(meta={**prompt.meta, **c.meta})
                 for c in candidates(prompt, comp, cfg.n, lineage, ctx)]  # an empty one: rejected there
        asked = len(comp.choices[: cfg.n])
        judged = judge(prompt, cands, cfg.min_words, asked)
        tally.add(judged, asked)
        if cfg.repair and not any(j.passed for j in judged):
            fixed = repaired(prompt, judged, cfg.min_words, rng_for(ctx.sampling.seed, prompt))
            tally.repaired += len(fixed)
            judged = fixed + judged
        out.extend(keep(prompt, judged, cfg, ctx))
    ctx.stats["constraints"] = tally.summary()
    ctx.stats["answered"] = len(out)
    return out


def keep(prompt: Record, judged, cfg: Config, ctx) -> list[Record]:
    plan = choose(judged, cfg.keep, cfg.min_pass_rate, cfg.pair_unfinished)
    for rec, reason, detail in plan.rejections:
        ctx.reject(rec, reason, "verify", detail)
    if plan.pair is None:
        return plan.kept
    chosen, rejected = plan.pair
    note = {k: v for k, v in chosen.meta.items() if k in ("constraints", "base_instruction", "candidate_scores",
                                                           "pass_rate", "scorer")}
    scored = sum(j.guard is None for j in judged) + ("guard" in rejected.meta)  # a pair_unfinished side counts
    pair = make_pair(prompt, chosen, rejected, scored, note, ctx)
    return [pair] if pair is not None else []
