"""Hostile and unlucky files a user hands datagen (issue 30, class 5 and the exit-2 contract): templates
that would run forever or fill memory stop with one line (datagen/template_limits.py), a FIFO given as
--seeds is refused without blocking, binary recipe, template, prompt and seed files and deeply nested
JSON are one `datagen: error:` line with exit 2, never an exception's name."""
from __future__ import annotations

import json
import os
import time

import pytest

from bad_input import one_error
from datagen.cli import main
from datagen.errors import DatagenError
from datagen.templates import Template

HANGING = {
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested loops with output": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "huge power": "{{ 9**(9**9) }}",
    "huge string": "{{ 'x'*10000000000 }}",
    "huge width": "{{ 'x'|center(10000000000) }}",
    "huge format width": "{{ '{:>9999999999}'.format(1) }}",
    "huge printf width": "{{ '%0999999999d' % 1 }}",
}




def seeds(tmp_path, rows=None) -> str:
    p = tmp_path / "seeds.jsonl"
    rows = rows or [{"instruction": "Name a color.", "output": "x"}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(p)


@pytest.fixture
def fake_teacher(monkeypatch):
    import datagen.session
    from datagen.teacher import FakeTeacher

    monkeypatch.setattr(datagen.session, "make_teacher", lambda cfg: FakeTeacher(lambda r: "An answer."))


@pytest.mark.parametrize("name", list(HANGING))
def test_a_hanging_template_stops_with_one_line(tmp_path, capsys, monkeypatch, fake_teacher, name):
    monkeypatch.setenv("DATAGEN_TEMPLATE_SECONDS", "1")
    (tmp_path / "mine" / "answer").mkdir(parents=True)
    (tmp_path / "mine" / "answer" / "answer.j2").write_text(HANGING[name])
    t0 = time.monotonic()
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", seeds(tmp_path), "--out",
                             str(tmp_path / "runs"), "--templates", str(tmp_path / "mine")])
    assert "template answer/answer" in err and "stopped:" in err
    assert time.monotonic() - t0 < 60  # a bound on a hang (the limit is 1 s), not a speed goal
    assert not (tmp_path / "runs" / "answer").exists()


def test_ordinary_templates_still_render():
    t = Template("t", "{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ '%05d' % 42 }} {{ '{:>6}'.format('x') }} "
                      "{% for i in range(3) %}{{ i }}{% endfor %} {{ 'x'|center(5) }}", "p", "s")
    assert t.render_text() == "ababab 1024 00042      x 012   x"  # the message is stripped
    with pytest.raises(DatagenError, match="division by zero"):
        Template("t", "{{ 1/0 }}", "p", "s").render_text()


def test_a_fifo_as_seeds_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "seeds.jsonl"
    os.mkfifo(fifo)
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", str(fifo), "--out", str(tmp_path / "runs"),
                             "--teacher", "openai", "--base-url", "http://127.0.0.1:9/v1"])
    assert "is not a regular file" in err


BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


def test_binary_files_are_named(tmp_path, capsys, fake_teacher):
    (tmp_path / "bin").write_bytes(BINARY)
    binary = str(tmp_path / "bin")
    runs = str(tmp_path / "runs")
    assert "recipe" in one_error(capsys, ["generate", "--config", binary, "--out", runs])
    assert "not UTF-8 text" in one_error(capsys, ["generate", "--method", "answer", "--seeds", binary, "--out", runs])
    (tmp_path / "mine" / "answer").mkdir(parents=True)
    (tmp_path / "mine" / "answer" / "answer.j2").write_bytes(BINARY)
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", seeds(tmp_path), "--out", runs,
                             "--templates", str(tmp_path / "mine")])
    assert "template" in err and "not UTF-8 text" in err
    (tmp_path / "nul.txt").write_bytes(b"a prompt\x00with a NUL\n")
    from finetune.data import read_prompts
    with pytest.raises(DatagenError, match="NUL bytes"):
        read_prompts(tmp_path / "nul.txt")


def test_deeply_nested_json_is_one_line(tmp_path, capsys):
    deep = "[" * 200_000 + "]" * 200_000
    (tmp_path / "deep.jsonl").write_text('{"instruction": ' + deep + "}\n")
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", str(tmp_path / "deep.jsonl"),
                             "--out", str(tmp_path / "runs"), "--teacher", "openai", "--base-url",
                             "http://127.0.0.1:9/v1"])
    assert "nested too deeply" in err
