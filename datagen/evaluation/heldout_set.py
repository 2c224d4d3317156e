"""The held-out instruction-following set (prompts/eval/heldout_if.jsonl): our own everyday tasks
(prompts/eval/heldout_tasks.txt), each asked twice, once with 1-3 constraints of the training kinds and
once with 1-2 of the held-out kinds (never used for training), all worded with the EVAL wordings
(prompts/constraints/eval.yaml, disjoint from training's). Deterministic: the same tasks and seed give
the same bytes, which tests/test_heldout_if.py checks against the committed file.

    python -m datagen.evaluation.heldout_set          # rewrite prompts/eval/heldout_if.jsonl
    build(["Describe a lake."])[1] -> {"id": "ho-0002", "prompt": "Describe a lake. ...", "kinds": "heldout", ...}
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from datagen.assets import asset_dir
from datagen.constraints import HELDOUT_KINDS, TRAIN_KINDS, phrase, sample
from datagen.templates import load_template

SEED = 25  # issue 25
# (which kinds, most constraints a prompt gets): 1-3 as IFEval and the training prompts; held-out kinds
# are fewer (8), so at most two of them go together.
PLAN = (("train", TRAIN_KINDS, 3), ("heldout", HELDOUT_KINDS, 2))


def tasks_path() -> Path:
    return asset_dir("prompts") / "eval" / "heldout_tasks.txt"


def heldout_path() -> Path:
    return asset_dir("prompts") / "eval" / "heldout_if.jsonl"


def read_tasks(path: Path | None = None) -> list[str]:
    lines = (path or tasks_path()).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def build(tasks: list[str], seed: int = SEED) -> list[dict]:
    """Two rows per task (training kinds, then held-out kinds), ids ho-0001, ho-0002, ..."""
    rng = random.Random(seed)
    tmpl = load_template("eval/heldout_prompt")
    rows = []
    for task in tasks:
        for split, kinds, most in PLAN:
            cs = sample(rng, rng.randint(1, most), kinds)
            text = tmpl.render_text(task=task, constraints=[phrase(c, rng, "eval") for c in cs])
            rows.append({"id": f"ho-{len(rows) + 1:04d}", "prompt": text, "kinds": split,
                         "constraints": [c.to_dict() for c in cs]})
    return rows


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> int:
    text = to_jsonl(build(read_tasks()))
    heldout_path().write_text(text, encoding="utf-8")
    print(f"wrote {heldout_path()} ({text.count(chr(10))} prompts)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
