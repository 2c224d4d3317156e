"""What `datagen review` writes and reports, without a browser: three annotators' pair labels become a pair
version by majority (ties and three-way splits left out, randomized sides undone), their Fleiss' kappa and
human-judge agreement (hand-computed) show in `datagen review --summary` and `datagen report`; records-mode
actions fold into a child version (clear undoes, an accepted rejected row comes back, an exact duplicate
stays out); bad input is one line and exit 2."""
from __future__ import annotations

import pytest

from datagen.cli import main
from datagen.record import Lineage, Record
from datagen.review import open_target
from datagen.review.pairs import sides
from datagen.review.state import Review
from datagen.versions import Rejection, open_version, write_version
from tiny_model import QA, WORSE

C, R, T = "chosen", "rejected", "tie"
VOTES = {"x": [C, C, T, C], "y": [C, R, T, R], "z": [C, R, C, T]}


def press(review: Review, n: int, choice: str) -> None:
    """Label item n with the key that names `choice`, whatever side it is shown on."""
    it = review.queue[n]
    a, _ = sides(it.key, review.seed)
    letter = "tie" if choice == T else ("A" if it.answers[a][0] == choice else "B")
    review.label("pairs", n, {"label": letter, "ms": 900})


@pytest.fixture()
def pairs(tmp_path):
    lin = Lineage(method="self_align")
    write_version(tmp_path / "runs", "toy", [Record.make(q, output=a, rejected=w, lineage=lin)
                                             for (q, a), w in zip(QA[:4], WORSE)], [], {"method": "self_align"})
    target = open_target("toy", tmp_path / "runs", tmp_path / "evals")
    for who, choices in VOTES.items():
        review = Review(target, who, "pairs")
        for n, c in enumerate(choices):
            press(review, n, c)
    return tmp_path, target


def test_majority_labels_become_a_pair_version(pairs):
    root, target = pairs
    v = Review(target, "x", "pairs").commit("pairs")
    recs = {r.instruction: r for r in v.records()}
    q = [item.record.instruction for item in Review(target, "x", "pairs").queue]
    assert set(recs) == {q[0], q[1]}  # item 2: a tie by majority, item 3: one vote each
    assert recs[q[0]].output in dict(QA).values() and recs[q[1]].output in WORSE  # item 1 flipped by 2 of 3
    m = v.manifest()
    assert m["human"]["annotators"] == ["x", "y", "z"] and m["counts"]["kept"] == 2
    assert m["human"]["tie"] == 1 and m["human"]["undecided"] == 1


def test_agreement_in_summary_and_report(pairs, capsys):
    root, _ = pairs
    assert main(["review", "toy", "--runs", str(root / "runs"), "--summary"]) == 0
    out = capsys.readouterr().out
    # Fleiss: P_i 1, 1/3, 1/3, 0 -> 5/12; p = .5, .25, .25 -> P_e = .375; kappa = (5/12 - 3/8) / (5/8) = 1/15
    assert "pairs: 3 annotator(s) (x, y, z), 4 items decided; Fleiss' kappa 0.07 (4 items)" in out
    # the judge (the pair's chosen side): 6 of 12 votes agree; without ties 6 of 9
    assert "human-judge agreement: 50% (12 vote pairs) with ties, 67% (9 vote pairs) without" in out
    # human-human: per item 3 pairs: 3 + 1 + 1 + 0 = 5 of 12; without ties: 3 + 1 + 0 + 0 of 3 + 3 + 0 + 1 = 4/7
    assert "human-human agreement: 42% (12 vote pairs) with ties, 57% (7 vote pairs) without" in out
    assert "median 0.9 s from an item shown to its label (12 labels, 67 items a minute)" in out  # ms 900 each
    html = root / "r.html"
    assert main(["report", "toy", "--runs", str(root / "runs"), "--out", str(html)]) == 0
    page = html.read_text()
    assert 'data-review="pairs"' in page and "Fleiss 0.07 (4)" in page and "50% (12 vote pairs)" in page


def test_records_actions_fold_into_a_child_version(tmp_path):
    lin = Lineage(method="self_instruct")
    kept = [Record.make(f"Task {i}", output=f"Answer {i}", lineage=lin) for i in range(3)]
    rejected = [Rejection(Record.make("Task 9", output="Answer 9", lineage=lin), "too_short", "filter:quality"),
                Rejection(kept[2], "near_duplicate", "filter:minhash", kept[2].id)]
    write_version(tmp_path / "runs", "plain", kept, rejected, {"method": "self_instruct"})
    review = Review(open_target("plain", tmp_path / "runs"), "ann", "records")
    review.record_action(0, {"action": "reject", "reason": "wrong"})
    review.record_action(0, {"action": "clear"})  # changed their mind
    review.record_action(1, {"action": "edit", "output": "Answer one, better."})
    review.record_action(3, {"action": "accept"})  # the too_short row comes back
    review.record_action(4, {"action": "accept"})  # an exact duplicate of a kept record: stays out
    with pytest.raises(ValueError, match="needs a reason"):
        review.record_action(2, {"action": "reject", "reason": "  "})
    child = review.commit("records")
    outs = [r.output for r in child.records()]
    assert outs == ["Answer 0", "Answer one, better.", "Answer 2", "Answer 9"] and child.rejected() == []
    h = child.manifest()["human"]
    assert h["edited"] == 1 and h["accepted_from_rejected"] == 1 and h["duplicates_left_out"] == 1
    assert open_version("plain", tmp_path / "runs").ref == "plain/v0002"


@pytest.mark.parametrize("args, message", [
    (["nope"], "dataset version not found: nope"),
    (["plain", "--mode", "blind"], "cannot be reviewed in blind mode"),
    (["plain", "--mode", "sideways"], "--mode must be one of"),
    (["plain", "--annotator", "../x"], "invalid annotator"),
    (["plain", "--commit", "--annotator", "ann"], "nothing to commit"),
    (["plain", "--guidelines", "missing.md"], "--guidelines file not found"),
    (["plain", "--port", "70000"], "port"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    write_version(tmp_path / "runs", "plain", [Record.make("Task", output="Answer")], [], {"method": "x"})
    assert main(["review", *args, "--runs", str(tmp_path / "runs"), "--evals", str(tmp_path / "evals")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datagen: error: ") and message in err and err.count("\n") == 1


def test_best_of_n_pairs_and_the_queue_puts_close_scores_first(tmp_path):
    seed = Record.make("Name a colour.")
    lin = Lineage(method="answer", parents=(seed.id,))
    best = Record.make("Name a colour.", output="Blue.", lineage=lin, meta={"score": 0.9})
    losers = [Rejection(Record.make("Name a colour.", output=o, lineage=lin, meta={"score": s}), "not_best",
                        "best_of_n", "") for o, s in (("Bleu?", 0.5), ("Navy blue.", 0.85))]
    write_version(tmp_path / "runs", "bon", [best], losers, {"method": "answer"})
    review = Review(open_target("bon", tmp_path / "runs"), "ann", "pairs")
    (item,) = review.queue
    assert item.answers == (("best", "Blue."), ("candidate", "Navy blue.")) and item.gap == pytest.approx(0.05)
    sides_meta = [{"chosen": {"score": c}, "rejected": {"score": r}} for c, r in ((9, 1), (6, 5), (8, 4))]
    write_version(tmp_path / "runs", "scored", [Record.make(f"Q{i}", output="good", rejected="bad", meta=m)
                                                for i, m in enumerate(sides_meta)], [], {"method": "self_align"})
    queue = Review(open_target("scored", tmp_path / "runs"), "ann", "pairs").queue
    assert [it.prompt for it in queue] == ["Q1", "Q2", "Q0"]  # gaps 1, 4, 8


def test_going_back_and_relabelling_keeps_the_latest_label(pairs):
    _, target = pairs
    review = Review(target, "x", "pairs")
    press(review, 0, R)  # x said chosen on item 0 before: now rejected
    assert review.labels("pairs")[review.queue[0].key]["x"] == R
    assert review.pair("pairs", 0)["label"] in ("A", "B") and review.pair_state("pairs")["position"] == 4
