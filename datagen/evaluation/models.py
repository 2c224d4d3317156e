"""The models an eval compares: each student and (by default) the base it was trained from, as
teacher configs, so they answer through the session's cached teacher layer; and what their
provenance says (the dataset version they were trained on).

    models_of(EvalConfig(students=["adapters/x/sft-0001"])) -> [Model("sft-0001", ...), Model("base", ...)]
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from datagen.backends import TeacherConfig, safe_url
from datagen.errors import DatagenError


@dataclass
class Model:
    label: str                 # short, unique within the eval: a column in every table
    spec: str                  # what the user gave (or the base path)
    role: str                  # "student" | "base"
    teacher: TeacherConfig
    provenance: dict = field(default_factory=dict)  # the adapter run's provenance.json, if any

    def describe(self) -> dict:
        t = self.teacher
        trained = self.provenance.get("dataset") or {}
        return {"label": self.label, "role": self.role, "spec": safe_url(self.spec) if "://" in self.spec
                else self.spec, "backend": t.backend, "model": safe_url(t.model) if "://" in t.model else t.model,
                "base_url": safe_url(t.base_url) if t.base_url else "",
                "dataset": {k: trained.get(k) for k in ("ref", "path", "content_sha256", "method")} if trained else None,
                "base_model": (self.provenance.get("base_model") or {}).get("source")}


def read_provenance(spec: str) -> dict:
    """An adapter or merged folder's provenance.json (a merged/ folder reads its run's)."""
    p = Path(spec)
    for folder in (p, p.parent) if p.name == "merged" else (p,):
        f = folder / "provenance.json"
        if f.is_file():
            return json.loads(f.read_text(encoding="utf-8"))
    return {}


def teacher_for(spec: str, judge: TeacherConfig, engine: str = "auto", fmt: str = "f32") -> TeacherConfig:
    """openai:MODEL@BASE_URL -> the openai backend (key from the judge's api_key_env); anything else
    is a local student (adapter folder, model folder or .gguf), checked to exist now, answered through
    llama.cpp from a GGUF of its merged weights where one can be made (engine auto), else transformers."""
    if spec.startswith("openai:"):
        model, _, url = spec[len("openai:"):].partition("@")
        if not model:
            raise DatagenError(f"student {spec!r}: write openai:MODEL@BASE_URL")
        return TeacherConfig(backend="openai", model=model, base_url=url, api_key_env=judge.api_key_env,
                             concurrency=judge.concurrency, timeout=judge.timeout)
    from datagen.backends.student import resolve_student

    resolve_student(spec)  # one clear line for a missing adapter, base or model
    from datagen.backends.student_engine import student_teacher

    return student_teacher(spec, engine=engine, fmt=fmt)


def label_of(spec: str, taken: set[str]) -> str:
    """openai:m@url -> "m"; adapters/self_instruct/sft-0001 -> "self_instruct/sft-0001" (the run folder
    names the dataset); a merged/ folder -> "<run>-merged"; a file -> its name."""
    p = Path(spec)
    if spec.startswith("openai:"):
        base = spec.split("@")[0].split(":", 1)[-1]
    elif p.name == "merged":
        base = f"{p.parent.parent.name}/{p.parent.name}-merged"
    elif p.is_dir() and (p / "provenance.json").is_file():
        base = f"{p.parent.name}/{p.name}"
    else:
        base = p.name or spec
    label, k = base, 2
    while label in taken:
        label, k = f"{base}-{k}", k + 1
    return label


def models_of(cfg) -> list[Model]:
    """The students in order, then the base (if any), each with its teacher config."""
    out: list[Model] = []
    engine = (getattr(cfg, "student_engine", "auto"), getattr(cfg, "student_format", "f32"))
    for spec in cfg.students:
        out.append(Model(label_of(spec, {m.label for m in out}), spec, "student", teacher_for(spec, cfg.teacher, *engine),
                         read_provenance(spec) if not spec.startswith("openai:") else {}))
    base = cfg.base
    if base == "auto":
        base = next((m.provenance.get("base_model", {}).get("source") for m in out
                     if m.provenance.get("base_model", {}).get("source")), "none")
    if base and base != "none":
        out.append(Model("base", base, "base", teacher_for(base, cfg.teacher, *engine)))
    return out
