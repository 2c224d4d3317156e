"""Which engine answers a student (`datagen eval`, `datagen sample`, on-policy sampling): llama.cpp from a
GGUF of its merged weights where one can be made, else transformers (batched, bfloat16 where it keeps
the greedy answers). Base and students go through the same choice, so a paired comparison of two
llama.cpp-answered models differs only in their weights.

    student_teacher("adapters/qa/sft-0001") -> TeacherConfig(backend="student", model=..., options={"gguf": ...})
    student_teacher("adapters/prefix/sft-0002") -> TeacherConfig(..., options={"fallback": "adapter type ..."})
"""
from __future__ import annotations

import logging

from datagen.backends import TeacherConfig
from datagen.backends.student import resolve_student, student_sha
from datagen.errors import DatagenError
from datagen.hf.gguf_export import DEFAULT_FORMAT, FORMATS, export_student
from datagen.hf.gguf_meta import NotExportable

ENGINES = ("auto", "llama.cpp", "transformers")
log = logging.getLogger("datagen")


def student_teacher(spec: str, base: str | None = None, engine: str = "auto", fmt: str = DEFAULT_FORMAT,
                    **options) -> TeacherConfig:
    """The teacher config that answers with student `spec` (adapter folder, model folder or .gguf).
    engine: auto (llama.cpp where possible), llama.cpp (an error where not), transformers."""
    if engine not in ENGINES:
        raise DatagenError(f"unknown student engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if fmt not in FORMATS:
        raise DatagenError(f"unknown student GGUF format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    opts = dict(options) | ({"base": base} if base else {})
    if engine == "transformers":
        return TeacherConfig(backend="student", model=spec, options=opts)
    reason = missing_packages()
    if not reason:
        try:
            s = resolve_student(spec, base)
            path = export_student(s.model, s.adapter, student_sha(s), fmt)
            return TeacherConfig(backend="student", model=spec, options=opts | {"gguf": str(path), "gguf_format": fmt})
        except NotExportable as exc:
            reason = str(exc)
    if engine == "llama.cpp":
        raise DatagenError(f"student {spec} cannot be answered by llama.cpp: {reason}")
    log.warning("student %s answers through transformers: %s", spec, reason)
    return TeacherConfig(backend="student", model=spec, options=opts | {"fallback": reason})


def missing_packages() -> str | None:
    """None when the GGUF writer and llama.cpp are installed; else which is missing."""
    import importlib.util

    for name, pip in (("gguf", "gguf"), ("llama_cpp", "llama-cpp-python (make setup)")):
        if importlib.util.find_spec(name) is None:
            return f"{pip} is not installed"
    return None


def answer(teacher_cfg: TeacherConfig, prompts: list[list[dict]], max_new_tokens: int) -> tuple[list[str], dict]:
    """Greedy answers of a student to chat prompts, and how they were made (engine_info)."""
    from datagen.backends import make_teacher
    from datagen.teacher import Request, Sampling

    teacher = make_teacher(teacher_cfg)
    s = Sampling(max_tokens=max_new_tokens, temperature=0.0)
    comps = teacher.complete([Request(messages=tuple(m), sampling=s, key=str(i)) for i, m in enumerate(prompts)])
    bad = next((c for c in comps if not c.ok), None)
    if bad is not None:
        raise DatagenError(f"student {teacher_cfg.model} could not answer prompt {int(bad.key) + 1}: {bad.error}")
    return [c.text for c in comps], teacher.engine_info()
