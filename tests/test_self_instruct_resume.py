"""Self-Instruct on the real embedded model: kill -9 during round 2, run again; the rerun asks the
teacher only for what the killed run had not finished and ends with the same records as a clean run."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("llama_cpp")
from extras import needs  # noqa: E402

needs("embedded")  # the preset runs on the embedded SmolLM2 teacher
from datagen.versions import open_version  # noqa: E402
from cache_rows import cache_rows

# Tiny on purpose: 1 prompt a round and at most 2 new tasks from it, so 3 tasks need >= 2 rounds.
ARGS = ["--method_cfg.num_instructions", "3", "--method_cfg.prompts_per_round", "1",
        "--method_cfg.max_new_per_prompt", "2", "--method_cfg.max_rounds", "4",
        "--method_cfg.gen_max_tokens", "48", "--method_cfg.instance_max_tokens", "32", "--seed", "7"]




def generate(tmp_path, out, cache, popen=False):
    env = {k: v for k, v in os.environ.items() if k not in ("DATAGEN_DEBUG", "DATAGEN_PROGRESS")}
    cmd = [sys.executable, "-m", "datagen.cli", "generate", "--out", str(out), "--cache", str(cache), *ARGS]
    if popen:
        return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return open_version("self_instruct", out).manifest()


def test_kill_9_in_round_2_then_resume(tmp_path):
    clean = generate(tmp_path, tmp_path / "clean", tmp_path / "clean.sqlite")
    rounds = clean["method_stats"]["rounds"]
    total = clean["teacher_stats"]["requests"]
    assert len(rounds) >= 2 and clean["teacher_stats"]["cache_hits"] == 0
    assert sum(r["requests"] for r in rounds) == total
    in_round_2 = rounds[0]["requests"] + 1

    cache = tmp_path / "killed.sqlite"
    proc = generate(tmp_path, tmp_path / "killed", cache, popen=True)
    deadline = time.monotonic() + 300
    while cache_rows(cache) < in_round_2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done = cache_rows(cache)
    assert rounds[0]["requests"] < done < total  # killed after round 1, before the end

    resumed = generate(tmp_path, tmp_path / "killed", cache)
    ts = resumed["teacher_stats"]
    assert ts["cache_hits"] == done and ts["requests"] == total - done
    assert resumed["content_sha256"] == clean["content_sha256"]
    assert json.dumps(resumed["method_stats"], sort_keys=True) == json.dumps(clean["method_stats"], sort_keys=True)
