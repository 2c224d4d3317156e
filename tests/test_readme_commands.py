"""Issue 18, point 1 (and issue 26, point 6): every command in the bash blocks of README.md and of every
docs/**/*.md page runs, in order (readme_commands.pages: README first, then docs in a fixed order), as
written, and exits 0.

The teacher is the fake OpenAI server with the scripted teacher of the pinned tests; the student is the
tiny model built here. What is skipped, stood in for or appended is listed in tests/readme_commands.py
(SKIP, STAND_IN, SMALLER) and printed with each step. The commands run in a fresh folder that links the
checkout's files (prompts/, seeds/, datagen/recipes ...), so runs/, adapters/ and evals/ start empty.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import readme_commands as rc
from extras import needs
from fake_openai_server import FakeOpenAIServer
from scripted_teacher import scripted_reply
from tiny_model import build_tiny_model

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = rc.script(ROOT)
OUTPUTS = {"runs", "adapters", "evals", ".git"}
ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\$\(.*\)|\S*)$")


def workdir(tmp: Path) -> Path:
    """A folder holding links to the checkout's files, without its runs/, adapters/ or evals/."""
    here = tmp / "checkout"
    here.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in OUTPUTS:
            (here / entry.name).symlink_to(entry)
    return here


def shell_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DATAGEN_PROGRESS"] = "0"
    env["DATAGEN_MODEL_CACHE"] = str(tmp / "model-cache")
    env.pop("OPENAI_API_KEY", None)
    return env


def run_step(cmd: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """One README line in bash. `NAME=value` lines set NAME for the lines after it, as in a shell."""
    m = ASSIGN.match(cmd)
    script = f'{cmd}\nprintf "%s" "${m.group(1)}"' if m else cmd
    proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if m and proc.returncode == 0:
        env[m.group(1)] = proc.stdout
    return proc


def test_the_script_is_read_from_the_readme_and_the_docs():
    texts = [s.text for s in SCRIPT]
    assert sum(t.startswith("datagen ") for t in texts) >= 30, texts
    assert "datagen versions" in texts
    assert [s.page for s in SCRIPT[:2]] == ["README.md", "README.md"] and SCRIPT[0].text.startswith("make run")
    assert {"README.md", "docs/training.md", "docs/evaluation.md"} <= {s.page for s in SCRIPT}
    # continuations are joined and trailing comments dropped
    assert any(t.startswith("datagen generate --method answer --teacher openai") and "--timeout 120" in t
               for t in texts)
    assert not any("#" in t for t in texts if t.startswith("datagen "))


def test_every_page_of_the_order_exists_and_every_docs_page_is_run():
    assert [p for p in rc.ORDER if not (ROOT / p).is_file()] == []
    on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert on_disk <= set(rc.pages(ROOT)) and rc.pages(ROOT)[0] == "README.md"


@pytest.mark.parametrize("key", list(rc.SKIP) + list(rc.STAND_IN))
def test_every_marker_names_a_line(key):
    assert any(s.text.startswith(key) for s in SCRIPT), f"marker {key!r} matches no README or docs line"


def test_every_readme_command_runs_in_order(tmp_path):
    needs("train", "semantic", "toxicity", "ray", "report")  # the commands use every extra
    here = workdir(tmp_path)
    tiny = build_tiny_model(tmp_path / "tiny")
    env = shell_env(tmp_path)
    log = []
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        for step in SCRIPT:
            where = f"{step.page}:{step.line}"
            if step.action == "skip":
                log.append(f"{where} skipped ({step.why}): {step.text}")
                continue
            cmd = rc.command_of(step, srv.url, str(tiny))
            proc = run_step(cmd, here, env)
            log.append(f"{where} rc={proc.returncode}: {cmd}")
            assert proc.returncode == 0, (
                f"{where} failed (exit {proc.returncode}):\n  as written: {step.text}\n"
                f"  run as: {cmd}\n--- stderr ---\n{proc.stderr[-3000:]}\n--- stdout ---\n{proc.stdout[-1500:]}")
    print("\n".join(log))
    assert (here / "runs" / "self_instruct" / "v0001" / "manifest.json").exists()
