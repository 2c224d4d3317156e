"""The held-out instruction-following set: ours, deterministic, at least 400 prompts, training and
held-out kinds marked, worded only with the eval wordings, and clean of the training seeds."""
import json
import re
from collections import Counter

from datagen.constraints import HELDOUT_KINDS, TRAIN_KINDS
from datagen.constraints.phrasing import wordings
from datagen.evaluation.evalset import load_eval_set
from datagen.evaluation.heldout_set import build, heldout_path, read_tasks, to_jsonl
from datagen.record import Record
from filters.decontaminate import Decontaminate

ROOT = heldout_path().parent.parent.parent


def rows():
    return [json.loads(line) for line in heldout_path().read_text(encoding="utf-8").splitlines()]


def test_the_committed_file_is_what_the_builder_makes():
    assert to_jsonl(build(read_tasks())) == heldout_path().read_text(encoding="utf-8")


def test_size_marks_and_kinds():
    s = load_eval_set(heldout_path())
    assert len(s.prompts) >= 400 and s.format == "datagen"
    marks = Counter(r["kinds"] for r in rows())
    assert marks["train"] >= 200 and marks["heldout"] >= 200 and set(marks) == {"train", "heldout"}
    for r, p in zip(rows(), s.prompts):
        allowed = TRAIN_KINDS if r["kinds"] == "train" else HELDOUT_KINDS
        assert 1 <= len(p.constraints) <= 3 and all(c.kind in allowed for c in p.constraints), r["id"]
    used = {c.kind for p in s.prompts for c in p.constraints}
    assert used == set(TRAIN_KINDS) | set(HELDOUT_KINDS)


def test_tasks_are_ours_not_the_seeds_nor_the_bundled_set():
    tasks = read_tasks()
    assert len(tasks) >= 200 and len(set(tasks)) == len(tasks)
    seeds = {json.loads(line)["instruction"].lower() for line in (ROOT / "seeds" / "tasks.jsonl").open()}
    bundled = [json.loads(line)["prompt"].lower() for line in (ROOT / "prompts" / "eval" / "ifeval.jsonl").open()]
    assert not [t for t in tasks if t.lower() in seeds or any(t.lower() in b for b in bundled)]


def test_no_training_wording_appears_in_the_prompts():
    # a training wording with its placeholders as wildcards must match no prompt
    train = [t for e in wordings("train").values() for t in (e if isinstance(e, list) else sum(e.values(), []))]
    patterns = [re.compile(".*".join(re.escape(part) for part in re.split(r"\{\{.*?\}\}", t))) for t in train]
    assert not [(r["id"], p.pattern) for r in rows() for p in patterns if p.search(r["prompt"])]


def test_13_gram_decontaminated_against_the_seeds():
    seeds = [json.loads(line) for line in (ROOT / "seeds" / "tasks.jsonl").open()]
    records = [Record.make(s["instruction"], i.get("input", ""), i.get("output"))
               for s in seeds for i in (s.get("instances") or [{}])]
    assert len(records) >= 50
    assert Decontaminate(eval_sets=[str(heldout_path())])(records) == [None] * len(records)
