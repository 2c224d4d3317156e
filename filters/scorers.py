"""Scorers for best-of-n: each gives one score per candidate answer, higher is better, or a
(reason, detail) pair for an answer it could not score. Three kinds:

- verifier: a Python function (filters/verifiers.py: bundled name or `module:function`);
- reward_model: a `datagen train reward` run or any local Hugging Face sequence-classification folder;
- judge: the run's teacher grades each answer with the rubric of the `judge` filter (RLAIF).

    make_scorer("verifier", verifier="shorter").score([prompt], [["a b", "a"]]) -> [[-2.0, -1.0]]
"""
from __future__ import annotations

from dataclasses import dataclass

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.teacher import Request
from filters.verifiers import load_verifier, run_verifier

SCORERS = ("verifier", "reward_model", "judge")
Score = float | tuple[str, str]


@dataclass
class VerifierScorer:
    spec: str

    def __post_init__(self) -> None:
        self.fn = load_verifier(self.spec)
        self.name = f"verifier:{self.spec}"

    def score(self, prompts: list[Record], answers: list[list[str]]) -> list[list[Score]]:
        return [[run_verifier(self.fn, a, p) for a in cands] for p, cands in zip(prompts, answers)]


@dataclass
class RewardModelScorer:
    path: str

    def __post_init__(self) -> None:
        # filters/reward_model.py is the one reward-model loader (also used by `datagen train reward`); it
        # checks that the folder is a sequence classifier before anything runs.
        from filters.reward_model import load_reward_model

        self.model, self.tok = load_reward_model(self.path)
        self.name = f"reward_model:{self.path}"

    def score(self, prompts: list[Record], answers: list[list[str]]) -> list[list[Score]]:
        from filters.reward_model import reward_scores

        flat_prompts = [[{"role": "user", "content": p.prompt_text()}] for p, c in zip(prompts, answers) for _ in c]
        flat = reward_scores(self.model, self.tok, flat_prompts, [a for c in answers for a in c])
        out, i = [], 0
        for cands in answers:
            out.append(list(flat[i:i + len(cands)]))
            i += len(cands)
        return out


@dataclass
class JudgeScorer:
    ctx: object
    template: str = "filters/judge"
    scale: int = 10
    max_tokens: int = 16

    def __post_init__(self) -> None:
        if self.ctx is None or getattr(self.ctx, "teacher", None) is None:
            raise DatagenError("scorer judge needs a teacher: use it inside `datagen generate` (or pass --teacher "
                               "and sampling flags)")
        self.tmpl = self.ctx.templates.load(self.template)
        self.sampling = self.ctx.sampling.replace(max_tokens=self.max_tokens, n=1)
        self.name = f"judge:{self.tmpl.name}@{self.tmpl.sha[:12]}"

    def score(self, prompts: list[Record], answers: list[list[str]]) -> list[list[Score]]:
        from filters.judge import parse_score

        reqs = [Request(messages=self.tmpl.render(instruction=p.instruction, input=p.input, output=a,
                                                  scale=self.scale), sampling=self.sampling, key=f"bon:{p.id}:{k}")
                for p, cands in zip(prompts, answers) for k, a in enumerate(cands)]
        comps = iter(self.ctx.teacher.complete(reqs) if reqs else [])
        out = []
        for cands in answers:
            row: list[Score] = []
            for _ in cands:
                comp = next(comps)
                value = parse_score(comp.text, self.scale) if comp.ok else None
                if value is not None:
                    row.append(value)
                elif not comp.ok:
                    row.append(("judge_error", comp.error or ""))
                else:
                    row.append(("judge_unparsed", comp.text[:200]))
            out.append(row)
        return out


def make_scorer(kind: str, *, verifier: str = "", reward_model: str = "", ctx=None, judge_max_tokens: int = 16):
    """The scorer of `kind`, checked now (a missing verifier or model fails before any teacher call)."""
    if kind == "verifier":
        if not verifier:
            raise DatagenError("scorer verifier needs verifier: a bundled name or module:function")
        return VerifierScorer(verifier)
    if kind == "reward_model":
        if not reward_model:
            raise DatagenError("scorer reward_model needs reward_model: a `datagen train reward` run or a "
                               "sequence-classification model folder")
        return RewardModelScorer(reward_model)
    if kind == "judge":
        return JudgeScorer(ctx, max_tokens=judge_max_tokens)
    raise DatagenError(f"unknown scorer {kind!r}; choose one of: {', '.join(SCORERS)}")


def pick(scores: list[Score]) -> tuple[int | None, int | None]:
    """Indices of the best and the worst scored candidate (first of equals), or (None, None) if none scored.

    pick([2.0, ("verifier_error", "x"), 5.0, 1.0]) -> (2, 3)
    """
    valid = [(s, i) for i, s in enumerate(scores) if not isinstance(s, tuple)]
    if not valid:
        return None, None
    best = max(valid, key=lambda si: (si[0], -si[1]))[1]
    worst = min(valid, key=lambda si: (si[0], si[1]))[1]
    return best, worst
