"""The CLI: bad input ends with one line on stderr and exit code 2, never a traceback, never a
new dataset version; the read-only commands work on a version."""
import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from extras import needs

import datagen.session
from bad_input import check_line
from datagen import cli
from datagen.versions import list_versions
from datagen.teacher import FakeTeacher

TASKS = ["Name a primary color.", "Give a synonym for happy.", "What is 2 + 2?"]


def seeds_file(tmp_path, name="seeds.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "x"}) + "\n" for t in TASKS))
    return p


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATAGEN_DEBUG", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DATAGEN_PROGRESS")}
    env.update(extra)
    return env


def run_cli(args, cwd, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "datagen.cli", *args], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=timeout)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bad_inputs(tmp_path):
    """name -> (argv, expected text in the error line). Built once, run in parallel."""
    seeds = seeds_file(tmp_path)
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n'
                        '{"instruction": "e", "output": \n{"instruction": "g", "output": "h"}\n')
    recipe = tmp_path / "typo.yaml"
    recipe.write_text("method: answer\nseed: 1\nsampling: {max_tokens: 8, temperature: 0}\nfilterz: [exact_dup]\n")
    no_tokens = tmp_path / "no_tokens.yaml"
    no_tokens.write_text("method: answer\nseed: 1\nsampling: {temperature: 0}\n")
    broken = tmp_path / "broken_tpl" / "answer"
    broken.mkdir(parents=True)
    (broken / "answer.j2").write_text("<|user|>\n{{ instruction }\n")
    undefined = tmp_path / "undef_tpl" / "answer"
    undefined.mkdir(parents=True)
    (undefined / "answer.j2").write_text("<|user|>\n{{ instruction }} {{ no_such_variable }}\n")
    escape = tmp_path / "escape_tpl" / "answer"
    escape.mkdir(parents=True)
    (escape / "answer.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    common = ["--method", "answer", "--seeds", str(seeds), "--max_tokens", "4", "--out", str(tmp_path / "runs")]
    return {
        "missing_seeds": (["generate", *common, "--seeds", str(tmp_path / "absent.jsonl")], "seed file not found"),
        "malformed_seeds": (["generate", *common, "--seeds", str(bad_json)], "line 3: invalid JSON"),
        "recipe_unknown_key": (["generate", "--config", str(recipe), "--out", str(tmp_path / "runs")],
                               "unknown key 'filterz'"),
        "unknown_flag": (["generate", *common, "--max-tokenz", "3"], "unknown key 'max_tokenz'"),
        "unknown_method_option": (["generate", *common, "--method_cfg.limitt", "3"], "'method_cfg.limitt'"),
        "bad_type": (["generate", *common, "--seed", "abc"], "seed: expected an integer, got 'abc'"),
        "missing_max_tokens": (["run", str(no_tokens), "--out", str(tmp_path / "runs")],
                               "sampling.max_tokens must be set explicitly"),
        "template_syntax": (["generate", *common, "--templates", str(broken.parent)], "answer.j2) line 2"),
        "template_undefined": (["generate", *common, "--templates", str(undefined.parent)],
                               "undefined variable: 'no_such_variable' is undefined"),
        "template_escape": (["generate", *common, "--templates", str(escape.parent)], "blocked by the sandbox"),
        "unreachable_server": (["generate", *common, "--teacher", "openai", "--model", "m", "--base-url",
                                f"http://127.0.0.1:{closed_port()}/v1", "--timeout", "2",
                                "--teacher.max_retries", "1"], "cannot reach http://127.0.0.1:"),
        "missing_api_key": (["generate", *common, "--teacher", "openai", "--model", "gpt-4o-mini"],
                            "needs an API key"),
        "unknown_command": (["genernate"], "unknown command 'genernate'"),
        "show_bad_number": (["show", "answer", "--out", str(tmp_path / "runs"), "--n", "many"],
                            "--n: expected an integer, got 'many'"),
        "show_missing_version": (["show", "answer/v0042", "--out", str(tmp_path / "runs")],
                                 "dataset version not found"),
    }


@pytest.fixture(scope="module")
def bad_results(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("cli_bad")
    cases = bad_inputs(tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_cli, argv, tmp_path) for name, (argv, _) in cases.items()}
        results = {name: f.result() for name, f in futures.items()}
    return tmp_path, cases, results


CASES = ["missing_seeds", "malformed_seeds", "recipe_unknown_key", "unknown_flag", "unknown_method_option",
         "bad_type", "missing_max_tokens", "template_syntax", "template_undefined", "template_escape",
         "unreachable_server", "missing_api_key", "unknown_command", "show_bad_number", "show_missing_version"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2(bad_results, case):
    tmp_path, cases, results = bad_results
    if case in ("unreachable_server", "missing_api_key") and not os.path.exists(
            os.path.join(os.path.dirname(datagen.session.__file__), "backends", "openai_compat.py")):
        pytest.skip("the openai backend is not written yet")
    if case.startswith("template_"):
        needs("embedded")  # these runs use the default teacher
    res = results[case]
    assert "Traceback" not in res.stderr + res.stdout
    assert cases[case][1] in check_line(res.returncode, res.stderr)
    # no dataset version, not even a half-written one
    assert list_versions(tmp_path / "runs", "answer") == []
    assert not (tmp_path / "runs" / "answer").exists() or not any((tmp_path / "runs" / "answer").iterdir())


def test_api_key_never_in_error_text(tmp_path):
    """A refused key must not be echoed back; here the key is set but the server is closed."""
    pytest.importorskip("datagen.backends.openai_compat")
    secret = "sk-test-DO-NOT-LEAK-0123456789"
    res = run_cli(["generate", "--method", "answer", "--teacher", "openai", "--model", "m", "--base-url",
                   f"http://127.0.0.1:{closed_port()}/v1", "--timeout", "2", "--teacher.max_retries", "1",
                   "--max_tokens", "4", "--out", str(tmp_path / "runs")], tmp_path, clean_env(OPENAI_API_KEY=secret))
    assert res.returncode == 2 and secret not in res.stderr + res.stdout
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p


# --- in process, with a FakeTeacher in place of the configured backend ---------------------------

@pytest.fixture
def fake_backend(monkeypatch):
    teachers = []

    def make(cfg):
        t = FakeTeacher(lambda r: "Answer: " + r.messages[-1]["content"])
        teachers.append(t)
        return t

    monkeypatch.setattr(datagen.session, "make_teacher", make)
    monkeypatch.setenv("DATAGEN_PROGRESS", "0")
    return teachers


def gen(tmp_path, *flags):
    return cli.main(["generate", "--method", "answer", "--seeds", str(seeds_file(tmp_path)), "--max_tokens", "8",
                     "--out", str(tmp_path / "runs"), *flags])


def test_generate_prints_summary_and_budget_stop(tmp_path, fake_backend, capsys):
    assert gen(tmp_path, "--max-requests", "2") == 0
    out, err = capsys.readouterr()
    assert f"wrote {tmp_path / 'runs' / 'answer' / 'v0001'}" in out
    assert "kept 2" in out and "teacher_error" not in out and "stopped early: budget" in out
    assert "left undone: teacher 1" in out and "continue from the cache" in out
    assert "Traceback" not in err
    m = json.loads((tmp_path / "runs" / "answer" / "v0001" / "manifest.json").read_text())
    assert m["stopped"] and m["config"]["max_requests"] == 2 and m["teacher_stats"]["requests"] == 2
    assert len(fake_backend[0].seen) == 2


def test_versions_show_export(tmp_path, fake_backend, capsys):
    assert gen(tmp_path) == 0
    assert gen(tmp_path, "--seed", "3") == 0
    capsys.readouterr()
    runs = str(tmp_path / "runs")
    assert cli.main(["versions", "--out", runs]) == 0
    out = capsys.readouterr().out
    assert "answer/v0001" in out and "answer/v0002" in out and ".cache" not in out
    assert cli.main(["show", "answer/v0001", "--out", runs]) == 0
    assert capsys.readouterr().out.startswith("# answer v0001")
    assert cli.main(["show", "answer", "--out", runs, "--manifest"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "v0002"
    dest = tmp_path / "export" / "sft.jsonl"
    assert cli.main(["export", "answer/v0001", "--runs", runs, "--format", "messages", "--out", str(dest)]) == 0
    rows = [json.loads(line) for line in dest.read_text().splitlines()]
    assert len(rows) == 3 and rows[0]["messages"][-1] == {"role": "assistant", "content": "Answer: " + TASKS[0]}
    assert cli.main(["export", "answer/v0001", "--runs", runs, "--format", "dpo", "--out", str(dest)]) == 2
    assert "not a preference pair" in capsys.readouterr().err


def test_run_recipe_command(tmp_path, fake_backend, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"method: answer\nname: mine\nseed: 2\nsampling: {{max_tokens: 8, temperature: 0.1}}\n"
                      f"seeds: {seeds_file(tmp_path)}\noutput_dir: {tmp_path / 'runs'}\n")
    assert cli.main(["run", str(recipe), "--method_cfg.limit", "1"]) == 0
    assert [v.ref for v in list_versions(tmp_path / "runs", "mine")] == ["mine/v0001"]
    assert cli.main(["run"]) == 2 and "usage: datagen run RECIPE" in capsys.readouterr().err


def test_help(capsys, monkeypatch):
    # a command whose optional dependencies are missing is listed, and does not break the help
    monkeypatch.setitem(cli.COMMANDS, "ghost", "no_such_module_xyz:cmd")
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for name in ("generate", "versions", "show", "export"):
        assert f"  {name} " in out
    assert "ghost" in out and "not available" in out


def test_unexpected_error_is_one_line_exit_1(monkeypatch, capsys):
    def boom(argv):
        raise RuntimeError("something\nbroke")

    monkeypatch.setitem(cli.COMMANDS, "boom", boom)
    monkeypatch.delenv("DATAGEN_DEBUG", raising=False)
    assert cli.main(["boom"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something broke" in err and "DATAGEN_DEBUG=1" in err
    monkeypatch.setenv("DATAGEN_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["boom"])
