"""The one flag parser of the command line: `--a.b value`, `--a.b=value`, `--flag` (true),
`--no-flag` (false), short aliases, and positional arguments, over a dataclass whose fields carry
their help, defaults and ranges. A recipe (`--config FILE`) is read by the commands that take one
(datagen.config.split_config / load_yaml) and merged under the flags.

    parse_overrides(["--teacher.backend", "openai", "--max-tokens=256"], {})
    -> {"teacher": {"backend": "openai"}, "max_tokens": "256"}
    parse_command(["demo", "--n", "3"], ShowArgs, "datagen show") -> ShowArgs(version="demo", n=3, ...)
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any

from datagen import config as C
from datagen.errors import DatagenError

BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "1", "0")


def wants_help(argv: list[str]) -> bool:
    return "-h" in argv or "--help" in argv


def field_type(cls: type | None, dotted: str) -> Any:
    """The type of `a.b` in dataclass `cls` (None if unknown: a dict section or a typo)."""
    tp: Any = cls
    for part in dotted.split("."):
        if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
            return None
        hints = typing.get_type_hints(tp)
        if part not in hints:
            return None
        tp = hints[part]
    return tp


def parse_overrides(argv: list[str], aliases: dict[str, str] | None = None, cls: type | None = None,
                    positional: list[str] | None = None) -> dict:
    """Flags -> nested dict of strings. Dashes in names become underscores; `aliases` maps a short
    flag to its dotted key. A flag of a bool field takes a value only if it is a bool word. Tokens
    that are not flag values go to `positional` (an error when it is None)."""
    aliases = aliases or {}
    out: dict = {}
    i = 0
    while i < len(argv):
        tok = argv[i]
        if not tok.startswith("--") or tok == "--":
            if positional is None:
                raise DatagenError(f"unexpected argument: {tok}")
            positional.append(tok)
            i += 1
            continue
        key, eq, value = tok[2:].partition("=")
        key = key.replace("-", "_")
        if not eq and key.startswith("no_") and (key[3:] in aliases or field_type(cls, key[3:]) is bool):
            key, value, eq = key[3:], "false", "="
        key = aliases.get(key, key)
        if not eq:
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            is_bool = field_type(cls, key) is bool
            if nxt is not None and not nxt.startswith("--") and (not is_bool or nxt.lower() in BOOL_WORDS):
                value = nxt
                i += 1
            elif is_bool or field_type(cls, key) is None:
                value = "true"
            else:  # `--tree $ID` with ID empty must not become --tree true
                raise DatagenError(f"--{key} needs a value")
        set_dotted(out, key, value)
        i += 1
    return out


def set_dotted(d: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    for p in parts[:-1]:
        nxt = d.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise DatagenError(f"--{key}: {p} is not a section")
        d = nxt
    d[parts[-1]] = value


def positional_fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if f.metadata.get("positional")]


def help_text(cls: type, usage: str, extra: list[str] | None = None) -> str:
    """usage line, positional arguments, then every option with its default, range and help."""
    lines = [f"usage: {usage}"]
    pos = positional_fields(cls)
    if pos:
        lines += ["", "arguments:"] + [f"  {f.name.upper()}: {f.metadata.get('help', '')}" for f in pos]
    opts = [ln for ln in C.help_lines(cls) if not any(ln.startswith(f"  --{f.name} ") for f in pos)]
    if opts:
        lines += ["", "options:"] + opts
    return "\n".join(lines + (extra or []))


def parse_command(argv: list[str], cls: type, usage: str, aliases: dict[str, str] | None = None):
    """argv -> an instance of `cls` (positional fields filled in order; a list field takes the
    rest), or None after printing the help for -h/--help."""
    if wants_help(argv):
        print(help_text(cls, usage))
        return None
    pos_values: list[str] = []
    data = parse_overrides(argv, aliases, cls, pos_values)
    pos = positional_fields(cls)
    for f in pos:
        if typing.get_origin(field_type(cls, f.name)) is list:
            data[f.name], pos_values = list(pos_values), []
        elif pos_values:
            data[f.name] = pos_values.pop(0)
    if pos_values:
        raise DatagenError(f"unexpected argument: {pos_values[0]}; usage: {usage}")
    missing = [f.name.upper() for f in pos if f.metadata.get("required") and f.name not in data]
    if missing:
        raise DatagenError(f"missing {', '.join(missing)}; usage: {usage}")
    return C.build(cls, data, "--")
