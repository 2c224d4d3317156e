"""SELF-ALIGN (Sun et al. 2023, "Principle-Driven Self-Alignment of Language Models from Scratch with
Minimal Human Supervision", the Dromedary recipe): topic-guided red-teaming writes the prompts (sec. 3.1),
the teacher answers each with principles and worked exemplars in context and an internal thought
(sec. 3.2), and the training records keep only prompt and answer (principle engraving, sec. 3.3).
Optional verbose cloning (sec. 3.4) and preference pairs (pairs.py).

    run(seeds, teacher, Config(num_prompts=10), ctx) -> [Record("Is it safe to ...?", output="...")]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.methods.self_align import pairs
from datagen.methods.self_align.answers import METHOD, Assets, load_assets, principle_answers
from datagen.methods.self_align.principles import leak_spans, leaked
from datagen.methods.self_align.red_team import red_team
from datagen.record import Record

__all__ = ["Config", "METHOD", "run", "engrave"]
PAIR_SOURCES = ("none", "principles", "judge", "revise")


@dataclass
class Config:
    principles: str = field(default="self_align/principles.md", metadata={
        "help": "principles file: a path, or a name under prompts/ (Markdown `1. **Name**: text` or YAML)"})
    exemplars: str = field(default="self_align/exemplars.jsonl", metadata={
        "help": "worked exemplars, JSONL {query, thought, answer} per line"})
    topics: str = field(default="self_align/topics.yaml", metadata={
        "help": "question types, topics and generation rules for red-teaming"})
    num_prompts: int = field(default=10, metadata={"min": 0, 
        "help": "prompts to red-team (or, with generate_prompts false, to take from the pool; 0 = all)"})
    generate_prompts: bool = field(default=True, metadata={
        "help": "true: write new prompts by topic-guided red-teaming; false: answer the seed/version instructions"})
    num_examples: int = field(default=2, metadata={"min": 0, "help": "seed tasks shown as in-context examples per red-team prompt"})
    question_max_tokens: int = field(default=64, metadata={"min": 1, "help": "max tokens of a red-team reply (one question)"})
    max_rounds: int = field(default=3, metadata={"min": 1, "help": "red-team rounds at most, to replace rejected prompts"})
    novelty_threshold: float = field(default=0.7, metadata={"min": 0.0, "max": 1.0, 
        "help": "drop a prompt with ROUGE-L >= this against seeds or earlier prompts (Self-Instruct sec. 2.3)"})
    verbose: bool = field(default=False, metadata={
        "help": "verbose cloning: a second pass asks for a detailed answer, which becomes the output"})
    pairs: str = field(default="none", metadata={
        "help": "none (SFT records) | principles | judge | revise (preference pairs)"})
    num_samples: int = field(default=3, metadata={"min": 1, "help": "answers sampled per prompt for pairs: judge"})
    judge_max_tokens: int = field(default=16, metadata={"min": 1, "help": "max tokens of a judge reply (pairs: judge)"})
    judge_samples: int = field(default=3, metadata={"min": 1, 
        "help": "judge replies per answer; the score is their mean (a small judge at one sample mostly ties)"})
    judge_temperature: float = field(default=0.7, metadata={"min": 0.0, "max": 5.0, "help": "judge sampling temperature (pairs: judge)"})

    def __post_init__(self) -> None:
        check_config(self)  # bad options fail before the teacher is started


def check_config(cfg: Config) -> None:
    if cfg.pairs not in PAIR_SOURCES:
        raise DatagenError(f"method_cfg.pairs must be one of {', '.join(PAIR_SOURCES)}, got {cfg.pairs!r}")
    if cfg.verbose and cfg.pairs not in ("none", "principles"):
        raise DatagenError("method_cfg.verbose works with pairs none or principles only")
    if cfg.pairs == "judge" and (cfg.num_samples < 2 or cfg.judge_samples < 1):
        raise DatagenError("method_cfg.num_samples must be >= 2 and judge_samples >= 1 for pairs: judge")
    if cfg.num_prompts < 0 or cfg.num_examples < 0 or cfg.max_rounds < 1:
        raise DatagenError("method_cfg.num_prompts/num_examples must be >= 0 and max_rounds >= 1")


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    assets = load_assets(cfg, ctx)
    if cfg.generate_prompts:
        ctx.progress.set_total(cfg.num_prompts, desc="self_align: red-team")
        prompts = red_team(seeds, teacher, cfg, ctx, assets)
    else:
        prompts = seeds[: cfg.num_prompts] if cfg.num_prompts else list(seeds)
    ctx.progress.set_total(len(prompts), desc=f"self_align: {cfg.pairs if cfg.pairs != 'none' else 'answers'}")
    if cfg.pairs == "none":
        records = list(principle_answers(prompts, teacher, ctx, assets, cfg.verbose).values())
    else:
        records = pairs.make_pairs(cfg.pairs, prompts, teacher, cfg, ctx, assets)
    return engrave(records, assets, ctx)


_CITES = re.compile(r"\b(?:by\s+)?principles?\s+#?\d+", re.I)


def engrave(records: list[Record], assets: Assets, ctx) -> list[Record]:
    """Principle engraving (sec. 3.3): training fields must not repeat a principle ("principle_leak"),
    and answers must not cite one by number, a thought spilt into the answer ("principle_reference").
    Principles, exemplars and thoughts never enter them by construction."""
    spans = leak_spans(assets.principles)
    out = []
    for r in records:
        fields = [r.instruction, r.input, r.output or "", r.rejected or ""]
        fields += [m["content"] for m in r.messages or ()]
        if any(leaked(f, spans) for f in fields):
            ctx.reject(r, "principle_leak", "engrave")
        elif _CITES.search(r.output or "") or _CITES.search(r.rejected or ""):
            ctx.reject(r, "principle_reference", "engrave")
        else:
            out.append(r)
    ctx.stats["records"] = len(out)
    return out
