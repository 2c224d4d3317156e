"""A student as a teacher config with its engine options, and its greedy answers to chat prompts
(`datagen sample`). The student backend chooses the engine: llama.cpp from a GGUF of the merged weights
where one can be made, else transformers; base and students go through the same choice, so a paired
comparison of two llama.cpp-answered models differs only in their weights.

    student_teacher("adapters/qa/sft-0001") -> TeacherConfig(backend="student", model=..., options={"engine": "auto", ...})
    answer(student_teacher("m.gguf"), [[{"role": "user", "content": "Hi"}]], 16) -> (["Hello!"], {"engine": "llama.cpp", ...})
"""
from __future__ import annotations

from datagen.backends import TeacherConfig
from datagen.errors import DatagenError


def student_teacher(spec: str, base: str | None = None, engine: str = "auto", fmt: str = "f32",
                    **options) -> TeacherConfig:
    """The teacher config that answers with student `spec` (adapter folder, model folder or .gguf);
    the backend chooses the engine (datagen.backends.student.choose_engine)."""
    opts = dict(options) | ({"base": base} if base else {})
    return TeacherConfig(backend="student", model=spec, options=opts | {"engine": engine, "gguf_format": fmt})


def answer(teacher_cfg: TeacherConfig, prompts: list[list[dict]], max_new_tokens: int) -> tuple[list[str], dict]:
    """Greedy answers of a student to chat prompts, and how they were made (engine_info)."""
    from datagen.backends import make_teacher
    from datagen.teacher import Request, Sampling

    teacher = make_teacher(teacher_cfg)
    s = Sampling(max_tokens=max_new_tokens, temperature=0.0)
    try:
        comps = teacher.complete([Request(messages=tuple(m), sampling=s, key=str(i)) for i, m in enumerate(prompts)])
        info = teacher.engine_info()
    finally:
        teacher.close()
    bad = next((c for c in comps if not c.ok), None)
    if bad is not None:
        raise DatagenError(f"student {teacher_cfg.model} could not answer prompt {int(bad.key) + 1}: {bad.error}")
    return [c.text for c in comps], info
