"""Arguments of a constraint kind, and their validation into typed values.

    validate("word_count", {"relation": "at_most", "n": 50}, "x") -> {"relation": "at_most", "n": 50}
"""
from __future__ import annotations

from dataclasses import dataclass

from datagen.errors import DatagenError

REQUIRED = object()  # an Arg default meaning "must be given"
# IFEval's relations are "less than" and "at least" (read as less_than / at_least); datagen adds two more.
RELATIONS = ("at_least", "at_most", "exactly", "less_than")
ARG_TYPES = ("int", "text", "words", "relation", "letter", "choice")
MAX_N = 100_000  # a count above this is a typo, not a constraint


@dataclass(frozen=True)
class Arg:
    """One argument: type is one of ARG_TYPES; `min` is the smallest int (or fewest words); `choices`
    lists the values of a "choice" argument. A "letter" is any single character that is not a space
    (IFEval counts "#" and "!" too)."""
    name: str
    type: str
    default: object = REQUIRED
    min: int = 0
    choices: tuple[str, ...] = ()


def describe(arg: Arg) -> str:
    """describe(Arg("n", "int", min=1)) -> "an integer from 1 to 100000" """
    if arg.type == "int":
        return f"an integer from {arg.min} to {MAX_N}"
    if arg.type == "relation":
        return "one of " + ", ".join(RELATIONS)
    if arg.type == "choice":
        return "one of " + ", ".join(arg.choices)
    if arg.type == "letter":
        return "a single character (not a space)"
    if arg.type == "words":
        return f"a list of at least {max(arg.min, 1)} non-empty strings"
    return "a non-empty string"


def signature(args: tuple[Arg, ...]) -> str:
    """signature(KINDS["word_count"].args) -> "relation, n"; "none" for a kind without arguments."""
    return ", ".join(a.name + ("" if a.default is REQUIRED else f"={a.default!r}") for a in args) or "none"


def convert(arg: Arg, value: object, where: str) -> object:
    """The typed value, or DatagenError "<where> must be <description>, got <value>"."""
    ok, typed = False, value
    if arg.type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and arg.min <= value <= MAX_N
    elif arg.type == "relation":
        ok = value in RELATIONS
    elif arg.type == "choice":
        ok = value in arg.choices
    elif arg.type == "letter":
        ok = isinstance(value, str) and len(value) == 1 and not value.isspace()
        typed = value.lower() if ok else value
    elif arg.type == "words":
        ok = (isinstance(value, (list, tuple)) and len(value) >= max(arg.min, 1)
              and all(isinstance(w, str) and w.strip() for w in value))
        typed = tuple(w.strip() for w in value) if ok else value
    else:
        ok = isinstance(value, str) and bool(value.strip())
        typed = value.strip() if ok else value
    if not ok:
        raise DatagenError(f"{where} must be {describe(arg)}, got {value!r}")
    return typed


def validate_args(kind: str, spec_args: tuple[Arg, ...], args: object, where: str) -> dict:
    """Typed arguments with defaults filled in, or a DatagenError naming what is missing or wrong."""
    if not isinstance(args, dict):
        raise DatagenError(f"{where}: arguments of {kind} must be an object, got {args!r}")
    extra = sorted(set(args) - {a.name for a in spec_args})
    if extra:
        raise DatagenError(f"{where}: {kind} does not take {', '.join(map(repr, extra))} "
                           f"(its arguments: {signature(spec_args)})")
    typed = {}
    for arg in spec_args:
        if arg.name in args:
            typed[arg.name] = convert(arg, args[arg.name], f"{where}: {kind} argument {arg.name!r}")
        elif arg.default is REQUIRED:
            raise DatagenError(f"{where}: {kind} needs argument {arg.name!r} ({describe(arg)}); "
                               f"its arguments: {signature(spec_args)}")
        else:
            typed[arg.name] = arg.default
    return typed


def compare(count: int, relation: str, n: int) -> bool:
    """compare(3, "at_least", 2) -> True; compare(3, "less_than", 3) -> False"""
    if relation == "at_least":
        return count >= n
    if relation == "at_most":
        return count <= n
    if relation == "less_than":
        return count < n
    return count == n
