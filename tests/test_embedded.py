"""The real embedded teacher (llama.cpp on SmolLM2-135M-Instruct): the default `datagen generate`
end to end, the teacher contract, and resume after kill -9. Kept small: max_tokens <= 32."""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")
from datagen.backends import TeacherConfig  # noqa: E402
from datagen.versions import list_versions, open_version  # noqa: E402
from datagen.errors import DatagenError  # noqa: E402
from datagen.teacher import Request, Sampling  # noqa: E402
from cache_rows import cache_rows

try:
    from datagen.backends.embedded import EmbeddedTeacher, smollm2_path
    smollm2_path()
except DatagenError as exc:  # pragma: no cover - only without the model package
    pytest.skip(f"no embedded model: {exc}", allow_module_level=True)

SECRET = "sk-test-EMBEDDED-never-written-4242"
BIN = Path(sys.executable).parent


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATAGEN_DEBUG", "OPENAI_BASE_URL", "DATAGEN_PROGRESS")}
    env.update(extra)
    return env


# --- the default command, end to end -------------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gen")
    out = tmp / "out"
    res = subprocess.run([str(BIN / "datagen"), "generate", "--method", "answer", "--out", str(out),
                          "--method_cfg.limit", "2", "--max_tokens", "32"], cwd=tmp, capture_output=True,
                         text=True, timeout=300, env=clean_env(OPENAI_API_KEY=SECRET))
    assert res.returncode == 0, res.stderr
    return out, res


def test_generate_writes_a_complete_version(generated):
    out, res = generated
    vdir = out / "answer" / "v0001"
    assert f"wrote {vdir}" in res.stdout and "Traceback" not in res.stderr
    assert sorted(p.name for p in vdir.iterdir()) == ["README.md", "manifest.json", "records.parquet",
                                                      "rejected.parquet"]
    m = json.loads((vdir / "manifest.json").read_text())
    # full resolved config, parent, seeds sha, template shas, teacher, counts, totals, file shas, time
    assert m["config"]["method"] == "answer" and m["config"]["sampling"]["max_tokens"] == 32
    assert m["config"]["teacher"]["backend"] == "embedded" and m["config"]["seed"] == 0
    assert {k: m["method_cfg"][k] for k in ("template", "limit")} == {"template": "answer/answer", "limit": 2}
    assert m["parent"] is None and len(m["seeds"]["sha256"]) == 64 and m["seeds"]["count"] >= 2
    assert list(m["templates"]) == ["answer/answer"] and len(m["templates"]["answer/answer"]) == 64
    assert re.fullmatch(r"embedded:SmolLM2-135M-Instruct\.(Q8_0|BF16)\.gguf", m["teacher"]["name"])
    assert m["engine"]["workers"] >= 1 and m["engine"]["threads"] == 1 and m["engine"]["n_seq"] >= 2
    assert "AVX2" in m["engine"]["build"].split()
    ts = m["teacher_stats"]
    assert ts["requests"] == 2 and ts["cache_hits"] == 0 and ts["retries"] == 0
    assert ts["prompt_tokens"] > 0 and 0 < ts["completion_tokens"] <= 64
    c = m["counts"]
    assert c["generated"] == 2 and c["kept"] + c["rejected"] == 2 and isinstance(c["dropped"], dict)
    for f in ("records.parquet", "rejected.parquet"):
        assert m["files"][f] == hashlib.sha256((vdir / f).read_bytes()).hexdigest()
    assert len(m["content_sha256"]) == 64 and m["created_at"] and m["version"] == "v0001"
    card = (vdir / "README.md").read_text()
    assert card.startswith("# answer v0001") and "embedded:SmolLM2" in card and m["content_sha256"] in card


def test_version_loads_with_datasets_and_polars(generated):
    import datasets
    import polars as pl

    vdir = generated[0] / "answer" / "v0001"
    cache = str(generated[0].parent / "hf_cache")
    ds = datasets.load_dataset("parquet", data_files=str(vdir / "records.parquet"), split="train", cache_dir=cache)
    df = pl.read_parquet(vdir / "records.parquet")
    assert len(ds) == df.height == json.loads((vdir / "manifest.json").read_text())["counts"]["kept"]
    assert ds.column_names == df.columns and {"id", "instruction", "output", "lineage"} <= set(df.columns)
    assert all(o.strip() for o in df["output"].to_list())
    rej_df = pl.read_parquet(vdir / "rejected.parquet")
    assert {"reason", "stage", "detail"} <= set(rej_df.columns)
    if rej_df.height:  # `datasets` refuses an empty split ("corresponds to no data")
        rej_ds = datasets.load_dataset("parquet", data_files=str(vdir / "rejected.parquet"), split="train",
                                       cache_dir=cache)
        assert {"reason", "stage", "detail"} <= set(rej_ds.column_names)
    recs = open_version(vdir).records()
    assert [r.id for r in recs] == df["id"].to_list()
    assert all(r.lineage.teacher.startswith("embedded:") for r in recs)


def test_api_key_in_env_is_written_nowhere(generated):
    out = generated[0]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files) and any(p.name == "manifest.json" for p in files)
    for p in files:
        assert SECRET.encode() not in p.read_bytes(), p
    assert SECRET not in generated[1].stdout + generated[1].stderr


# --- the teacher contract ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def teacher():
    return EmbeddedTeacher(TeacherConfig(n_ctx=512))


def req(text, key="", **sampling):
    s = Sampling(**{"max_tokens": 12, "temperature": 0.7, "seed": 1, **sampling})
    return Request(messages=[{"role": "user", "content": text}], sampling=s, key=key)


def test_order_keys_and_on_result(teacher):
    seen = []
    out = teacher.complete([req("Say hello.", "a"), req("Name a color.", "b"), req("Count to three.", "c")],
                           on_result=lambda i, c: seen.append((i, c.key)))
    # answers in request order; on_result as each finishes (decoded together, they finish in any order)
    assert [c.key for c in out] == ["a", "b", "c"] and sorted(seen) == [(0, "a"), (1, "b"), (2, "c")]
    assert all(c.ok and c.text.strip() for c in out)
    assert all(c.usage["prompt_tokens"] > 0 and c.usage["completion_tokens"] > 0 for c in out)


def test_same_request_same_answer_whatever_ran_before(teacher):
    a = teacher.complete([req("Write a poem about rain.", max_tokens=16)])[0].text
    teacher.complete([req("Something else entirely, please.")])
    b = teacher.complete([req("Write a poem about rain.", max_tokens=16)])[0].text
    assert a == b


def test_n_choices_and_length_finish_reason(teacher):
    c = teacher.complete([req("Write a long story about a dragon.", n=2, max_tokens=4)])[0]
    assert len(c.choices) == 2 and all(ch.finish_reason == "length" for ch in c.choices)
    assert c.usage["completion_tokens"] == 8


def test_prompt_longer_than_context_is_an_error_completion(teacher):
    c = teacher.complete([req("word " * 2000), req("Say hi.")])
    assert not c[0].ok and c[0].error.startswith("bad_request") and c[1].ok
    assert teacher.stats.failed >= 1


def test_missing_gguf_is_a_clear_error(tmp_path):
    with pytest.raises(DatagenError, match="GGUF model not found"):
        EmbeddedTeacher(TeacherConfig(model=str(tmp_path / "nope.gguf")))


# --- kill -9 half-way, then resume ---------------------------------------------------------------

BASE_TASKS = ["Write a short story about a lighthouse.", "Describe a rainy day in a city.",
              "Explain how bread is made.", "Write a letter to a friend about a trip.",
              "Describe the ocean at night.", "Explain why the sky is blue.", "Write a poem about autumn leaves.",
              "Describe a busy market.", "Explain how a bicycle works.", "Write a story about a lost cat."]
# More tasks than the workers' slots (2 x 16 on 2 cores): the run is killed between waves of a batched run.
KILL_TASKS = [f"{t} (Version {k}.)" for k in range(4) for t in BASE_TASKS]




def gen_args(seeds, out, cache):
    return [sys.executable, "-m", "datagen.cli", "generate", "--method", "answer", "--seeds", str(seeds),
            "--out", str(out), "--cache", str(cache), "--max_tokens", "32", "--temperature", "0.7", "--seed", "3"]


def test_kill_9_then_resume_matches_a_clean_run(tmp_path):
    seeds = tmp_path / "tasks.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "-"}) + "\n" for t in KILL_TASKS))
    out_a, cache_a = tmp_path / "a", tmp_path / "a_cache.sqlite"
    proc = subprocess.Popen(gen_args(seeds, out_a, cache_a), cwd=tmp_path, env=clean_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while cache_rows(cache_a) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stderr = proc.stderr.read().decode()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it was killed: {stderr}"
    rows_before = cache_rows(cache_a)
    assert 3 <= rows_before < len(KILL_TASKS)
    # a killed run leaves no version, complete or half-written
    assert list_versions(out_a, "answer") == []
    assert not list(out_a.glob("answer/v*"))

    resumed = subprocess.run(gen_args(seeds, out_a, cache_a), cwd=tmp_path, env=clean_env(), capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    clean = subprocess.run(gen_args(seeds, tmp_path / "b", tmp_path / "b_cache.sqlite"), cwd=tmp_path,
                           env=clean_env(), capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr

    va, vb = open_version("answer", out_a), open_version("answer", tmp_path / "b")
    ma, mb = va.manifest(), vb.manifest()
    assert va.version == "v0001"
    ts = ma["teacher_stats"]
    assert ts["cache_hits"] >= rows_before and ts["requests"] == len(KILL_TASKS) - ts["cache_hits"]
    assert ts["requests"] >= 1  # the resumed run did finish work the killed one had not
    assert mb["teacher_stats"]["cache_hits"] == 0 and mb["teacher_stats"]["requests"] == len(KILL_TASKS)
    assert ma["run_id"] == mb["run_id"]
    assert ma["content_sha256"] == mb["content_sha256"]
    assert va.records() == vb.records() and len(va.records()) + len(va.rejected()) == len(KILL_TASKS)
