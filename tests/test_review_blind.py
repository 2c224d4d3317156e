"""`datagen review` blind mode on a `datagen eval` (issue 28): the models' names stay hidden while a person
labels in Chromium, the order-flipped item comes first, and at the end the human win rate (with its 95%
interval) stands beside the judge's on the same items and on all prompts; `datagen compare` prints the
same figures with human-judge agreement in MT-Bench's two forms, checked against hand-computed values."""
from __future__ import annotations

import json

import pytest

from datagen.cli import main
from datagen.evaluation.store import write_eval
from review_app import ReviewServer, chromium_page, needs_chromium, open_app

STUDENT, BASE = "student-alpha", "base-model-x"
# per prompt: the judge's outcome for the student and why; the flipped one (p1) is queued first
JUDGE = [("win", "consistent"), ("tie", "order_flip"), ("loss", "consistent"), ("win", "consistent"),
         ("tie", "judge_tie"), ("win", "consistent")]
# what the person picks on each prompt: 4 student, 1 tie, 1 base
HUMAN = ["student", "tie", "student", "student", "base", "student"]


def eval_rows() -> list[dict]:
    rows = []
    for i, (outcome, reason) in enumerate(JUDGE):
        common = {"set": "eval", "prompt_id": f"p{i}", "prompt": f"Prompt number {i}: say something.",
                  "finish_reason": "stop", "checks": "[]", "strict": True, "loose": True}
        verdict = {"against": BASE, "verdict_ab": "", "verdict_ba": "", "parsed_ab": "", "parsed_ba": "",
                   "outcome": outcome, "reason": reason}
        rows.append({**common, "model": STUDENT, "answer": f"student answer {i}", "judge": json.dumps([verdict])})
        rows.append({**common, "model": BASE, "answer": f"base answer {i}", "judge": "[]"})
    return rows


def ci(m):
    return {"mean": m, "ci95": [m - 0.1, m + 0.1], "n": 6}


@pytest.fixture()
def evals(tmp_path):
    ifs = {"prompt_strict": ci(0.5), "prompt_loose": ci(0.5), "instruction_strict": ci(0.5)}
    summary = {"eval_set": {"name": "toy", "scored": 6},
               "models": {STUDENT: {"role": "student", "if": ifs}, BASE: {"role": "base", "if": ifs}},
               "pairs": [{"a": STUDENT, "b": BASE, "kind": "base", "wins": 3, "ties": 2, "losses": 1, "n": 6,
                          "win_rate": 4 / 6, "ci95": [0.42, 0.92]}]}
    folder = write_eval(tmp_path / "evals", "toy", eval_rows(), summary, {"models": []})
    return tmp_path, folder


@needs_chromium
def test_blind_labelling_hides_names_then_shows_win_rates(evals, capsys):
    root, folder = evals
    with chromium_page() as (page, problems), ReviewServer(["toy/e0001", "--annotator", "eve"], root) as srv:
        open_app(page, srv.url)
        page.wait_for_selector("#pair-pos[data-n='1']")
        first_prompt = page.inner_text("#prompt")
        while_labelling = []
        for n in range(len(JUDGE)):
            page.wait_for_selector(f"#pair-pos[data-n='{n + 1}']")
            while_labelling.append(page.content())
            i = int(page.inner_text("#prompt").split()[2].rstrip(":"))
            want = HUMAN[i]
            a = page.inner_text("#text-a")
            key = "t" if want == "tie" else ("a" if a.startswith(want) else "b")
            page.keyboard.press(key)
        page.wait_for_selector("#blind-results table")
        results = page.inner_text("#blind-results")
        page.keyboard.press("k")  # the agreement overlay
        page.wait_for_selector("#summary:not([hidden])")
        overlay = page.inner_text("#summary-body")
        assert problems == [], problems
    assert first_prompt.startswith("Prompt number 1:")  # the judge flipped on p1 under the order swap
    assert not any(STUDENT in t or BASE in t for t in while_labelling)
    assert f"{STUDENT} vs {BASE}" in results
    # human: (4 + 0.5 + 0) / 6 = 75.0%; judge on the same items: (1 + .5 + 0 + 1 + .5 + 1) / 6 = 66.7%
    assert "75.0%" in results and "66.7%" in results
    assert "human-judge agreement, ties counted\t66.7% (6 vote pairs)" in overlay
    assert "human-judge agreement, ties excluded\t75.0% (4 vote pairs)" in overlay

    assert main(["compare", "--out", str(root / "evals")]) == 0
    out = capsys.readouterr().out
    assert "human review, blind: 1 annotator(s) (eve), 6 items decided" in out
    assert f"{STUDENT} vs {BASE}: human win rate 75.0% [" in out and "judge 66.7% [" in out
    # agreement: ties counted, p0 p1 p3 p5 agree: 4/6; ties excluded: p0 p2 p3 p5 remain, p2 disagrees: 3/4
    assert "human-judge agreement: 67% (6 vote pairs) with ties, 75% (4 vote pairs) without" in out
