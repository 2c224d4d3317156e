"""Config: YAML fills, flags override, unknown keys fail, coercion errors are clear."""
import dataclasses
from dataclasses import dataclass, field

import pytest

from datagen import config as C
from datagen.cli import flags, load_run_config, main
from datagen.cli.generate import ALIASES
from datagen.errors import DatagenError
from datagen.run import RunConfig, resolve_method_cfg


def write(tmp_path, text, name="r.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


RECIPE = """
method: answer
seed: 7
sampling: {max_tokens: 64, temperature: 0.2}
teacher: {backend: embedded, timeout: 30}
method_cfg: {limit: 3}
filters: [exact_dup]
"""


def test_parse_overrides_forms():
    got = flags.parse_overrides(["--teacher.backend", "openai", "--max-tokens=256", "--base_url", "http://x/v1",
                             "--flag", "--temperature", "-0.5", "--method_cfg.limit", "3"], ALIASES)
    assert got == {"teacher": {"backend": "openai", "base_url": "http://x/v1"}, "sampling": {
        "max_tokens": "256", "temperature": "-0.5"}, "flag": "true", "method_cfg": {"limit": "3"}}
    with pytest.raises(DatagenError, match="unexpected argument: stray"):
        flags.parse_overrides(["stray"])
    with pytest.raises(DatagenError, match="not a section"):
        flags.parse_overrides(["--seed", "1", "--seed.x", "2"])


def test_yaml_fills_and_flags_override(tmp_path):
    path = write(tmp_path, RECIPE)
    cfg = load_run_config(["--config", path])
    assert (cfg.method, cfg.seed, cfg.sampling.max_tokens, cfg.sampling.temperature) == ("answer", 7, 64, 0.2)
    assert cfg.teacher.timeout == 30.0 and cfg.filters == ["exact_dup"] and cfg.name == "answer"
    assert cfg.sampling.top_p == 1.0  # untouched default
    cfg = load_run_config(["--config", path, "--max_tokens", "16", "--teacher.timeout=5", "--seed", "3",
                           "--method_cfg.template", "x/y", "--name", "demo", "--out", "/tmp/o"])
    assert (cfg.sampling.max_tokens, cfg.sampling.temperature, cfg.seed) == (16, 0.2, 3)
    assert cfg.teacher.timeout == 5.0 and cfg.teacher.backend == "embedded"
    assert cfg.method_cfg == {"limit": 3, "template": "x/y"}  # nested dicts merge key by key
    assert (cfg.name, cfg.output_dir) == ("demo", "/tmp/o")
    assert resolve_method_cfg(cfg).limit == 3


def test_method_options_from_flags_are_recorded_typed():
    """`--method_cfg.n 8` arrives as "8"; the manifest's config records 8, as YAML gives it."""
    cfg = load_run_config(["--method", "constraints", "--method_cfg.n", "8", "--method_cfg.min_pass_rate", "0.5",
                           "--method_cfg.repair", "true"])
    got = {k: cfg.method_cfg[k] for k in ("n", "min_pass_rate", "repair")}
    assert got == {"n": 8, "min_pass_rate": 0.5, "repair": True} and type(got["n"]) is int
    assert resolve_method_cfg(cfg).n == 8


def test_preset_of_method_is_used_without_config():
    cfg = load_run_config(["--method", "answer"])
    assert cfg.method == "answer" and cfg.seed is not None
    assert cfg.sampling.max_tokens and cfg.sampling.temperature is not None
    cfg.check()
    with pytest.raises(DatagenError, match="unknown method 'nope'; choose one of: self_instruct"):
        load_run_config(["--method", "nope"])


@pytest.mark.parametrize("extra, match", [
    ("bogus: 1\n", r"unknown key 'bogus'; valid keys: .*max_requests"),
    ("teacher: {backend: embedded, modle: x}\n", r"unknown key 'teacher\.modle'"),
    ("sampling: {max_tokens: 8, temperature: 0, top_k: 3}\n", r"unknown key 'sampling\.top_k'"),
])
def test_unknown_keys_fail_including_nested(tmp_path, extra, match):
    path = write(tmp_path, "method: answer\nseed: 1\n" + extra)
    with pytest.raises(DatagenError, match=match):
        load_run_config(["--config", path])


def test_unknown_flags_fail():
    with pytest.raises(DatagenError, match="unknown key 'bogus'"):
        load_run_config(["--method", "answer", "--bogus", "1"])
    with pytest.raises(DatagenError, match=r"unknown key 'teacher\.nope'"):
        load_run_config(["--method", "answer", "--teacher.nope", "1"])
    with pytest.raises(DatagenError, match=r"unknown key 'method_cfg\.nope'"):  # checked before any work
        load_run_config(["--method", "answer", "--method_cfg.nope", "1"])


@pytest.mark.parametrize("flags, match", [
    (["--seed", "abc"], r"^seed: expected an integer, got 'abc'$"),
    (["--max_tokens", "1.5"], r"sampling\.max_tokens: expected an integer, got '1\.5'"),
    (["--temperature", "hot"], r"sampling\.temperature: expected a number, got 'hot'"),
    (["--teacher.concurrency", "many"], r"teacher\.concurrency: expected an integer"),
    (["--max_requests", "x"], r"max_requests: expected an integer"),
])
def test_type_errors_are_clear(flags, match):
    with pytest.raises(DatagenError, match=match):
        load_run_config(["--method", "answer", *flags])


def test_yaml_types_are_checked(tmp_path):
    with pytest.raises(DatagenError, match=r"seed: expected an integer, got 1\.5"):
        load_run_config(["--config", write(tmp_path, "method: answer\nseed: 1.5\n")])
    with pytest.raises(DatagenError, match=r"seed: expected a number|seed: expected an integer"):
        load_run_config(["--config", write(tmp_path, "method: answer\nseed: true\n")])
    with pytest.raises(DatagenError, match="teacher.: expected a mapping"):
        load_run_config(["--config", write(tmp_path, "method: answer\nteacher: openai\n")])
    with pytest.raises(DatagenError, match=r"recipe .*line 2: invalid YAML"):
        load_run_config(["--config", write(tmp_path, "method: answer\nseed: a: b\n")])
    with pytest.raises(DatagenError, match="expected a mapping of keys"):
        load_run_config(["--config", write(tmp_path, "- a\n- b\n")])
    with pytest.raises(DatagenError, match="recipe not found"):
        load_run_config(["--config", str(tmp_path / "absent.yaml")])


@pytest.mark.parametrize("missing", ["seed", "max_tokens", "temperature"])
def test_missing_required_keys_are_errors(tmp_path, missing):
    keys = {"seed": "seed: 1", "max_tokens": "  max_tokens: 8", "temperature": "  temperature: 0.5"}
    lines = ["method: answer", keys["seed"], "sampling:", keys["max_tokens"], keys["temperature"]]
    text = "\n".join(line for line in lines if line != keys[missing]) + "\n"
    cfg = load_run_config(["--config", write(tmp_path, text)])
    with pytest.raises(DatagenError, match=f"{missing}.* must be set explicitly"):
        cfg.check()
    # given as a flag it is fine
    flag = {"seed": ["--seed", "1"], "max_tokens": ["--max_tokens", "8"], "temperature": ["--temperature", "0"]}
    load_run_config(["--config", write(tmp_path, text), *flag[missing]]).check()


def test_unknown_method_is_an_error(tmp_path):
    cfg = load_run_config(["--config", write(tmp_path, RECIPE), "--method", "nope"])
    with pytest.raises(DatagenError, match="unknown method 'nope'"):
        cfg.check()


def test_coerce_bool_list_optional():
    @dataclass
    class X:
        flag: bool = False
        items: list = field(default_factory=list)
        names: tuple[str, ...] = ()
        opt: float | None = None

    x = C.build(X, {"flag": "yes", "items": "a, b", "names": ["p", "q"], "opt": "none"})
    assert x == X(flag=True, items=["a", "b"], names=("p", "q"), opt=None)
    assert C.build(X, {"opt": "2.5"}).opt == 2.5
    with pytest.raises(DatagenError, match="flag: expected true or false"):
        C.build(X, {"flag": "maybe"})
    with pytest.raises(DatagenError, match="items: expected a list"):
        C.build(X, {"items": 3})


def test_non_defaults_and_to_dict():
    cfg = load_run_config(["--method", "answer", "--max_tokens", "12", "--teacher.timeout", "9"])
    nd = C.non_defaults(cfg)
    assert nd["sampling.max_tokens"] == 12 and nd["teacher.timeout"] == 9.0
    assert "teacher.backend" not in nd and "output_dir" not in nd
    d = C.to_dict(cfg)
    assert d["sampling"]["max_tokens"] == 12 and d["teacher"]["backend"] == "embedded"
    assert set(d) == {f.name for f in dataclasses.fields(RunConfig)}


def test_generate_help_lists_every_field_with_help(capsys):
    assert main(["generate", "--help"]) == 0
    out = capsys.readouterr().out
    for key, help_text in [("--sampling.max_tokens", "max new tokens per answer"), ("--seed", "RNG seed"),
                           ("--teacher.base_url", "OpenAI-compatible base URL"), ("--max_requests", "stop cleanly"),
                           ("--method_cfg.num_instructions", "options of method self_instruct"), ("--out = --output_dir", "")]:
        assert key in out and help_text in out
    for line in out.splitlines():
        if line.startswith("  --"):
            assert line.split(": ", 1)[1].strip(), f"field without help: {line}"


def test_the_session_options_are_one_config_the_commands_share(capsys):
    from datagen.evaluation.config import EvalConfig
    from datagen.refilter import FilterConfig
    from datagen.select.run import SelectConfig
    from datagen.session import SessionConfig

    shared = [f.name for f in dataclasses.fields(SessionConfig)]
    assert shared == ["teacher", "sampling", "seed", "templates", "cache", "max_requests", "max_tokens_total",
                      "executor", "ray_address"]
    for cls in (RunConfig, FilterConfig, SelectConfig, EvalConfig):
        assert issubclass(cls, SessionConfig) and set(shared) <= {f.name for f in dataclasses.fields(cls)}
    assert EvalConfig().seed == 0 and EvalConfig().sampling.max_tokens == 96 and FilterConfig().seed is None
    # --help lists a command's own options first, the shared session options after them
    lines = [ln.split(" ")[2] for ln in C.help_lines(SelectConfig)]
    assert lines[0] == "--from_version" and lines.index("--output_dir") < lines.index("--teacher.backend")
    assert main(["select", "--from", "x", "--budget", "1", "--seed", "0", "--executor", "ray"]) == 2
    assert capsys.readouterr().err == "datagen: error: datagen select runs locally: --executor local\n"
