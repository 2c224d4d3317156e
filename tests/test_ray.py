"""`--executor ray` on a local Ray (num_cpus=2) gives the same kept ids as `--executor local` on the
same input and cache; without Ray installed it is a one-line error naming the extra."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from datagen.cli import load_run_config
from datagen.run import run
from fake_openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parent.parent


def task_text(i: int, changed: bool = False) -> str:
    """About 60 words, different for every i; `changed` swaps one word in the middle."""
    rng = random.Random(i)
    words = [rng.choice(VOCAB) for _ in range(60)]
    if changed:
        words[30] = "zeppelin"
    return f"Write about city {i}: " + " ".join(words) + "."


VOCAB = [f"{a}{b}" for a in ("har", "mar", "bri", "tow", "gar", "riv", "bak", "fes") for b in
         ("bour", "ket", "dge", "er", "den", "al", "ery", "tival", "ton", "wick")]


def seed_file(tmp_path: Path) -> Path:
    """42 tasks: 30 distinct, 6 exact repeats (collapsed at load) and 6 near-duplicates that differ
    in one word of about 60 (word 5-gram Jaccard about 0.85, over the 0.75 default)."""
    lines = [{"instruction": task_text(i % 30), "input": "", "output": "x"} for i in range(36)]
    lines += [{"instruction": task_text(i, changed=True), "input": "", "output": "x"} for i in range(6)]
    p = tmp_path / "seeds.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return p


def test_generation_and_minhash_on_ray_equal_local(ray_local, tmp_path):
    seeds = seed_file(tmp_path)
    with FakeOpenAIServer() as srv:
        common = ["--method", "answer", "--teacher", "openai", "--base-url", srv.url, "--model", "fake-model",
                  "--seeds", str(seeds), "--cache", str(tmp_path / "cache.sqlite")]
        local = run(load_run_config(common + ["--out", str(tmp_path / "local")] + ["--filters", "exact_dup,minhash"]))
        posts_after_local = srv.posts
        on_ray = run(load_run_config(common + ["--out", str(tmp_path / "ray"), "--executor", "ray",
                                               "--filters", "exact_dup,minhash"]))
        assert srv.posts == posts_after_local  # same cache: the Ray run asked nothing again
        fresh = run(load_run_config(common[:-2] + ["--cache", str(tmp_path / "fresh.sqlite"), "--out",
                                                   str(tmp_path / "fresh"), "--executor", "ray",
                                                   "--filters", "exact_dup,minhash"]))
    local_ids = [r.id for r in local.records()]
    assert local_ids == [r.id for r in on_ray.records()] == [r.id for r in fresh.records()]
    m_local, m_fresh = local.manifest(), fresh.manifest()
    assert m_local["funnel"] == m_fresh["funnel"]
    assert m_fresh["teacher_stats"]["requests"] == 42 - 6  # exact repeats collapse at load
    dropped = m_local["counts"]["dropped"]
    assert dropped.get("near_duplicate", 0) == 6  # the planted rewordings were found
    assert on_ray.manifest()["teacher_stats"]["cache_hits"] == m_fresh["teacher_stats"]["requests"]


def test_missing_ray_is_one_line_error(tmp_path):
    fake = tmp_path / "noray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "noray"))
    proc = subprocess.run([sys.executable, "-m", "datagen.cli", "generate", "--method", "answer", "--executor",
                           "ray", "--out", str(tmp_path / "runs")], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == ["datagen: error: --executor ray needs the ray extra (pip install 'datagen[ray]')"]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("*/v*"))


def test_filter_command_on_ray_equals_local(ray_local, tmp_path):
    from datagen.versions import write_version
    from datagen.refilter import FilterConfig, refilter
    from datagen.record import Record

    recs = [Record.make(task_text(i % 50, changed=i >= 50), "", f"Answer {i % 50}: " + task_text(i % 50 + 100))
            for i in range(60)]
    recs += [Record.make("Say hi.", "", "As an AI language model, I cannot do that.")]
    unique = list({r.id: r for r in recs}.values())
    base = write_version(tmp_path / "runs", "demo", unique, [], {"method": "seed", "counts": {}})
    specs = ["exact_dup", "minhash", "quality"]
    local = refilter(FilterConfig(from_version=str(base.path), filters=specs))
    on_ray = refilter(FilterConfig(from_version=str(base.path), filters=specs, executor="ray"))
    assert [r.id for r in local.records()] == [r.id for r in on_ray.records()]
    key = lambda v: sorted((j.record.id, j.reason, j.detail) for j in v.rejected())  # noqa: E731
    assert key(local) == key(on_ray) and len(key(local)) >= 10
    assert local.manifest()["funnel"] == on_ray.manifest()["funnel"]


def test_magpie_on_ray_reads_the_servers_template_like_local(ray_local, tmp_path):
    """The Ray teacher forwards its actors' backend's capabilities (raw completions, the chat template
    from GET /props), so magpie needs no method_cfg.chat_template there either."""
    from datagen.cli import main
    from test_magpie import magpie_reply

    with FakeOpenAIServer(reply=magpie_reply) as srv:
        common = ["generate", "--method", "magpie", "--teacher", "openai", "--base-url", srv.url, "--model", "m",
                  "--method_cfg.num_conversations", "5", "--method_cfg.num_turns", "2"]
        assert main(common + ["--out", str(tmp_path / "local")]) == 0
        assert main(common + ["--out", str(tmp_path / "ray"), "--executor", "ray"]) == 0
    from datagen.versions import open_version
    local, on_ray = open_version("magpie", tmp_path / "local"), open_version("magpie", tmp_path / "ray")
    assert [r.id for r in local.records()] == [r.id for r in on_ray.records()] and len(local.records()) >= 3
    assert on_ray.manifest()["method_stats"]["template_source"] == "the teacher's chat template"
