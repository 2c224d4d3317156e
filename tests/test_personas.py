"""Personas: the bundled file (>= 200, distinct, made by its script), user files and their errors,
sampling fixed by the run's seed, and the persona in the prompts and in each record's meta
(`persona_id`) for self_instruct, evol_instruct breadth and magpie. Without --personas the prompts
are the ones the method sent before personas existed."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from datagen.cli import main
from datagen.versions import open_version
from datagen.errors import DatagenError
from datagen.personas import Persona, PersonaSampler, load_personas, make_sampler
from fake_openai_server import FakeOpenAIServer
from test_magpie import magpie_reply

ROOT = Path(__file__).resolve().parent.parent


def test_bundled_file_is_large_varied_and_made_by_its_script():
    ps = load_personas("default")
    assert len(ps) >= 200 and len({p.id for p in ps}) == len(ps) == len({p.text for p in ps})
    assert len({p.text.split(" in ")[1].split(" who ")[0] for p in ps}) >= 30  # places
    assert len({p.text.split("-year-old ")[0] for p in ps}) >= 10  # ages
    res = subprocess.run([sys.executable, str(ROOT / "prompts/personas/make_personas.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("text, message", [
    ('{"id": "a", "persona": "a nurse"}\n{"id": "a", "persona": "a cook"}\n', "line 2: duplicate id 'a'"),
    ('{"id": "a"}\n', "line 1: field 'persona'"),
    ('{"persona": "a cook"}\n', "line 1: field 'id'"),
    ('not json\n', "line 1: invalid JSON"),
    ('\n\n', "has no personas"),
])
def test_bad_persona_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "p.jsonl"
    path.write_text(text)
    with pytest.raises(DatagenError, match=message):
        load_personas(str(path))


@pytest.mark.parametrize("method", ["magpie", "self_instruct", "evol_instruct"])
def test_missing_file_through_the_cli_is_exit_2(tmp_path, capsys, method):
    code = main(["generate", "--method", method, "--personas", str(tmp_path / "none.jsonl"), "--out",
                 str(tmp_path), "--teacher", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "persona file not found" in err
    assert not any(tmp_path.iterdir())  # nothing written, not even a cache


def test_sampling_is_fixed_by_the_seed_and_covers_the_file_before_repeating():
    ps = [Persona(f"p{i}", f"person {i}") for i in range(50)]
    a, b, c = PersonaSampler(ps, 0), PersonaSampler(ps, 0), PersonaSampler(ps, 1)
    first = [a.at(k).id for k in range(50)]
    assert first == [b.at(k).id for k in range(50)] != [c.at(k).id for k in range(50)]
    assert sorted(first) == sorted(p.id for p in ps)  # a permutation: no repeat before all are used
    assert a.at(50) == a.at(0) and a.stats()["used"] == 50
    assert make_sampler("", 0) is None


def test_a_users_file_and_integer_ids(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "persona": f"a  beekeeper\tnumber {i}"}) for i in range(3)))
    assert load_personas(str(path))[1] == Persona("1", "a beekeeper number 1")


# --- through the methods -----------------------------------------------------------------------

def _ctx():
    from datagen.session import RunContext
    from datagen.teacher import Sampling
    from datagen.templates import TemplateLoader

    return RunContext(rng=random.Random(0), sampling=Sampling(max_tokens=32, temperature=0.7, seed=0),
                      templates=TemplateLoader(), run_id="r", teacher_name="fake")


def _si_reply(req):
    text = req.messages[-1]["content"] if req.messages else req.prompt
    tail = text.rstrip().splitlines()[-1].lower()
    if tail.startswith("is it classification"):
        return "No"
    if tail.startswith("task ") and tail.endswith(":"):
        return f" Plan a weekend for someone (variant {abs(hash(text)) % 997}) with a small budget."
    return "Input: <noinput>\nOutput: Visit the park, cook at home and read."


def _self_instruct(personas: str):
    from datagen.methods import METHODS
    from datagen.seeds import load_seeds
    from datagen.teacher import FakeTeacher

    m = METHODS["self_instruct"]
    teacher = FakeTeacher(_si_reply)
    ctx = _ctx()
    cfg = m.Config(num_instructions=3, max_rounds=1, prompts_per_round=3, personas=personas)
    return m.run(load_seeds(), teacher, cfg, ctx), teacher, ctx


def test_self_instruct_prompts_name_the_persona_and_records_carry_its_id():
    out, teacher, ctx = _self_instruct("default")
    gen = [r for r in teacher.seen if r.key.startswith("gen-")]
    sampler = make_sampler("default", 0)
    chosen = [sampler.at(i) for i in range(3)]
    assert [p.text in r.messages[-1]["content"] for p, r in zip(chosen, gen)] == [True] * 3
    assert out and all(r.meta["persona_id"] in {p.id for p in chosen} for r in out)
    assert all(r.lineage.template == "self_instruct/generate_persona" for r in out)
    assert ctx.stats["personas"]["count"] == 240 and ctx.stats["personas"]["used"] == 3


def test_self_instruct_without_personas_sends_the_plain_prompts():
    out, teacher, ctx = _self_instruct("")
    from datagen.templates import load_template

    gen = [r for r in teacher.seen if r.key.startswith("gen-")]
    assert all("written the way this person" not in r.messages[-1]["content"] for r in gen)
    assert all("persona_id" not in r.meta and r.lineage.template == "self_instruct/generate" for r in out)
    assert out[0].lineage.template_sha == load_template("self_instruct/generate").sha
    assert "personas" not in ctx.stats


def test_evol_breadth_is_written_for_a_persona():
    from datagen.methods import METHODS
    from datagen.record import Record
    from datagen.teacher import FakeTeacher

    m = METHODS["evol_instruct"]
    teacher = FakeTeacher(lambda r: "Describe how lighthouses were kept lit in the 1800s."
                          if "NEW TASK" in r.messages[-1]["content"] or "REWRITTEN" in r.messages[-1]["content"].upper()
                          else "Not Equal" if "equal" in r.messages[-1]["content"].lower() else "They used oil lamps.")
    pool = [Record.make(f"Name a famous bridge number {i}.") for i in range(4)]
    cfg = m.Config(num_rounds=1, operations=["breadth"], personas="default", judge=False)
    out = m.run(pool, teacher, cfg, _ctx())
    prompts = [r.messages[-1]["content"] for r in teacher.seen if "NEW TASK" in r.messages[-1]["content"]]
    sampler = make_sampler("default", 0)
    assert len(prompts) == 4 and all(sampler.at(k).text in p for k, p in enumerate(prompts))
    assert out and all(r.meta["persona_id"] and r.lineage.template == "evol_instruct/breadth_persona" for r in out)


def test_magpie_persona_is_the_system_message_and_in_meta(tmp_path):
    with FakeOpenAIServer(reply=magpie_reply) as srv:
        args = ["generate", "--method", "magpie", "--teacher", "openai", "--base-url", srv.url, "--model", "m",
                "--out", str(tmp_path), "--method_cfg.num_conversations", "3", "--method_cfg.chat_template",
                "chatml", "--personas", "default"]
        assert main(args) == 0
        raw = [b["prompt"] for b in srv.bodies if "prompt" in b]
    sampler = make_sampler("default", 0)
    for k, prompt in enumerate(raw):
        assert prompt == (f"<|im_start|>system\nYou are a helpful assistant. The user writing to you is "
                          f"{sampler.at(k).text}.<|im_end|>\n<|im_start|>user\n")
    v = open_version("magpie", tmp_path)
    assert sorted(r.meta["persona_id"] for r in v.records()) == sorted(sampler.at(k).id for k in range(3))
    assert v.manifest()["method_stats"]["personas"]["file"].startswith("bundled:")


def test_self_chat_user_is_played_as_a_persona(tmp_path):
    from test_self_chat import argv, reply

    with FakeOpenAIServer(reply=reply) as srv:
        assert main(argv(srv, tmp_path, "--method_cfg.num_turns", "2", "--personas", "default")) == 0
        bodies = [b for b in srv.bodies if "messages" in b and "Write the person's next message" in
                  b["messages"][-1]["content"]]
    sampler = make_sampler("default", 0)
    texts = {sampler.at(k).text for k in range(3)}
    assert bodies and all(any(f"The person: {t}" in b["messages"][0]["content"] for t in texts) for b in bodies)
    v = open_version("self_chat", tmp_path / "runs")
    assert {r.meta["persona_id"] for r in v.records()} <= {sampler.at(k).id for k in range(3)}
    assert v.records() and v.manifest()["method_stats"]["personas"]["used"] == 3
