"""Natural wordings of a constraint, from prompts/constraints/train.yaml or eval.yaml (disjoint sets of
templates: an eval prompt never reuses a training wording), and the argument values the samplers use.

    phrase(Constraint("no_commas", {}), random.Random(0), "eval") -> "The comma character is off-limits here."
"""
from __future__ import annotations

import functools
import random
from pathlib import Path

import yaml

from datagen.assets import asset_dir
from datagen.errors import DatagenError
from datagen.record import sha256_text
from datagen.templates import Template

PHRASING_SPLITS = ("train", "eval")


def _folder(folder: str | Path | None) -> Path:
    return Path(folder) if folder else asset_dir("prompts") / "constraints"


@functools.lru_cache(maxsize=16)
def _load(path: str) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatagenError(f"constraint wordings not found: {path}") from None
    except yaml.YAMLError as exc:
        raise DatagenError(f"constraint wordings {path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DatagenError(f"constraint wordings {path}: must be a mapping of kind -> wordings")
    return data


def wordings(split: str = "train", folder: str | Path | None = None) -> dict:
    """{kind: [template, ...] or {relation/separator value: [template, ...]}} of one split."""
    if split not in PHRASING_SPLITS:
        raise DatagenError(f"unknown phrasing split {split!r}; choose one of: {', '.join(PHRASING_SPLITS)}")
    return _load(str(_folder(folder) / f"{split}.yaml"))


def values(folder: str | Path | None = None) -> dict:
    """The argument lists of prompts/constraints/values.yaml."""
    return _load(str(_folder(folder) / "values.yaml"))


def templates_for(kind: str, args: dict, split: str, folder: str | Path | None = None) -> list[str]:
    """The wordings that fit this constraint: the kind's list, or the list keyed by one of its values."""
    entry = wordings(split, folder).get(kind)
    if isinstance(entry, dict):
        entry = next((entry[v] for v in args.values() if isinstance(v, str) and v in entry), None)
    if not entry:
        raise DatagenError(f"no {split} wording for constraint {kind} {args!r} in prompts/constraints/{split}.yaml")
    return list(entry)


def render(source: str, kind: str, split: str, args: dict) -> str:
    tmpl = Template(name=f"constraints/{split}/{kind}", source=source, path=f"prompts/constraints/{split}.yaml",
                    sha=sha256_text(source))
    return tmpl.render_text(**{k: list(v) if isinstance(v, tuple) else v for k, v in args.items()})


def phrase_args(kind: str, args: dict, rng: random.Random, split: str = "train",
                folder: str | Path | None = None) -> str:
    """One wording, chosen with rng, rendered with the arguments."""
    return render(rng.choice(templates_for(kind, args, split, folder)), kind, split, args)
