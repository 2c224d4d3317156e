"""Magpie on the real embedded teacher (llama.cpp on SmolLM2-135M-Instruct): the pre-query is read from
the GGUF's own ChatML template, sent as a raw completion, and what SmolLM2 writes until <|im_end|> is a
user query that it then answers. Kept small: 2 conversations, short queries and answers."""
from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp")
from datagen.cli import main  # noqa: E402
from datagen.versions import open_version  # noqa: E402
from datagen.errors import DatagenError  # noqa: E402

try:
    from datagen.backends.embedded import smollm2_path
    smollm2_path()
except DatagenError as exc:  # pragma: no cover - only without the model package
    pytest.skip(f"no embedded model: {exc}", allow_module_level=True)


def test_the_gguf_template_gives_smollm2s_chatml_pre_query():
    from datagen.backends import TeacherConfig
    from datagen.backends.embedded import EmbeddedTeacher
    from datagen.methods.magpie.chat_template import pre_query

    teacher = EmbeddedTeacher(TeacherConfig(n_threads=1, n_ctx=512))
    assert teacher.supports_raw
    pq = pre_query(teacher.chat_template())
    assert pq.text.startswith("<|im_start|>system\n") and pq.text.endswith("<|im_end|>\n<|im_start|>user\n")
    assert pq.end_of_turn == "<|im_end|>"


def test_magpie_runs_on_the_embedded_teacher(tmp_path):
    assert main(["generate", "--method", "magpie", "--out", str(tmp_path), "--method_cfg.num_conversations", "2",
                 "--method_cfg.query_max_tokens", "48", "--max-tokens", "24", "--filters", "exact_dup"]) == 0
    v = open_version("magpie", tmp_path)
    m = v.manifest()
    assert m["method_stats"]["template_source"] == "the teacher's chat template"
    assert 2 + len(v.records()) <= m["teacher_stats"]["requests"] <= 4  # 2 queries, then an answer to each kept one
    for r in v.records():  # a query in SmolLM2's words, no template text in it, and an answer
        assert r.instruction.strip() and "<|im_" not in r.instruction and r.output.strip()
    for x in v.rejected():
        assert x.reason in ("truncated_query", "template_leak", "empty_query", "duplicate_query")
