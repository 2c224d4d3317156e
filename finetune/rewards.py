"""The reward of online RL (`datagen train grpo`): one of the best-of-n scorers (filters/scorers.py) as a TRL
reward function: a verifier (programmatic reward), a reward model (`datagen train reward`, as InstructGPT's
step 3), or the teacher as judge (RLAIF: Bai et al. 2022, Constitutional AI; Lee et al. 2023, RLAIF).

    fn = reward_function(RewardArgs(reward="verifier", verifier="shorter"))
    fn(prompts=[...], completions=[[{"role": "assistant", "content": "Hi."}]], instruction=["Greet."], ...) -> [-1.0]
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.errors import DatagenError
from datagen.record import Record
from datagen.teacher import Sampling
from datagen.templates import TemplateLoader


# Bundled verifiers that `--reward` names directly: `--reward hedging` is `--reward verifier --verifier hedging`.
SHORTHANDS = ("hedging", "constraints", "constraints_all")


@dataclass
class RewardArgs:
    """What scores the student's sampled answers during `datagen train grpo`."""
    reward: str = field(default="verifier", metadata={
        "help": "verifier | reward_model | judge (the teacher grades) | hedging (Schulman's honesty reward on "
                "questions with a reference: filters/hedging.py) | constraints (share of the prompt's "
                "meta constraints met) | constraints_all (1 when all are met)"})
    verifier: str = field(default="", metadata={
        "help": "bundled verifier (json_parses, python_runs, matches_reference, shorter, hedging, constraints, constraints_all) or module:function"})
    reward_model: str = field(default="", metadata={
        "help": "a `datagen train reward` run folder or a sequence-classification model folder"})
    judge_teacher: str = field(default="embedded", metadata={"help": "judge backend: embedded | openai | vllm"})
    judge_model: str = field(default="", metadata={"help": "judge model (empty = the backend's default)"})
    judge_base_url: str = field(default="", metadata={"help": "judge's OpenAI-compatible base URL (openai)"})
    judge_max_tokens: int = field(default=16, metadata={"help": "max tokens of one judge grade"})
    prompts_from_pairs: bool = field(default=False, metadata={
        "help": "accept a preference version and use its prompts (its answers are not used)"})


def completion_text(completion) -> str:
    """TRL passes conversational completions as [{"role": "assistant", "content": ...}], plain ones as str."""
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion if isinstance(m, dict))
    return str(completion)


@dataclass
class JudgeContext:
    """What the judge scorer reads (the fields of a run's RunContext it uses): the judge teacher answering
    through the response cache under RUNS/.cache (generation's), greedy sampling and the bundled templates."""
    teacher: Any
    sampling: Sampling
    templates: TemplateLoader = field(default_factory=TemplateLoader)

    def close(self) -> None:
        if hasattr(self.teacher.inner, "close"):
            self.teacher.inner.close()
        self.teacher.cache.close()


def open_judge(args: RewardArgs, runs: str) -> JudgeContext:
    """The teacher that grades GRPO's samples, cached as a generation run's teacher is (same cache keys)."""
    from datagen.backends import TeacherConfig, make_teacher
    from datagen.cache import CachedTeacher, ResponseCache

    if args.judge_max_tokens < 1:
        raise DatagenError("--judge_max_tokens must be >= 1")
    backend = make_teacher(TeacherConfig(backend=args.judge_teacher, model=args.judge_model,
                                         base_url=args.judge_base_url))
    teacher = CachedTeacher(backend, ResponseCache(Path(runs) / ".cache" / "responses.sqlite"))
    return JudgeContext(teacher, Sampling(max_tokens=args.judge_max_tokens, temperature=0.0, seed=0))


def reward_function(args: RewardArgs, ctx=None):
    """A TRL reward function (prompts, completions, **columns) -> one float (or None: not scored) per completion.
    The columns `instruction`, `input`, `reference` of the prompt rows rebuild each prompt's record, so a
    verifier such as matches_reference sees the version's answer as the reference."""
    from filters.scorers import make_scorer

    if args.judge_max_tokens < 1:
        raise DatagenError("--judge_max_tokens must be >= 1")
    kind, verifier = (("verifier", args.reward) if args.reward in SHORTHANDS else (args.reward, args.verifier))
    scorer = make_scorer(kind, verifier=verifier, reward_model=args.reward_model, ctx=ctx,
                         judge_max_tokens=args.judge_max_tokens)

    def reward(prompts, completions, instruction=None, input=None, reference=None, meta=None, **_):
        n = len(completions)
        records = [Record.make(instruction[i], input[i], reference[i] or None,
                               meta=json.loads(meta[i]) if meta and meta[i] else {}) for i in range(n)]
        scores = scorer.score(records, [[completion_text(c)] for c in completions])
        return [None if isinstance(row[0], tuple) else float(row[0]) for row in scores]

    reward.__name__ = args.reward  # TRL logs rewards/<name>/mean
    reward.scorer_name = scorer.name
    return reward
