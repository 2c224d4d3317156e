"""Machine-checkable instruction constraints, scored strictly and loosely as in IFEval
(Zhou et al. 2023, "Instruction-Following Evaluation for Large Language Models", arXiv:2311.07911).

A constraint is a (kind, args) pair, e.g. ("word_count", {"relation": "at_most", "n": 50}); the kinds
live in constraint_kinds.py and are listed in KINDS.

    score([("no_commas", {})], "Sure, here:\\nno commas here") -> {"strict": [False], "loose": [True]}
"""
from __future__ import annotations

from datagen.errors import DatagenError
from datagen.evaluation.constraint_kinds import KINDS, RELATIONS, REQUIRED, Arg, Kind

__all__ = ["KINDS", "Kind", "Arg", "RELATIONS", "validate", "check", "loose_variants", "score"]

MAX_N = 100_000  # a count above this is a typo, not a constraint


def _describe(arg: Arg) -> str:
    """_describe(Arg("n", "int", min=1)) -> "an integer from 1 to 100000" """
    if arg.type == "int":
        return f"an integer from {arg.min} to {MAX_N}"
    if arg.type == "relation":
        return "one of " + ", ".join(RELATIONS)
    if arg.type == "letter":
        return "a single letter"
    if arg.type == "words":
        return f"a list of at least {max(arg.min, 1)} non-empty strings"
    return "a non-empty string"


def _signature(kind: Kind) -> str:
    """_signature(KINDS["word_count"]) -> "relation, n"; "none" for a kind without arguments."""
    return ", ".join(a.name + ("" if a.default is REQUIRED else f"={a.default!r}") for a in kind.args) or "none"


def _convert(arg: Arg, value: object, where: str) -> object:
    """The typed value, or DatagenError "<where> must be <description>, got <value>"."""
    ok, typed = False, value
    if arg.type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and arg.min <= value <= MAX_N
    elif arg.type == "relation":
        ok = value in RELATIONS
    elif arg.type == "letter":
        ok = isinstance(value, str) and len(value) == 1 and value.isalpha()
        typed = value.casefold() if ok else value
    elif arg.type == "words":
        ok = (isinstance(value, (list, tuple)) and len(value) >= max(arg.min, 1)
              and all(isinstance(w, str) and w.strip() for w in value))
        typed = tuple(w.strip() for w in value) if ok else value
    else:
        ok = isinstance(value, str) and bool(value.strip())
        typed = value.strip() if ok else value
    if not ok:
        raise DatagenError(f"{where} must be {_describe(arg)}, got {value!r}")
    return typed


def validate(kind: str, args: dict, where: str) -> dict:
    """The typed arguments of a constraint, defaults filled in; a DatagenError "<where>: ..." for an
    unknown kind or a missing, extra or out-of-range argument.

        validate("word_count", {"relation": "at_most", "n": 50}, "x") -> {"relation": "at_most", "n": 50}
    """
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise DatagenError(f"{where}: unknown constraint kind {kind!r} (valid kinds: {', '.join(sorted(KINDS))})")
    if not isinstance(args, dict):
        raise DatagenError(f"{where}: arguments of {kind} must be an object, got {args!r}")
    extra = sorted(set(args) - {a.name for a in spec.args})
    if extra:
        raise DatagenError(f"{where}: {kind} does not take {', '.join(map(repr, extra))} "
                           f"(its arguments: {_signature(spec)})")
    typed = {}
    for arg in spec.args:
        if arg.name in args:
            typed[arg.name] = _convert(arg, args[arg.name], f"{where}: {kind} argument {arg.name!r}")
        elif arg.default is REQUIRED:
            raise DatagenError(f"{where}: {kind} needs argument {arg.name!r} ({_describe(arg)}); "
                               f"its arguments: {_signature(spec)}")
        else:
            typed[arg.name] = arg.default
    return typed


def check(kind: str, answer: str, args: dict) -> bool:
    """Whether the answer, as it is, satisfies one constraint (the strict test).

        check("word_count", "café naïve", {"relation": "exactly", "n": 2}) -> True
    """
    typed = validate(kind, args, f"constraint {kind!r}")
    return bool(KINDS[kind].checker(answer, **typed))


def loose_variants(answer: str) -> list[str]:
    """The answer followed by its loose transformations (IFEval, section 2.2): markdown font
    modifiers ('*') removed, the first line removed (a "Sure, here it is:" preamble), the last line
    removed (a "Hope it helps!" outro), and every combination: 8 variants in all, including the
    original. Transformed variants are stripped; empty and repeated ones are left out, because an
    empty text would pass "at most" or "no commas" kinds by saying nothing.

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


def score(constraints: list[tuple[str, dict]], answer: str) -> dict:
    """Strict and loose results, one per constraint. Strict checks the answer as it is; loose
    passes a constraint if any of loose_variants(answer) does, so loose >= strict. A blank answer
    follows no instruction: it fails every constraint, as in the paper's reference evaluation.

        score([("lowercase", {}), ("no_commas", {})], "hi, there") -> {"strict": [True, False], "loose": [True, False]}
    """
    typed = [(KINDS[kind].checker, validate(kind, args, f"constraint {i} ({kind})"))
             for i, (kind, args) in enumerate(constraints, 1)]
    if not answer.strip():
        return {"strict": [False] * len(typed), "loose": [False] * len(typed)}
    variants = loose_variants(answer)
    strict = [bool(fn(answer, **args)) for fn, args in typed]
    loose = [ok or any(fn(v, **args) for v in variants[1:]) for ok, (fn, args) in zip(strict, typed)]
    return {"strict": strict, "loose": loose}
