"""Magpie: the pre-query prefix of ChatML, Llama-3 and Gemma templates, the query checks (empty,
truncated, template leak), and whole runs through the CLI against the fake OpenAI server: what the
server is sent on /v1/completions and /v1/chat/completions, multi-turn, the template read from the
server (/props), and a chat-only server or backend refused with one line."""
from __future__ import annotations

import hashlib
import random

import pytest

from datagen.cli import main
from datagen.versions import open_version
from datagen.errors import DatagenError
from datagen.methods.magpie import chat_template as T
from datagen.methods.magpie.parse import parse_query, query_reason
from fake_openai_server import FakeOpenAIServer

CHATML_USER = "<|im_start|>user\n"
LLAMA3_USER = "<|start_header_id|>user<|end_header_id|>\n\n"
TOPICS = ("tides", "sourdough", "tax returns", "bicycle brakes", "prime numbers", "tomato plants", "jet lag",
          "Roman roads", "solar panels", "job interviews")


# --- the pre-query part of a template (pure) -------------------------------------------------------

@pytest.mark.parametrize("fmt, prefix, end", [
    ("chatml", CHATML_USER, "<|im_end|>"),
    ("llama3", LLAMA3_USER, "<|eot_id|>"),
    ("gemma", "<start_of_turn>user\n", "<end_of_turn>"),
    ("phi3", "<|user|>\n", "<|end|>"),
])
def test_pre_query_of_each_format(fmt, prefix, end):
    pq = T.pre_query(T.FORMATS[fmt])
    assert (pq.text, pq.end_of_turn) == (prefix, end)


def test_pre_query_of_a_template_with_a_default_system_prompt():
    """SmolLM2's template (as in its GGUF) adds its own system message when none is given."""
    smol = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            "{{ '<|im_start|>system\nYou are SmolLM.<|im_end|>\n' }}{% endif %}"
            "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
    assert T.pre_query(smol).text == "<|im_start|>system\nYou are SmolLM.<|im_end|>\n" + CHATML_USER
    assert T.pre_query(smol, system="Be brief.").text == "<|im_start|>system\nBe brief.<|im_end|>\n" + CHATML_USER


def test_pre_query_after_history_and_system():
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert T.pre_query(T.FORMATS["llama3"], history, "Be brief.").text == (
        "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" + LLAMA3_USER + "Hi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>" + LLAMA3_USER)
    # Gemma has no system role: the system text opens the first user turn, so it is in the pre-query.
    assert T.pre_query(T.FORMATS["gemma"], system="Be brief.").text == "<start_of_turn>user\nBe brief.\n\n"


def test_a_template_that_hides_the_user_text_is_an_error():
    with pytest.raises(DatagenError, match="does not show a user message"):
        T.pre_query("{% for m in messages %}<|{{ m.role }}|>{% endfor %}")
    with pytest.raises(DatagenError, match="does not render"):
        T.pre_query("{{ raise_exception('no users here') }}")


@pytest.mark.parametrize("query, finish, expected", [
    ("How do tides work?", "stop", None),
    ("", "stop", "empty_query"),
    ("  ?! ", "stop", "empty_query"),
    ("Explain why the sky is", "length", "truncated_query"),
    ("How do tides work?<|im_end|>\n<|im_start|>assistant\nThey", "stop", ("template_leak", "<|im_end|>")),
    ("Tell me a joke <|eot_id|>", "stop", ("template_leak", "<|eot_id|>")),
    ("<start_of_turn>model\nSure", "stop", ("template_leak", "<start_of_turn>")),
    ("assistant\nHere is a poem", "stop", ("template_leak", "assistant")),
    ("system: you are a pirate", "stop", ("template_leak", "system:")),
    ("Assist me with system design.", "stop", None),
])
def test_query_reason(query, finish, expected):
    assert query_reason(query, finish, ("<|im_end|>",)) == expected


def test_parse_query_cuts_at_the_end_of_turn():
    assert parse_query("  What is rain?<|im_end|>\nmore", "<|im_end|>") == "What is rain?"


# --- whole runs on the fake server -----------------------------------------------------------------

def magpie_reply(content: str, seed, index: int, model=None) -> str:
    """Raw prompts ending in a user pre-query get a query; chat turns get an answer. Seed 100003
    (conversation 3, turn 1) leaks template text; turn-2 queries of conversation 1 are cut short."""
    h = hashlib.sha256(f"{content}|{seed}".encode()).digest()
    if content.endswith((CHATML_USER, LLAMA3_USER)):
        turn, conv = divmod(seed % 1_000_000, 100_000)
        if conv == 3 and turn == 1:
            return "What is rain? <|im_start|>assistant\nRain is"
        return f"How do {TOPICS[(conv + turn) % len(TOPICS)]} work, in {h[0] % 5 + 2} short steps?"
    return f"Here is how it works: first the {TOPICS[h[1] % len(TOPICS)]}, then the rest ({h[2]})."


def magpie(srv, out, *extra):
    return main(["generate", "--method", "magpie", "--teacher", "openai", "--base-url", srv.url, "--model", "m",
                 "--out", str(out), "--method_cfg.num_conversations", "5", *extra])


def test_chatml_prefix_is_sent_raw_and_answered_by_chat(tmp_path):
    with FakeOpenAIServer(reply=magpie_reply) as srv:
        assert magpie(srv, tmp_path, "--method_cfg.chat_template", "chatml") == 0
        raw = [b for b in srv.bodies if "prompt" in b]
        chat = [b for b in srv.bodies if "messages" in b]
    assert [b["prompt"] for b in raw] == [CHATML_USER] * 5
    assert all(b["stop"] == ["<|im_end|>"] and b["max_tokens"] == 96 and b["temperature"] == 1.0 for b in raw)
    assert len({b["seed"] for b in raw}) == 5  # one seed per conversation: not five copies of one query
    assert [b["messages"][-1]["role"] for b in chat] == ["user"] * 4
    v = open_version("magpie", tmp_path)
    kept, rejected = v.records(), v.rejected()
    assert len(kept) == 4 and all(r.lineage.method == "magpie" and r.messages is None for r in kept)
    assert {r.instruction for r in kept} == {b["messages"][-1]["content"] for b in chat}
    assert [(x.reason, x.detail) for x in rejected] == [("template_leak", "<|im_start|>")]
    stats = v.manifest()["method_stats"]
    assert stats["pre_query"] == CHATML_USER and stats["mean_turns"] == 1.0


def test_template_read_from_the_server_llama3_and_multi_turn(tmp_path):
    with FakeOpenAIServer(reply=magpie_reply, chat_template=T.FORMATS["llama3"]) as srv:
        assert magpie(srv, tmp_path, "--method_cfg.num_turns", "3", "--method_cfg.system_prompt", "Be brief.") == 0
        raw = [b["prompt"] for b in srv.bodies if "prompt" in b]
    system = "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
    assert raw[:5] == [system + LLAMA3_USER] * 5
    v = open_version("magpie", tmp_path)
    kept = sorted(v.records(), key=lambda r: r.meta["turns"])
    assert [r.meta["turns"] for r in kept] == [3, 3, 3, 3]
    conv = kept[0].messages
    assert [m["role"] for m in conv] == ["user", "assistant"] * 3
    assert conv[0]["content"] == kept[0].instruction and conv[1]["content"] == kept[0].output
    # A later turn's pre-query is the whole conversation so far in the template, then the user header.
    assert any(p.startswith(system + LLAMA3_USER + conv[0]["content"] + "<|eot_id|>") and p.endswith(LLAMA3_USER)
               and conv[2]["content"] not in p for p in raw[5:])
    assert v.manifest()["method_stats"]["template_source"] == "the teacher's chat template"


def test_a_later_failed_turn_ends_the_conversation_and_keeps_earlier_turns(tmp_path):
    def reply(content, seed, index, model=None):
        if content.endswith(CHATML_USER) and seed is not None and seed // 100_000 == 2 and seed % 100_000 == 1:
            return "<|im_start|>assistant\nI think"
        return magpie_reply(content, seed, index, model)

    with FakeOpenAIServer(reply=reply) as srv:
        assert magpie(srv, tmp_path, "--method_cfg.chat_template", "chatml", "--method_cfg.num_turns", "2") == 0
    v = open_version("magpie", tmp_path)
    turns = sorted(r.meta["turns"] for r in v.records())
    stats = v.manifest()["method_stats"]
    assert turns == [1, 2, 2, 2] and stats["ended_early"] == {"template_leak": 1} and stats["mean_turns"] == 1.75


def test_chat_only_server_is_refused_with_one_line(tmp_path, capsys):
    with FakeOpenAIServer(reply=magpie_reply, chat_only=True) as srv:
        assert magpie(srv, tmp_path, "--method_cfg.chat_template", "chatml") == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("datagen: error: ") and "chat-only" in err and "404" in err
    assert not (tmp_path / "magpie").exists()


def test_server_without_a_template_needs_one_named(tmp_path, capsys):
    with FakeOpenAIServer(reply=magpie_reply, chat_template=None) as srv:
        assert magpie(srv, tmp_path) == 2
        assert srv.posts == 0
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "method_cfg.chat_template" in err and "chatml" in err


def test_pre_query_given_in_the_recipe(tmp_path):
    with FakeOpenAIServer(reply=magpie_reply) as srv:
        assert magpie(srv, tmp_path, "--method_cfg.pre_query", LLAMA3_USER, "--method_cfg.end_of_turn",
                      "<|eot_id|>") == 0
        raw = [b for b in srv.bodies if "prompt" in b]
    assert {b["prompt"] for b in raw} == {LLAMA3_USER} and {tuple(b["stop"]) for b in raw} == {("<|eot_id|>",)}


def test_a_backend_without_raw_completions_is_refused_before_any_request(tmp_path):
    from datagen.methods import METHODS
    from datagen.teacher import FakeTeacher

    class ChatOnly(FakeTeacher):
        supports_raw = False

    teacher = ChatOnly(lambda r: "x")
    with pytest.raises(DatagenError, match="chat-only"):
        METHODS["magpie"].run([], teacher, METHODS["magpie"].Config(chat_template="chatml"), _ctx())
    assert teacher.seen == []


def _ctx():
    from datagen.session import RunContext
    from datagen.teacher import Sampling
    from datagen.templates import TemplateLoader

    return RunContext(rng=random.Random(0), sampling=Sampling(max_tokens=8, temperature=0.7, seed=0),
                      templates=TemplateLoader(), run_id="r", teacher_name="fake")


def test_a_backslash_n_typed_on_the_command_line_is_a_newline():
    from datagen.methods import METHODS

    cfg = METHODS["magpie"].Config(pre_query="<|im_start|>user\\n", end_of_turn="<|im_end|>")
    assert cfg.pre_query == CHATML_USER


def test_a_budget_stop_is_undone_work_and_the_rerun_continues_from_the_cache(tmp_path):
    with FakeOpenAIServer(reply=magpie_reply) as srv:
        args = ("--method_cfg.chat_template", "chatml", "--method_cfg.num_turns", "2")
        assert magpie(srv, tmp_path, *args, "--max-requests", "12") == 0  # 5 queries, 4 answers, 3 of turn 2
        v = open_version("magpie", tmp_path)
        m = v.manifest()
        assert m["stopped"] == "budget" and sum(m["undone"].values()) > 0
        assert not any(x.reason == "budget_exhausted" for x in v.rejected())
        assert magpie(srv, tmp_path, *args) == 0
        again = open_version("magpie", tmp_path).manifest()
    assert again["teacher_stats"]["cache_hits"] == 12 and again["method_stats"]["mean_turns"] == 2.0
