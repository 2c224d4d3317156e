"""A constraint (kind + typed arguments), checked strictly or loosely as IFEval scores (Zhou et al. 2023,
arXiv:2311.07911, sec. 2.2), and sampled in compatible sets of one to three.

    score([Constraint("no_commas")], "Sure, here:\\nno commas here") -> {"strict": [False], "loose": [True]}
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from datagen.constraints.args import validate_args
from datagen.constraints.phrasing import phrase_args, values
from datagen.constraints.registry import KINDS, TRAIN_KINDS, conflicting
from datagen.constraints.samplers import SAMPLERS
from datagen.errors import DatagenError


def validate(kind: object, args: object, where: str) -> dict:
    """The typed arguments of a constraint, defaults filled in; a DatagenError "<where>: ..." for an
    unknown kind or a missing, extra or out-of-range argument.

        validate("word_count", {"relation": "at_most", "n": 50}, "x") -> {"relation": "at_most", "n": 50}
    """
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise DatagenError(f"{where}: unknown constraint kind {kind!r} (valid kinds: {', '.join(sorted(KINDS))})")
    return validate_args(kind, spec.args, args, where)


@dataclass(frozen=True)
class Constraint:
    """kind and its typed arguments (validated on creation; lists become tuples)."""
    kind: str
    args: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", validate(self.kind, self.args, f"constraint {self.kind!r}"))

    def to_dict(self) -> dict:
        """{"kind": "word_count", "relation": "at_most", "n": 50}: the form of eval sets and meta["constraints"]."""
        return {"kind": self.kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in self.args.items()}}

    @classmethod
    def from_dict(cls, item: object, where: str = "constraint") -> "Constraint":
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            raise DatagenError(f"{where}: must be an object with a string 'kind', got {item!r}")
        args = {k: v for k, v in item.items() if k != "kind"}
        validate(item["kind"], args, where)
        return cls(item["kind"], args)

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted(self.args.items()))))


def compatible(chosen: list[Constraint], kind: str) -> bool:
    return not any(conflicting(c.kind, kind) for c in chosen)


def sample(rng: random.Random, k: int, kinds=TRAIN_KINDS, folder=None) -> list[Constraint]:
    """k (1..3) mutually compatible constraints of distinct kinds from `kinds`, arguments sampled.

        sample(random.Random(0), 2) -> [Constraint("no_commas", {}), Constraint("bullet_points", {"n": 3})]
    """
    if not 1 <= k <= 3:
        raise DatagenError(f"a prompt gets 1 to 3 constraints, got {k}")
    unknown = [x for x in kinds if x not in SAMPLERS]
    if unknown:
        raise DatagenError(f"cannot sample constraint kind(s) {', '.join(map(repr, unknown))}")
    pool = sorted(kinds)
    rng.shuffle(pool)
    chosen: list[Constraint] = []
    for kind in pool:
        if len(chosen) == k:
            break
        if compatible(chosen, kind):
            chosen.append(Constraint(kind, SAMPLERS[kind](rng, values(folder))))
    if len(chosen) < k:
        raise DatagenError(f"only {len(chosen)} compatible kinds among {len(pool)}; asked for {k}")
    return chosen


def phrase(c: Constraint, rng: random.Random, split: str = "train", folder=None) -> str:
    """One of several wordings of the constraint for that split ("train" or "eval")."""
    return phrase_args(c.kind, c.args, rng, split, folder)


def _run(c: Constraint, answer: str, prompt: str) -> bool:
    args = c.args
    if c.kind == "repeat_prompt" and not args["prompt_to_repeat"]:
        if not prompt.strip():
            return False
        args = {"prompt_to_repeat": prompt}
    return bool(KINDS[c.kind].checker(answer, **args))


def check(c: Constraint, answer: str, prompt: str = "") -> bool:
    """Whether the answer, as it is, satisfies the constraint (the strict test); a blank answer never does.

        check(Constraint("word_count", {"relation": "exactly", "n": 2}), "café naïve") -> True
    """
    return bool(answer.strip()) and _run(c, answer, prompt)


def loose_variants(answer: str) -> list[str]:
    """The answer followed by its loose transformations (IFEval, sec. 2.2): markdown font modifiers ('*')
    removed, the first line removed (a "Sure, here it is:" preamble), the last line removed (a "Hope it
    helps!" outro), and every combination: 8 variants in all, including the original. Transformed
    variants are stripped; empty and repeated ones are left out, because an empty text would pass
    "at most" or "no commas" kinds by saying nothing.

        loose_variants("Sure:\\n*hi*") -> ["Sure:\\n*hi*", "Sure:\\nhi", "*hi*", "hi", "Sure:"]
    """
    lines = answer.split("\n")
    variants = [answer]
    for kept in (lines, lines[1:], lines[:-1], lines[1:-1]):
        for strip_stars in (False, True):
            text = "\n".join(kept)
            text = (text.replace("*", "") if strip_stars else text).strip()
            if text and text not in variants:
                variants.append(text)
    return variants


def score(cs: list[Constraint], answer: str, prompt: str = "") -> dict:
    """Strict and loose results, one per constraint; loose passes if any loose variant does (so loose >=
    strict). A blank answer follows no instruction: it fails every constraint, as in IFEval.

        score([Constraint("lowercase"), Constraint("no_commas")], "hi, there") -> {"strict": [True, False], ...}
    """
    if not answer.strip():
        return {"strict": [False] * len(cs), "loose": [False] * len(cs)}
    variants = loose_variants(answer)
    strict = [_run(c, answer, prompt) for c in cs]
    loose = [ok or any(_run(c, v, prompt) for v in variants[1:]) for ok, c in zip(strict, cs)]
    return {"strict": strict, "loose": loose}


def constraints_of(meta: dict, where: str = "meta") -> list[Constraint]:
    """The constraints a record carries in meta["constraints"] (a list of to_dict() forms); [] when none.

        constraints_of({"constraints": [{"kind": "no_commas"}]}) -> [Constraint("no_commas", {})]
    """
    items = (meta or {}).get("constraints") or []
    if not isinstance(items, list):
        raise DatagenError(f"{where}: 'constraints' must be a list, got {type(items).__name__}")
    return [Constraint.from_dict(item, f"{where}: constraint {i}") for i, item in enumerate(items, 1)]
