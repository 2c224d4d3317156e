"""Values out of range and damaged files are one `datagen: error:` line naming the problem, exit 2,
no traceback and no version written (issue 16)."""
from __future__ import annotations

import json
import os

import pytest

from bad_input import one_error
from datagen.cli import main
from datagen.versions import list_versions

SEEDS = ["Name a primary color.", "Give a synonym for happy.", "What is 2 + 2?", "Name a planet."]
DEAD = "http://127.0.0.1:9/v1"  # nothing listens: no test below may reach a teacher


def seeds(tmp_path):
    p = tmp_path / "seeds.jsonl"
    p.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "x"}) + "\n" for t in SEEDS))
    return str(p)




@pytest.mark.parametrize("flags, message", [
    (["--method", "answer", "--method_cfg.limit", "-3"], "method_cfg.limit: must be >= 1, got -3"),
    (["--method", "answer", "--method_cfg.limit", "0"], "method_cfg.limit: must be >= 1, got 0"),
    (["--teacher.concurrency", "0"], "teacher.concurrency: must be >= 1, got 0"),
    (["--concurrency", "-4"], "teacher.concurrency: must be >= 1, got -4"),
    (["--max_tokens", "0"], "sampling.max_tokens: must be >= 1, got 0"),
    (["--temperature", "-0.5"], "sampling.temperature: must be >= 0.0, got -0.5"),
    (["--top_p", "1.5"], "sampling.top_p: must be <= 1.0, got 1.5"),
    (["--max_requests", "-1"], "max_requests: must be >= 0, got -1"),
    (["--method_cfg.novelty_threshold", "1.2"], "method_cfg.novelty_threshold: must be <= 1.0, got 1.2"),
    (["--method_cfg.num_instructions", "0"], "method_cfg.num_instructions: must be >= 1, got 0"),
    (["--method", "evol_instruct", "--rounds", "0"], "method_cfg.num_rounds: must be >= 1, got 0"),
    (["--method", "self_align", "--method_cfg.num_prompts", "-2"], "method_cfg.num_prompts: must be >= 0, got -2"),
    (["--filters", "minhash", "--ray_workers", "0"], "ray_workers: must be >= 1, got 0"),
])
def test_out_of_range_generate_values(tmp_path, capsys, flags, message):
    out = tmp_path / "runs"
    err = one_error(capsys, ["generate", "--seeds", seeds(tmp_path), "--out", str(out), "--teacher", "openai",
                             "--base-url", DEAD, *flags])
    assert message in err
    assert not out.exists() or not any(out.iterdir())


@pytest.fixture
def version(tmp_path, monkeypatch):
    """A small real version made through the CLI with a fake teacher."""
    import datagen.session
    from datagen.teacher import FakeTeacher

    monkeypatch.setattr(datagen.session, "make_teacher", lambda cfg: FakeTeacher(lambda r: "An answer."))
    out = tmp_path / "runs"
    assert main(["generate", "--method", "answer", "--seeds", seeds(tmp_path), "--out", str(out)]) == 0
    return out, list_versions(out, "answer")[0]


@pytest.mark.parametrize("filters, message", [
    (["--filters", "minhash", "--minhash.threshold", "1.5"], "minhash.threshold: must be <= 1.0, got 1.5"),
    (["--filters", "minhash", "--minhash.num_perm", "0"], "minhash.num_perm: must be >= 1, got 0"),
    (["--filters", "quality", "--quality.max_symbol_ratio", "-1"], "quality.max_symbol_ratio: must be >= 0.0"),
    (["--filters", "toxicity", "--toxicity.threshold", "2"], "toxicity.threshold: must be <= 1.0, got 2"),
    (["--filters", "decontaminate", "--decontaminate.n", "0"], "decontaminate.n: must be >= 1, got 0"),
    (["--filters", "novelty", "--novelty.threshold", "-0.1"], "novelty.threshold: must be >= 0.0"),
    (["--filters", "semantic", "--semantic.batch_size", "0"], "semantic.batch_size: must be >= 1, got 0"),
])
def test_out_of_range_filter_options(version, capsys, filters, message):
    out, v = version
    err = one_error(capsys, ["filter", "--from", v.ref, "--out", str(out), *filters])
    assert message in err
    assert [x.version for x in list_versions(out, "answer")] == ["v0001"]


def test_read_only_commands_check_their_values(version, capsys):
    out, v = version
    assert "--n: must be >= 0, got -1" in one_error(capsys, ["show", v.ref, "--out", str(out), "--n", "-1",
                                                              "--rejected"])
    assert "unexpected argument: extra" in one_error(capsys, ["verify", v.ref, "extra", "--out", str(out)])
    assert "missing VERSION" in one_error(capsys, ["export", "--format", "dpo", "--out", "x.jsonl"])


def break_file(path, data: bytes | None = None) -> None:
    os.chmod(path, 0o644)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if data is None else data)


@pytest.mark.parametrize("file", ["records.parquet", "rejected.parquet"])
def test_a_damaged_version_is_named(version, capsys, tmp_path, file):
    out, v = version
    assert main(["verify", v.ref, "--out", str(out)]) == 0
    assert "every file matches its manifest" in capsys.readouterr().out
    break_file(v.path / file)
    expected = f"dataset version answer/v0001 is damaged: {file} does not match its manifest"
    assert expected in one_error(capsys, ["verify", v.ref, "--out", str(out)])
    assert expected in one_error(capsys, ["filter", "--from", v.ref, "--out", str(out), "--filters", "exact_dup"])
    if file == "records.parquet":
        assert expected in one_error(capsys, ["export", v.ref, "--runs", str(out), "--out", str(tmp_path / "x")])
    assert [x.version for x in list_versions(out, "answer")] == ["v0001"]


def test_a_damaged_manifest_is_named(version, capsys):
    out, v = version
    break_file(v.path / "manifest.json", b"{ not json")
    err = one_error(capsys, ["verify", str(v.path)])
    assert "dataset version answer/v0001 is damaged: manifest.json unreadable" in err


def test_a_garbage_cache_is_named(tmp_path, capsys):
    cache = tmp_path / "responses.sqlite"
    cache.write_bytes(b"this is not a database at all" * 100)
    out = tmp_path / "runs"
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", seeds(tmp_path), "--out", str(out),
                             "--cache", str(cache), "--teacher", "openai", "--base-url", DEAD, "--model", "m"])
    assert f"response cache {cache} is damaged" in err and "delete it" in err
    assert not out.exists() or list_versions(out, "answer") == []


def test_versions_of_an_unknown_name_is_an_error(version, capsys):
    out, _ = version
    assert "no dataset versions named foo under" in one_error(capsys, ["versions", "foo", "--out", str(out)])
    assert main(["versions", "answer", "--out", str(out)]) == 0 and "answer/v0001" in capsys.readouterr().out


def test_an_unreachable_server_names_the_socket_error(tmp_path, capsys):
    err = one_error(capsys, ["generate", "--method", "answer", "--seeds", seeds(tmp_path), "--out",
                             str(tmp_path / "runs"), "--teacher", "openai", "--base-url", DEAD, "--model", "m"])
    assert f"cannot reach {DEAD}: connection refused (" in err and "event loop" not in err
