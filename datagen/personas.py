"""Personas as a diversity condition (Persona Hub, Chan et al. 2024): a JSONL file of
`{"id": ..., "persona": ...}` lines; each generation prompt of a method that takes
`method_cfg.personas` is written for one of them. `default` (or `bundled`) is our own file,
prompts/personas/personas.jsonl (240 personas; prompts/personas/README.md says how it was made).

    sampler = PersonaSampler(load_personas("default"), seed=0)
    sampler.at(0) -> Persona(id="p0131", text="a 29-year-old baker in Lima who ...")

Sampling is a permutation of the file drawn from the run's seed: request k gets the k-th persona
of it, so no persona repeats before all have been used, and the same seed and k always give the
same persona (a resumed run sends the same prompts, so the cache answers them).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from datagen.assets import asset_dir
from datagen.errors import DatagenError
from datagen.jsonl import json_objects, read_text
from datagen.record import sha256_text

BUNDLED = ("default", "bundled")
MAX_CHARS = 1000  # a persona is a sentence or two; a longer one is likely a wrong file


@dataclass(frozen=True)
class Persona:
    id: str
    text: str


def personas_path(name: str) -> Path:
    """'default' -> the bundled file; anything else is a path."""
    return asset_dir("prompts") / "personas" / "personas.jsonl" if name in BUNDLED else Path(name)


def load_personas(name: str) -> list[Persona]:
    """The personas of a file, in file order; a malformed file is one error naming file and line."""
    path = personas_path(name)
    text = read_text(path, "persona file", " (use --personas default for the bundled one)")
    label, out, seen = f"persona file {path}", [], set()
    for lineno, obj in json_objects(text, label, ' like {"id": "p1", "persona": "a nurse in Lima"}'):
        pid, persona = obj.get("id"), obj.get("persona")
        if isinstance(pid, int) and not isinstance(pid, bool):
            pid = str(pid)
        if not isinstance(pid, str) or not pid.strip():
            raise DatagenError(f"{label} line {lineno}: field 'id' must be a non-empty string")
        if not isinstance(persona, str) or not persona.strip():
            raise DatagenError(f"{label} line {lineno}: field 'persona' must be a non-empty string")
        if len(persona) > MAX_CHARS:
            raise DatagenError(f"{label} line {lineno}: persona longer than {MAX_CHARS} characters")
        if pid in seen:
            raise DatagenError(f"{label} line {lineno}: duplicate id {pid!r}")
        seen.add(pid)
        out.append(Persona(pid.strip(), " ".join(persona.split())))
    if not out:
        raise DatagenError(f"{label} has no personas")
    return out


class PersonaSampler:
    """Request k -> persona: a permutation of the personas drawn from `seed`, cycled."""

    def __init__(self, personas: list[Persona], seed: int | None, source: str = "") -> None:
        self.personas = list(personas)
        # Its own generator, not the run's: taking personas must not shift any other random choice.
        order = list(range(len(self.personas)))
        random.Random(f"personas:{seed}").shuffle(order)
        self.order = order
        self.source = source
        self.used: set[str] = set()

    def at(self, k: int) -> Persona:
        p = self.personas[self.order[k % len(self.order)]]
        self.used.add(p.id)
        return p

    def stats(self) -> dict:
        """For the manifest's method_stats: which file, its sha, how many personas, how many used."""
        text = "\n".join(f"{p.id}\t{p.text}" for p in self.personas)
        return {"file": self.source, "sha256": sha256_text(text), "count": len(self.personas),
                "used": len(self.used)}


def make_sampler(name: str, seed: int | None) -> PersonaSampler | None:
    """None when `name` is empty (no personas: prompts are rendered exactly as without this feature)."""
    if not name:
        return None
    return PersonaSampler(load_personas(name), seed, "bundled:prompts/personas/personas.jsonl"
                          if name in BUNDLED else str(name))
