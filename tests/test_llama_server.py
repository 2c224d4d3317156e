"""The openai teacher against a REAL OpenAI-compatible server: llama.cpp's (`python -m llama_cpp.server`)
on the SmolLM2-135M GGUF, started once for this module on a free loopback port."""
import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from datagen.backends import TeacherConfig
from datagen.backends.embedded import smollm2_path
from datagen.backends.openai_compat import OpenAICompatTeacher
from datagen.cli import load_run_config
from datagen.progress import Progress
from datagen.run import run
from datagen.teacher import Request, Sampling

pytestmark = pytest.mark.slow
SERVER_DEPS = ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    missing = [m for m in SERVER_DEPS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"llama-cpp-python[server] not installed ({', '.join(missing)})")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path()),
                                 "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"],
                                stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({proc.returncode}): {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if json.load(r)["data"]:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not come up in 90 s: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_answer_run_through_the_real_server(llama_server, tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "x"}) + "\n"
                             for t in ("Name a primary color.", "What is 2 + 2?", "Name a planet.")))
    cfg = load_run_config(["--method", "answer", "--teacher", "openai", "--base-url", llama_server,
                           "--model", "smollm2", "--seeds", str(seeds), "--out", str(tmp_path / "runs"),
                           "--max_tokens", "16", "--temperature", "0.2", "--seed", "1", "--timeout", "120"])
    version = run(cfg, progress=Progress(enabled=False))
    m = version.manifest()
    s = m["teacher_stats"]
    assert (s["requests"], s["succeeded"], s["failed"]) == (3, 3, 0)
    assert m["teacher"]["name"] == "openai:smollm2" and s["completion_tokens"] > 0
    records = version.records()
    assert len(records) == 3 and all(len(r.output.split()) >= 2 for r in records)
    assert all(r.meta["finish_reason"] in ("stop", "length") for r in records)


def test_n_is_fanned_out_on_llama_cpp(llama_server):
    """llama.cpp's server ignores n: the teacher asks again for the missing choices."""
    t = OpenAICompatTeacher(TeacherConfig(backend="openai", model="smollm2", base_url=llama_server, timeout=120))
    [c] = t.complete([Request(messages=[{"role": "user", "content": "Say a word."}],
                              sampling=Sampling(max_tokens=8, temperature=0.8, n=2, seed=3))])
    assert c.ok and len(c.choices) == 2 and all(ch.text.strip() for ch in c.choices)
    assert c.choices[0].finish_reason in ("stop", "length")


def test_main_job_recipe_runs_unchanged_on_the_real_server(llama_server, tmp_path):
    """The Self-Instruct preset, only the teacher switched (and the run made small)."""
    cfg = load_run_config(["--teacher", "openai", "--base-url", llama_server, "--model", "smollm2",
                           "--out", str(tmp_path / "runs"), "--timeout", "120",
                           "--method_cfg.num_instructions", "3", "--method_cfg.prompts_per_round", "2",
                           "--method_cfg.max_rounds", "2"])
    assert cfg.method == "self_instruct" and cfg.teacher.endpoint == "completions"
    version = run(cfg, progress=Progress(enabled=False))
    m = version.manifest()
    s = m["teacher_stats"]
    assert s["requests"] >= 2 and s["failed"] == 0 and s["completion_tokens"] > 0
    assert m["counts"]["generated"] >= 1
    assert m["counts"]["kept"] + m["counts"]["rejected"] == m["counts"]["generated"]
    assert m["method_stats"]["rounds"]
    for r in version.records():
        assert r.lineage.teacher == "openai:smollm2" and r.lineage.method == "self_instruct"
        assert r.output and r.lineage.template_sha
