"""Answer: the teacher writes an output for every instruction in the pool (seeds or a version).
The simplest distillation pass, and the way to re-answer a dataset with a stronger teacher.

Best-of-n: with `n` > 1 the teacher samples n candidates per instruction (the requests' sampling.n) and a
scorer (filters/scorers.py: a verifier function, a reward model, or the teacher as judge) scores each;
`keep: best` keeps the best (rejection sampling), `keep: pairs` writes best against worst as a preference
pair (UltraFeedback, Cui et al. 2023), `keep: all` keeps every candidate unscored. Every candidate's score
is in meta; the losers go to rejected.parquet as `not_best` with their scores.

    run([Record("Name a color.")], teacher, Config(), ctx) -> [Record("Name a color.", output="Blue.")]
    run(seeds, teacher, Config(n=4, scorer="verifier", verifier="shorter"), ctx) -> the shortest of 4 per seed
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.record import Record, normalize
from datagen.teacher import Completion, Request

METHOD = "answer"
PER_SEED = True  # a seed's records depend on it alone: Ray workers can answer blocks of seeds apart
KEEP = ("best", "pairs", "all")


@dataclass
class Config:
    # The best-of-n options are empty by default, and empty options do not count in the run id
    # (datagen.run.UNSET_NOT_IN_RUN_ID): an answer run without them keeps the records it made before.
    template: str = field(default="answer/answer", metadata={"help": "prompt template for the answer"})
    limit: int | None = field(default=None, metadata={"min": 1, "help": "answer only the first N instructions"})
    n: int | None = field(default=None, metadata={"min": 1, "max": 64, "help": "candidates sampled per "
                                                  "instruction (best-of-n; the requests' sampling.n); empty = 1"})
    scorer: str = field(default="", metadata={
        "help": "scores the candidates: verifier | reward_model | judge (the teacher grades each); empty = none"})
    verifier: str = field(default="", metadata={
        "help": "scorer verifier: bundled (json_parses, python_runs, matches_reference, shorter, hedging, constraints, constraints_all) or module:function"})
    reward_model: str = field(default="", metadata={
        "help": "scorer reward_model: a `datagen train reward` run or a sequence-classification model folder"})
    keep: str = field(default="", metadata={
        "help": "best (rejection sampling) | pairs (best vs worst as chosen/rejected) | all (every candidate); "
                "empty = best"})
    judge_max_tokens: int | None = field(default=None, metadata={
        "min": 1, "help": "scorer judge: max tokens of a grade; empty = 16"})

    @property
    def num(self) -> int:
        return self.n or 1

    @property
    def keeping(self) -> str:
        return self.keep or "best"


def check_config(cfg: Config) -> None:
    if cfg.keeping not in KEEP:
        raise DatagenError(f"method_cfg.keep must be one of {', '.join(KEEP)}, got {cfg.keep!r}")
    if cfg.scorer in ("", "none") and cfg.keeping != "all" and cfg.num > 1:
        raise DatagenError("method_cfg.n > 1 needs a scorer (method_cfg.scorer verifier | reward_model | judge) "
                           "or method_cfg.keep all")
    if cfg.keeping == "pairs" and cfg.num < 2:
        raise DatagenError("method_cfg.keep pairs needs method_cfg.n >= 2 (best and worst of n)")
    if cfg.scorer == "verifier":  # a bad name fails here, before a worker or a request starts
        from filters.verifiers import load_verifier

        load_verifier(cfg.verifier)


def build_prompts(pool: list[Record], template, sampling) -> list[Request]:
    return [Request(messages=template.render(instruction=r.instruction, input=r.input), sampling=sampling,
                    key=r.id) for r in pool]


def parse(text: str) -> str | None:
    """Strip the answer; an empty answer is no answer."""
    text = (text or "").strip()
    return text or None


def candidates(rec: Record, comp: Completion, n: int, lineage, ctx) -> list[Record]:
    """One record per non-empty choice of the first n (a server may send more); an empty one is rejected
    (`empty_output`)."""
    out = []
    for k, choice in enumerate(comp.choices[:n]):
        answer = parse(choice.text)
        meta = {"finish_reason": choice.finish_reason, **({"sample": k} if n > 1 else {})}
        cand = Record.make(rec.instruction, rec.input, answer or "", lineage=lineage, meta=meta)
        if answer is None:
            ctx.reject(cand, "empty_output", "parse")
        else:
            out.append(cand)
    return out


def run(seeds: list[Record], teacher, cfg: Config, ctx) -> list[Record]:
    check_config(cfg)
    scorer = None
    if cfg.scorer not in ("", "none"):
        from filters.scorers import make_scorer  # before any teacher call: a bad verifier/model fails now

        scorer = make_scorer(cfg.scorer, verifier=cfg.verifier, reward_model=cfg.reward_model, ctx=ctx,
                             judge_max_tokens=cfg.judge_max_tokens or 16)
    pool = seeds[: cfg.limit] if cfg.limit else seeds
    template = ctx.templates.load(cfg.template)
    sampling = ctx.sampling if cfg.num == 1 else ctx.sampling.replace(n=cfg.num)
    ctx.progress.set_total(len(pool), desc="answer")
    completions: list[Completion] = teacher.complete(build_prompts(pool, template, sampling))
    groups = []
    for rec, comp in zip(pool, completions):
        lineage = ctx.lineage(METHOD, template, parents=[rec.id], sampling=sampling)
        if not comp.ok:
            ctx.reject(rec.replace(lineage=lineage), "teacher_error", "teacher", comp.error or "")
            continue
        cands = candidates(rec, comp, cfg.num, lineage, ctx)
        if cands:
            groups.append((rec, cands))
    if scorer is None:
        out = [c for _, cands in groups for c in cands]
    else:
        out = best_of_n(groups, scorer, cfg.keeping, ctx)
    ctx.stats["answered"] = len(out)
    return out


def best_of_n(groups: list[tuple[Record, list[Record]]], scorer, keep: str, ctx) -> list[Record]:
    """Score every candidate, keep the best (or a best/worst pair) per prompt; the rest are rejections."""
    from filters.scorers import pick

    scores = scorer.score([p for p, _ in groups], [[c.output for c in cands] for _, cands in groups])
    out = []
    for (prompt, cands), row in zip(groups, scores):
        listed = [None if isinstance(s, tuple) else s for s in row]
        note = {"scorer": scorer.name, "candidate_scores": listed}
        scored = []
        for c, s in zip(cands, row):
            if isinstance(s, tuple):
                ctx.reject(c.replace(meta={**c.meta, **note}), s[0], "best_of_n", s[1])
            else:
                scored.append(c.replace(meta={**c.meta, **note, "score": s}))
        best, worst = pick([c.meta["score"] for c in scored])
        if best is None:
            continue
        top = scored[best].meta["score"]
        for i, c in enumerate(scored):
            if i != best:
                ctx.reject(c, "not_best", "best_of_n", f"score {c.meta['score']:.4g}, best {top:.4g}")
        if keep == "best":
            out.append(scored[best])
        else:
            pair = make_pair(prompt, scored[best], scored[worst], len(scored), note, ctx)
            if pair is not None:
                out.append(pair)
    ctx.stats["scorer"] = scorer.name
    return out


def side(r: Record) -> dict:
    """One side of a best-of-n pair in its meta: side(rec) -> {"id": "3f1c...", "score": -4.0, "sample": 2}"""
    return {"id": r.id, "score": r.meta["score"], "sample": r.meta.get("sample"),
            **({"guard": r.meta["guard"]} if "guard" in r.meta else {})}


def make_pair(prompt: Record, chosen: Record, rejected: Record, n_scored: int, note: dict, ctx):
    """Best against worst as Record(output=chosen, rejected=rejected), or None with the reason recorded."""
    lineage = dataclasses.replace(chosen.lineage, parents=(prompt.id, chosen.id, rejected.id),
                                  operation="pairs:best_of_n")
    pair = Record.make(prompt.instruction, prompt.input, chosen.output, rejected=rejected.output, lineage=lineage,
                       meta={**note, "pair_source": "best_of_n", "chosen": side(chosen), "rejected": side(rejected)})
    if n_scored < 2:
        ctx.reject(pair, "too_few_scored", "best_of_n", f"{n_scored} candidate(s) scored")
    elif chosen.meta["score"] == rejected.meta["score"]:
        ctx.reject(pair, "tied_scores", "best_of_n", f"all scored {chosen.meta['score']:.4g}")
    elif normalize(chosen.output).lower() == normalize(rejected.output).lower():
        ctx.reject(pair, "identical_pair", "best_of_n")
    else:
        return pair
    return None
