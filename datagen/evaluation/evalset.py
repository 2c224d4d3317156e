"""Eval sets: JSONL files of prompts with verifiable constraints (see prompts/eval/README.md).

One JSON object per line; `id` is optional (default "line-N"), each constraint is an object with
its `kind` and that kind's arguments (datagen.constraints), or a line of the IFEval release as it is
(`key`, `prompt`, `instruction_id_list`, `kwargs`: datagen.constraints.ifeval_format):

    {"id": "if-0001", "prompt": "Write ... in at most 50 words.", "constraints": [{"kind": "word_count",
     "relation": "at_most", "n": 50}]}

    load_eval_set() -> EvalSet(name="ifeval", source=".../prompts/eval/ifeval.jsonl", sha256="...", prompts=(...))
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from datagen.assets import asset_dir
from datagen.errors import DatagenError
from datagen.constraints import Constraint
from datagen.constraints.contradictions import contradiction
from datagen.constraints.ifeval_format import from_ifeval, is_ifeval_row
from datagen.jsonl import json_objects

BUNDLED = "bundled"
# Eval sets named instead of given as a path: datagen's bundled set, and the held-out set of issue 25.
NAMED = {BUNDLED: "ifeval.jsonl", "heldout": "heldout_if.jsonl"}


@dataclass(frozen=True)
class EvalPrompt:
    """One prompt and its constraints (datagen.constraints.Constraint)."""
    id: str
    prompt: str
    constraints: tuple[Constraint, ...]
    reference: str = ""  # a knowledge eval's reference answer (datagen.evaluation.knowledge)
    document: str = ""  # and the document it was written from


@dataclass(frozen=True)
class EvalSet:
    name: str
    source: str
    sha256: str  # of the file's bytes, so a report can say exactly which set it scored
    prompts: tuple[EvalPrompt, ...]
    format: str = "datagen"  # or "ifeval": the release's own fields (key, instruction_id_list, kwargs); or
    # "knowledge": held-out document questions with reference answers (datagen.evaluation.knowledge)


def bundled_eval_path() -> Path:
    """bundled_eval_path() -> PosixPath('/repo/prompts/eval/ifeval.jsonl')"""
    return asset_dir("prompts") / "eval" / "ifeval.jsonl"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DatagenError(f"eval set not found: {path}") from None
    except OSError as exc:
        raise DatagenError(f"eval set {path}: cannot read: {exc}") from None


def _prompt(obj: dict, lineno: int, where: str) -> EvalPrompt:
    prompt = obj.get("prompt")
    if not isinstance(prompt, str):
        raise DatagenError(f"{where}: missing field 'prompt' (a string)")
    if not prompt.strip():
        raise DatagenError(f"{where}: field 'prompt' is empty")
    if is_ifeval_row(obj):  # IFEval's release: `key` (an integer) names the prompt
        key = obj.get("key", f"line-{lineno}")
        pid = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        constraints = tuple(from_ifeval(obj.get("instruction_id_list"), obj.get("kwargs"), where))
    else:
        pid = obj.get("id", f"line-{lineno}")
        items = obj.get("constraints")
        if not isinstance(items, list) or not items:
            raise DatagenError(f"{where}: no constraints (field 'constraints' must be a non-empty list; "
                               "or give IFEval's 'instruction_id_list' and 'kwargs')")
        constraints = tuple(Constraint.from_dict(c, f"{where}: constraint {i}") for i, c in enumerate(items, 1))
    if not isinstance(pid, str) or not pid.strip():
        raise DatagenError(f"{where}: field 'id' must be a non-empty string (IFEval's 'key': an integer), got {pid!r}")
    clash = contradiction(list(constraints))
    if clash:
        raise DatagenError(f"{where}: contradictory constraints: {clash}")
    return EvalPrompt(id=pid, prompt=prompt, constraints=constraints)


def load_eval_set(path: str | Path | None = None) -> EvalSet:
    """The eval set at `path`, or a named one (None or "bundled", "heldout"); every malformed row is a
    DatagenError naming the file and line."""
    name = BUNDLED if path is None else str(path)
    file = asset_dir("prompts") / "eval" / NAMED[name] if name in NAMED else Path(path)
    data = _read(file)
    label = f"eval set {file}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatagenError(f"{label}: not UTF-8 text: {exc}") from None
    rows = json_objects(text, label)
    if not rows:
        raise DatagenError(f"{label} has no prompts")
    prompts, first_line = [], {}
    fmt = "ifeval" if is_ifeval_row(rows[0][1]) else "datagen"
    for lineno, obj in rows:
        where = f"{label} line {lineno}"
        item = _prompt(obj, lineno, where)
        if item.id in first_line:
            raise DatagenError(f"{where}: duplicate id {item.id!r} (first used on line {first_line[item.id]})")
        first_line[item.id] = lineno
        prompts.append(item)
    return EvalSet(name=file.stem, source=str(file), sha256=hashlib.sha256(data).hexdigest(), prompts=tuple(prompts),
                   format=fmt)
