"""Versions written by the Ray workers (datagen/ray/generate.py, datagen/ray/write.py): `generate --method
answer` and `filter` on Ray with keep=smallest_id dedup and per-record filters give the local run's kept
ids, rejections and funnel; the version is sharded one pair a block, verifies, and a rerun finds it
unchanged; anything the workers cannot do alone takes the driver path; kill -9 leaves no version."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from datagen.cli import load_run_config
from datagen.versions import list_versions, open_version, verify_version, write_version
from datagen.errors import DatagenError
from datagen.record import Record
from datagen.refilter import FilterConfig, refilter
from datagen.run import run
from fake_openai_server import FakeOpenAIServer
from test_cluster_rule_ray import chains, corpus
from test_ray import seed_file

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = [{"name": "exact_dup", "keep": "smallest_id"}, {"name": "minhash", "keep": "smallest_id"}, "length"]


def config(args: list, filters=CLUSTER):
    cfg = load_run_config(args)
    cfg.filters = list(filters)
    return cfg


def rejections(version) -> list:
    return sorted((j.record.id, j.reason, j.stage, j.detail) for j in version.rejected())


def same_run(local, on_ray) -> None:
    assert [r.id for r in local.records()] == [r.id for r in on_ray.records()]
    assert rejections(local) == rejections(on_ray)
    a, b = local.manifest(), on_ray.manifest()
    for key in ("funnel", "method_cfg", "templates", "sampling", "teacher", "run_id", "method_stats"):
        assert a[key] == b[key], key
    assert a["counts"] == b["counts"]
    assert b["written_by"] == "ray workers" and b["content_hash"] == "per_shard"
    assert "written_by" not in a
    verify_version(on_ray)


def test_answer_on_workers_equals_local(ray_local, tmp_path):
    seeds = seed_file(tmp_path)
    with FakeOpenAIServer() as srv:
        common = ["--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
                  "--seeds", str(seeds)]
        local = run(config(common + ["--cache", str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "local")]))
        asked = srv.posts
        fresh = run(config(common + ["--cache", str(tmp_path / "fresh.sqlite"), "--out", str(tmp_path / "ray"),
                                     "--executor", "ray"]))
        assert srv.posts == 2 * asked  # its own cache: every answer asked again, once
        shared = run(config(common + ["--cache", str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "ray2"),
                                      "--executor", "ray"]))
        assert srv.posts == 2 * asked  # the local run's cache: nothing asked
        again = run(config(common + ["--cache", str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "ray2"),
                                     "--executor", "ray"]))
    same_run(local, fresh)
    assert fresh.manifest()["teacher_stats"] == local.manifest()["teacher_stats"] == {
        **local.manifest()["teacher_stats"], "requests": 36, "cache_hits": 0}
    assert shared.manifest()["teacher_stats"]["cache_hits"] == 36
    assert [r.id for r in shared.records()] == [r.id for r in local.records()]
    assert len(fresh.manifest()["shards"]["records"]) > 1  # one shard pair a block
    assert local.manifest()["counts"]["dropped"] == {"near_duplicate": 6}
    assert again.unchanged and again.path == shared.path


def test_answer_from_a_sharded_version_with_a_limit(ray_local, tmp_path, monkeypatch):
    """Blocks are the parent's shards; the limit counts across them, as locally."""
    monkeypatch.setenv("DATAGEN_SHARD_ROWS", "7")
    pool = [Record.make(f"Describe the harbour of town {i} in two sentences.") for i in range(40)]
    parent = write_version(tmp_path / "runs", "pool", pool, [], {"method": "seed", "counts": {}})
    assert len(parent.manifest()["shards"]["records"]) == 6
    with FakeOpenAIServer() as srv:
        common = ["--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
                  "--from", str(parent.path), "--method_cfg.limit", "23", "--cache", str(tmp_path / "c.sqlite")]
        local = run(config(common + ["--out", str(tmp_path / "local")], ["length"]))
        on_ray = run(config(common + ["--out", str(tmp_path / "ray"), "--executor", "ray"], ["length"]))
    same_run(local, on_ray)
    assert len(on_ray.records()) == 23 and on_ray.manifest()["parent"] == "pool/v0001"
    assert len(on_ray.manifest()["shards"]["records"]) == 4  # 7 + 7 + 7 + 2


def test_filter_on_workers_and_unchanged_rerun(ray_local, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_SHARD_ROWS", "40")
    records = list({r.id: r for r in chains(10) + corpus(seed=9, n=120)}.values())
    random.Random(4).shuffle(records)
    base = write_version(tmp_path / "runs", "demo", records, [], {"method": "seed", "counts": {}})
    local = refilter(FilterConfig(from_version=str(base.path), filters=CLUSTER, name="local"))
    on_ray = refilter(FilterConfig(from_version=str(base.path), filters=CLUSTER, executor="ray"))
    assert [r.id for r in local.records()] == [r.id for r in on_ray.records()]
    assert rejections(local) == rejections(on_ray)
    assert local.manifest()["funnel"] == on_ray.manifest()["funnel"]
    assert on_ray.manifest()["written_by"] == "ray workers"
    assert on_ray.manifest()["shards"]["records"] == [f"records-{b:05d}.parquet" for b in range(7)]
    assert verify_version(on_ray) == on_ray.manifest()["files"]
    again = refilter(FilterConfig(from_version=str(base.path), filters=CLUSTER, executor="ray"))
    assert again.unchanged and again.path == on_ray.path


def test_damaged_worker_shard_is_named_by_verify(ray_local, tmp_path):
    base = write_version(tmp_path / "runs", "demo", corpus(seed=3, n=30), [], {"method": "seed", "counts": {}})
    v = refilter(FilterConfig(from_version=str(base.path), filters=["length"], executor="ray"))
    shard = v.path / v.manifest()["shards"]["records"][0]
    data = shard.read_bytes()
    shard.chmod(0o644)
    shard.write_bytes(data[:-40] + bytes(40))
    with pytest.raises(DatagenError, match="records-00000.parquet does not match its manifest"):
        verify_version(v)


def test_what_the_workers_cannot_do_alone_takes_the_driver_path(ray_local, tmp_path):
    seeds = seed_file(tmp_path)
    with FakeOpenAIServer() as srv:
        common = ["--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
                  "--seeds", str(seeds), "--cache", str(tmp_path / "c.sqlite"), "--executor", "ray"]
        keep_first = run(config(common + ["--out", str(tmp_path / "a")], ["exact_dup", "minhash"]))
        budget = run(config(common + ["--out", str(tmp_path / "b"), "--max-requests", "100"]))
        ordered = run(config(common + ["--out", str(tmp_path / "c")], CLUSTER + ["novelty"]))
    for v in (keep_first, budget, ordered):
        assert "written_by" not in v.manifest() and len(v.records()) > 0


def test_a_bad_verifier_on_the_workers_is_one_line(ray_local, tmp_path):
    seeds = seed_file(tmp_path)
    with FakeOpenAIServer() as srv:
        cfg = config(["--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
                      "--seeds", str(seeds), "--out", str(tmp_path / "r"), "--executor", "ray",
                      "--method_cfg.n", "2", "--method_cfg.scorer", "verifier", "--method_cfg.verifier", "nosuch"])
        with pytest.raises(DatagenError) as err:
            run(cfg)
    assert "\n" not in str(err.value) and "nosuch" in str(err.value)
    assert not list_versions(tmp_path / "r", "answer")


KILLED = textwrap.dedent("""
    import sys
    import datagen.ray.write as W

    def slow(folder, b, *args):  # pickled by value: the workers run it, then the real task
        import time
        import datagen.ray.write as real
        time.sleep(0.4 * b)
        return real.write_block(folder, b, *args)

    W.write_block = slow
    from datagen.refilter import FilterConfig, refilter
    refilter(FilterConfig(from_version=sys.argv[1], filters=["length"], executor="ray"))
""")


def test_kill_9_while_the_workers_write_shards_leaves_no_version(ray_local, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAGEN_SHARD_ROWS", "10")
    base = write_version(tmp_path / "runs", "demo", corpus(seed=5, n=200), [], {"method": "seed", "counts": {}})
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(base.path)], cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}, stderr=subprocess.DEVNULL)
    written = lambda: sum(1 for t in base.path.parent.glob(".tmp-*") for _ in t.glob("records-*.parquet"))  # noqa: E731
    deadline = time.time() + 120
    while written() < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert written() >= 3, "the workers never got to writing shards"
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
    proc.wait(timeout=30)
    assert [v.version for v in list_versions(tmp_path / "runs", "demo")] == ["v0001"]
    assert open_version(tmp_path / "runs" / "demo").version == "v0001"
    verify_version(base)
    v = refilter(FilterConfig(from_version=str(base.path), filters=["length"], executor="ray"))
    assert v.version == "v0002" and len(v.manifest()["shards"]["records"]) == len(base.files("records"))
    verify_version(v)


def test_every_command_reads_a_version_the_workers_wrote(ray_local, tmp_path, capsys):
    from datagen.cli import main
    from finetune.data import DataArgs, open_checked

    runs = tmp_path / "runs"
    base = write_version(runs, "demo", corpus(seed=3, n=60), [], {"method": "seed", "counts": {}})
    v = refilter(FilterConfig(from_version=str(base.path), filters=CLUSTER, executor="ray"))
    assert v.manifest()["written_by"] == "ray workers" and v.manifest()["counts"]["rejected"] > 0
    assert main(["verify", v.ref, "--out", str(runs)]) == 0
    capsys.readouterr()
    assert main(["show", v.ref, "--out", str(runs), "--ids"]) == 0
    ids = capsys.readouterr().out.split()
    assert ids == [r.id for r in v.records()] and len(ids) == v.manifest()["counts"]["kept"]
    assert main(["diff", base.ref, v.ref, "--out", str(runs)]) == 0
    assert f"{base.num_records() - len(ids)} removed" in capsys.readouterr().out
    out = tmp_path / "m.jsonl"
    assert main(["export", v.ref, "--runs", str(runs), "--format", "messages", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == len(ids)
    assert main(["report", v.ref, "--runs", str(runs), "--out", str(tmp_path / "r.html")]) == 0
    assert f"demo {v.version}" in (tmp_path / "r.html").read_text()
    assert [r.id for r in open_checked(DataArgs(data=v.ref, runs=str(runs)))[1]] == ids
    on_ray = refilter(FilterConfig(from_version=str(v.path), filters=["length"], executor="ray", name="r"))
    local = refilter(FilterConfig(from_version=str(v.path), filters=["length"], name="l"))
    assert [r.id for r in on_ray.records()] == [r.id for r in local.records()]
    assert on_ray.manifest()["parent"] == local.manifest()["parent"] == v.ref


def test_one_record_made_twice_across_blocks(ray_local, tmp_path):
    """Two seeds with one instruction get one answer: the same record from two blocks. Without exact
    dedup that is write_version's error on both paths; with it, both keep it once."""
    import json

    lines = [{"instruction": f"Name a river of country {i % 20}.", "input": "", "output": f"seed {i}"}
             for i in range(40)]
    seeds = tmp_path / "twice.jsonl"
    seeds.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with FakeOpenAIServer() as srv:
        common = ["--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
                  "--seeds", str(seeds), "--cache", str(tmp_path / "c.sqlite")]
        for executor in ("local", "ray"):
            with pytest.raises(DatagenError, match="duplicate record ids"):
                run(config(common + ["--out", str(tmp_path / executor), "--executor", executor], ["length"]))
            assert not list_versions(tmp_path / executor, "answer")
        local = run(config(common + ["--out", str(tmp_path / "local")]))
        on_ray = run(config(common + ["--out", str(tmp_path / "ray"), "--executor", "ray"]))
    same_run(local, on_ray)
    assert len(on_ray.records()) == 20 and on_ray.manifest()["counts"]["dropped"]["exact_duplicate"] == 20
