"""Programmatic verifiers: plain Python functions that score one answer, used by best-of-n (inside
`--method answer` or the `best_of_n` filter) and as an online-RL reward (`datagen train grpo`).

A verifier is `fn(answer: str, record: Record) -> float` (higher is better); `record` is the prompt's
record (instruction, input, and its `output` as the reference answer when there is one). A verifier
that raises marks that answer `verifier_error` with the message; the run goes on. Name one in a recipe
by its bundled name or as `module:function` (any importable module, e.g. a file beside the recipe).

    load_verifier("shorter")("Blue.", Record.make("Name a color.")) -> -1.0
    load_verifier("mypkg.checks:has_citation")  -> that function
"""
from __future__ import annotations

import importlib
import json
import math
import re
import subprocess
import sys
import tempfile
from typing import Callable

from datagen.errors import DatagenError
from datagen.record import Record, normalize

Verifier = Callable[[str, Record], float]

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.S)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
# A snippet that runs longer than this is counted as failing (a loop that never ends is no answer).
PYTHON_TIMEOUT_S = 10.0


def code_blocks(text: str, languages: tuple[str, ...] = ()) -> list[str]:
    """Fenced blocks, optionally only those tagged with one of `languages` (untagged ones count too).

    code_blocks("```py\\nprint(1)\\n```", ("py", "python")) -> ["print(1)\\n"]
    """
    return [body for lang, body in _FENCE.findall(text or "")
            if not languages or not lang or lang.lower() in languages]


def json_parses(answer: str, record: Record) -> float:
    """1.0 when the answer (or its first fenced block) is valid JSON, else 0.0."""
    blocks = code_blocks(answer, ("json",))
    for text in ([blocks[0]] if blocks else []) + [answer]:
        try:
            json.loads(text)
            return 1.0
        except (json.JSONDecodeError, TypeError):
            continue
    return 0.0


def python_runs(answer: str, record: Record) -> float:
    """1.0 when the first python code block exits with status 0 in a fresh interpreter (isolated mode,
    a temp working folder, PYTHON_TIMEOUT_S), else 0.0; an answer without a code block scores 0.0."""
    blocks = code_blocks(answer, ("python", "py", "python3"))
    if not blocks:
        return 0.0
    with tempfile.TemporaryDirectory(prefix="datagen-verify-") as tmp:
        try:
            res = subprocess.run([sys.executable, "-I", "-c", blocks[0]], cwd=tmp, capture_output=True,
                                 timeout=PYTHON_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return 0.0
    return 1.0 if res.returncode == 0 else 0.0


def _canon(text: str) -> str:
    return normalize(text).lower().rstrip(".!?")


def matches_reference(answer: str, record: Record) -> float:
    """1.0 when the answer equals the reference (the record's output) after normalising case, spaces and
    end punctuation, or, for a numeric reference, when the answer's last number equals it; else 0.0.
    A record without a reference raises (-> verifier_error)."""
    if not (record.output or "").strip():
        raise ValueError("the record has no reference answer (output) to compare with")
    ref = _canon(record.output)
    if _canon(answer) == ref:
        return 1.0
    if _NUMBER.fullmatch(ref):
        found = _NUMBER.findall(answer or "")
        return 1.0 if found and found[-1].replace(",", ".") == ref.replace(",", ".") else 0.0
    return 0.0


def shorter(answer: str, record: Record) -> float:
    """Minus the number of words: the shortest answer scores highest (a length-penalty baseline)."""
    return -float(len((answer or "").split()))


def _bundled() -> dict[str, Verifier]:
    from filters.constraint_verify import constraints_all, constraints_fraction
    from filters.hedging import hedging

    return {"json_parses": json_parses, "python_runs": python_runs, "matches_reference": matches_reference,
            "shorter": shorter, "hedging": hedging, "constraints": constraints_fraction,
            "constraints_all": constraints_all}


# hedging: filters/hedging.py (Schulman's reward for questions with a reference); constraints and
# constraints_all: the share of the prompt's meta["constraints"] met, or all of them (filters/constraint_verify.py).
BUNDLED: dict[str, Verifier] = _bundled()


def load_verifier(spec: str) -> Verifier:
    """A bundled name or `module:function` -> the function; anything else is a one-line DatagenError."""
    spec = (spec or "").strip()
    if spec in BUNDLED:
        return BUNDLED[spec]
    if ":" not in spec:
        raise DatagenError(f"unknown verifier {spec!r}: name a bundled one ({', '.join(BUNDLED)}) "
                           "or a function as module:function")
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a user's module can fail in any way while importing
        raise DatagenError(f"verifier {spec}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise DatagenError(f"verifier {spec}: {module_name} has no function {attr!r}")
    return fn


def run_verifier(fn: Verifier, answer: str, record: Record) -> float | tuple[str, str]:
    """The score as a finite float, or ("verifier_error", message) when it raises or returns no number."""
    try:
        value = fn(answer, record)
        score = float(value)
    except Exception as exc:  # the verifier is user code: any failure is that answer's rejection
        return "verifier_error", f"{type(exc).__name__}: {exc}"[:300]
    if not math.isfinite(score):
        return "verifier_error", f"returned {value!r}, not a finite number"
    return score
