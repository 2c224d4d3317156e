"""Config from dataclasses: a YAML recipe fills the fields, CLI flags (parsed in datagen.cli.flags)
override them, unknown keys are errors, and field metadata `min`/`max` bound the values
(TrlParser's idea, without HfArgumentParser).

    build(RunConfig, {"teacher": {"backend": "openai"}}) -> RunConfig(teacher=TeacherConfig(...))
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from datagen.errors import DatagenError
from datagen.jsonl import read_text


def load_yaml(path: str | Path) -> dict:
    p = Path(path)
    text = read_text(p, "recipe")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise DatagenError(f"recipe {path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise DatagenError(f"recipe {path}: YAML nested too deeply") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DatagenError(f"recipe {path}: expected a mapping of keys, got {type(data).__name__}")
    return data


def split_config(argv: list[str]) -> tuple[str | None, list[str]]:
    """The `--config RECIPE` path (or None) and argv without it.

        split_config(["--config", "r.yaml", "--seed", "1"]) -> ("r.yaml", ["--seed", "1"])
    """
    argv = list(argv)
    if "--config" not in argv:
        return None, argv
    i = argv.index("--config")
    if i + 1 >= len(argv):
        raise DatagenError("--config needs a file path")
    path = argv[i + 1]
    del argv[i:i + 2]
    return path, argv


def merge(base: dict, over: dict) -> dict:
    """Deep merge: `over` wins; nested dicts merge key by key."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def build(cls: type, data: dict, where: str = "") -> Any:
    """Instantiate dataclass `cls` from a (possibly nested) dict, coercing strings from the CLI
    to the field types. Unknown keys are errors naming the valid ones."""
    if not isinstance(data, dict):
        raise DatagenError(f"{where or cls.__name__}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise DatagenError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(repr(where + k) for k in unknown)}; valid keys: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = coerce(hints[name], value, where + name)
        check_range(fields[name], kwargs[name], where + name)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise DatagenError(f"{where or cls.__name__}: {exc}") from None


def check_range(f: dataclasses.Field, value: Any, key: str) -> None:
    """A field's metadata `min` / `max` bound its value (each element of a list): counts, limits,
    thresholds and concurrency out of range are errors, never quietly accepted.

        check_range(field(metadata={"min": 1}), 0, "limit") -> DatagenError("limit: must be >= 1, got 0")
    """
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if lo is None and hi is None:
        return
    for v in value if isinstance(value, (list, tuple)) else [value]:
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if lo is not None and v < lo:
            raise DatagenError(f"{key}: must be >= {lo}, got {v!r}")
        if hi is not None and v > hi:
            raise DatagenError(f"{key}: must be <= {hi}, got {v!r}")


def coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        errors = []
        for a in inner:
            try:
                return coerce(a, value, key)
            except DatagenError as exc:
                errors.append(str(exc))
        raise DatagenError(errors[0] if errors else f"{key}: bad value {value!r}")
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key + ".")
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise DatagenError(f"{key}: expected true or false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool):
            raise DatagenError(f"{key}: expected a number, got {value!r}")
        try:
            num = tp(value)
        except (TypeError, ValueError):
            raise DatagenError(f"{key}: expected {'an integer' if tp is int else 'a number'}, got {value!r}") from None
        if tp is int and isinstance(value, float) and value != num:
            raise DatagenError(f"{key}: expected an integer, got {value!r}")
        if tp is float and not math.isfinite(num):  # nan passes every range check: it would switch things off
            raise DatagenError(f"{key}: expected a finite number, got {value!r}")
        return num
    if tp is str:
        if isinstance(value, (dict, list)):
            raise DatagenError(f"{key}: expected a string, got {value!r}")
        return "" if value is None else str(value)
    if origin in (list, tuple) or tp in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise DatagenError(f"{key}: expected a list, got {value!r}")
        elem = args[0] if args else Any
        items = [coerce(elem, v, key) for v in value]
        return tuple(items) if (origin is tuple or tp is tuple) else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise DatagenError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    return value


def to_dict(obj: Any) -> Any:
    """Dataclass -> plain dict for the manifest (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def non_defaults(obj: Any, prefix: str = "") -> dict:
    """Only the fields that differ from the dataclass defaults (logged at start, as vLLM does)."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.update(non_defaults(value, prefix + f.name + "."))
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = dataclasses.MISSING
        if value != default:
            out[prefix + f.name] = value
    return out


def help_order(cls: type) -> list[dataclasses.Field]:
    """A config's own fields first, then those it inherits (the shared session options, a changed default
    included) in the base's order."""
    inherited = {f.name for base in cls.__mro__[1:] if dataclasses.is_dataclass(base) for f in dataclasses.fields(base)}
    fields = dataclasses.fields(cls)
    return [f for f in fields if f.name not in inherited] + [f for f in fields if f.name in inherited]


def help_lines(cls: type, prefix: str = "") -> list[str]:
    """`--key (type, default): help` for every field, nested sections dotted."""
    lines = []
    hints = typing.get_type_hints(cls)
    for f in help_order(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            lines.extend(help_lines(tp, prefix + f.name + "."))
            continue
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
        bounds = "".join(f", {k} {f.metadata[k]}" for k in ("min", "max") if k in f.metadata)
        lines.append(f"  --{prefix}{f.name} (default {default!r}{bounds}): {f.metadata.get('help', '')}")
    return lines
