"""The reward of online RL (`datagen train grpo`): one of the best-of-n scorers (filters/scorers.py) as a TRL
reward function: a verifier (programmatic reward), a reward model (`datagen train reward`, as InstructGPT's
step 3), or the teacher as judge (RLAIF: Bai et al. 2022, Constitutional AI; Lee et al. 2023, RLAIF).

    fn = reward_function(RewardArgs(reward="verifier", verifier="shorter"))
    fn(prompts=[...], completions=[[{"role": "assistant", "content": "Hi."}]], instruction=["Greet."], ...) -> [-1.0]
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.record import Record


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


def judge_session(args: RewardArgs, runs: str):
    """A datagen session whose teacher is the judge (response cache under RUNS/.cache, as generation's)."""
    from datagen.backends import TeacherConfig
    from datagen.refilter import FilterConfig
    from datagen.session import SamplingConfig, open_session

    cfg = FilterConfig(teacher=TeacherConfig(backend=args.judge_teacher, model=args.judge_model,
                                             base_url=args.judge_base_url),
                       sampling=SamplingConfig(max_tokens=args.judge_max_tokens, temperature=0.0), seed=0)
    return open_session(cfg, runs, run_id="grpo-judge", purpose="the judge reward")


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
