"""datagen select: exactly N chosen in a seeded order, no two chosen closer than the threshold, the
rest rejected as not_selected with their scores; the teacher scorer through the fake OpenAI server."""
import itertools

import numpy as np
import pytest

from extras import requires

from datagen.cli import main
from datagen.versions import open_version, write_version
from datagen.record import Lineage, Record
from datagen.select.greedy import choose, order_by_score
from datagen.select.scorers import mtld

TOPICS = ["the capital of France", "how photosynthesis works", "the boiling point of water", "why the sky is blue",
          "the tallest mountain on Earth", "how a bicycle gear works", "the meaning of the word ephemeral",
          "the rules of chess castling", "how vaccines train the immune system", "the history of the printing press"]
PHRASES = ["Explain {}.", "Please explain {}.", "Explain {} to me."]  # paraphrases: MiniLM cosine 0.97-0.99


def words(n):
    return " ".join(f"w{i}" for i in range(n))


def records():
    """Topic t, paraphrase k: the longer answers sit in the first topics, three alike each."""
    lin = Lineage(method="self_instruct")
    return [Record.make(p.format(t), output=words(100 - 3 * ti - k), lineage=lin, meta={"tk": [ti, k]})
            for ti, t in enumerate(TOPICS) for k, p in enumerate(PHRASES)]


@pytest.fixture()
def runs(tmp_path):
    write_version(tmp_path / "runs", "pool", records(), [], {"method": "self_instruct"})
    return tmp_path / "runs"


def select(runs, *extra):
    return main(["select", "--from", "pool/v0001", "--out", str(runs), *map(str, extra)])


@requires("semantic")
def test_select_keeps_n_distinct_longest_and_rejects_the_rest(runs, capsys):
    assert select(runs, "--budget", 8, "--seed", 0, "--threshold", 0.9) == 0
    assert "chose 8 of 30 by length" in capsys.readouterr().out
    v = open_version("pool/v0002", runs)
    chosen = v.records()
    # without the diversity pass the 8 longest would be topics 0,0,0,1,1,1,2,2: with it, one per topic
    assert [tuple(r.meta["tk"]) for r in chosen] == [(t, 0) for t in range(8)]
    assert [r.meta["select_score"] for r in chosen] == sorted((r.meta["select_score"] for r in chosen), reverse=True)
    from filters.semantic import load_model

    emb = load_model("bundled").encode([r.instruction for r in chosen], normalize_embeddings=True)
    sims = emb @ emb.T
    assert sims[~np.eye(len(chosen), dtype=bool)].max() <= 0.9  # no two chosen closer than the threshold
    rejected = v.rejected()
    assert len(rejected) == 22 and {r.reason for r in rejected} == {"not_selected"}
    assert all(r.record.meta["select_score"] == r.record.meta["output_words"] for r in rejected)
    similar = [r for r in rejected if r.detail.startswith("similar to")]
    assert {tuple(r.record.meta["tk"]) for r in similar} == {(t, k) for t in range(7) for k in (1, 2)}
    m = v.manifest()
    assert m["parent"] == "pool/v0001" and m["method"] == "select"
    assert m["selection"]["similar"] == 14 and m["selection"]["over_budget"] == 8


def test_same_seed_same_order_and_all_when_fewer(runs, tmp_path):
    for out in ("a", "b"):
        assert main(["select", "--from", str(runs / "pool" / "v0001"), "--budget", "5", "--seed", "7", "--scorer",
                     "lexical", "--threshold", "1", "--out", str(tmp_path / out), "--name", "sel"]) == 0
    ids = [[r.id for r in open_version("sel", tmp_path / out).records()] for out in ("a", "b")]
    assert ids[0] == ids[1] and len(ids[0]) == 5
    assert select(runs, "--budget", 100, "--seed", 0, "--threshold", 1) == 0
    assert len(open_version("pool/v0002", runs).records()) == 30


def test_order_by_score_breaks_ties_by_seed():
    scores = [1.0, 3.0, None, 3.0, 3.0, 2.0]
    orders = {tuple(order_by_score(scores, seed)) for seed in range(20)}
    assert len(orders) > 1 and all(o[3:] == (5, 0, 2) and set(o[:3]) == {1, 3, 4} for o in orders)
    assert order_by_score(scores, 4) == order_by_score(scores, 4)


def test_choose_skips_what_is_close_to_a_chosen_one():
    emb = np.eye(3, dtype=np.float32)[[0, 0, 1, 2]]
    assert choose(emb, [0, 1, 2, 3], 2, 0.9) == ([0, 2], {1: (0, 1.0)})
    assert choose(None, [3, 1, 0], 2, 0.9) == ([3, 1], {})


def test_mtld_prefers_varied_words():
    assert mtld("") == 0.0
    varied = "the quick brown fox jumps over a lazy dog while seven wise owls watch quietly from old trees"
    assert mtld(varied) > mtld(" ".join(["the cat sat"] * 6)) > 0


@pytest.mark.parametrize("argv,says", [
    ([], "--from VERSION is required"),
    (["--from", "pool"], "--budget N is required"),
    (["--from", "pool", "--budget", "0", "--seed", "0"], "budget: must be >= 1"),
    (["--from", "pool", "--budget", "3"], "--seed is required"),
    (["--from", "pool", "--budget", "3", "--seed", "0", "--scorer", "vibes"], "unknown scorer 'vibes'"),
    (["--from", "pool", "--budget", "3", "--seed", "0", "--threshold", "2"], "threshold: must be <= 1.0"),
    (["--from", "nope", "--budget", "3", "--seed", "0"], "dataset version not found"),
    (["--from", "pool", "--budget", "3", "--seed", "0", "--scorer", "teacher", "--teacher", "openai"],
     "needs sampling.max_tokens and sampling.temperature"),
])
def test_bad_select_input_is_one_line(runs, capsys, argv, says):
    assert main(["select", *argv, "--out", str(runs)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert len(list((runs / "pool").glob("v*"))) == 1


def scripted(content, seed, index, model):
    """Complexity: the task's "level N"; quality: 9 for a good answer, 2 for a bad one, none for "???"."""
    if "How complex is the task" in content:
        level = content.split("level ")[1].split(".")[0]
        return f"It has some steps.\nScore: {level}"
    answer = content.split("### Answer\n")[1].split("\n")[0]
    return "Unclear." if answer == "???" else f"Fine.\nScore: {9 if answer == 'good' else 2}"


def test_teacher_scorer_multiplies_complexity_and_quality(tmp_path, capsys):
    from fake_openai_server import FakeOpenAIServer

    lin = Lineage(method="import")
    pool = [Record.make(f"Task level {c}.", output=q, lineage=lin)
            for c, q in itertools.product((2, 5, 8), ("good", "bad", "???"))]
    write_version(tmp_path / "runs", "t", pool, [], {"method": "import"})
    with FakeOpenAIServer(reply=scripted) as srv:
        argv = ["select", "--from", "t/v0001", "--budget", 3, "--seed", 0, "--scorer", "teacher", "--threshold", 1,
                "--teacher", "openai", "--base-url", srv.url, "--model", "judge", "--max-tokens", 32,
                "--temperature", 0, "--out", str(tmp_path / "runs")]
        assert main([str(a) for a in argv]) == 0
        assert srv.counts["ok"] == 18  # two questions per record
        assert main([str(a) for a in argv]) == 0  # again: all from the cache, the same selection
        assert srv.counts["ok"] == 18
    assert "unchanged" in capsys.readouterr().out
    v = open_version("t/v0002", tmp_path / "runs")
    got = [(r.instruction, r.output, r.meta["complexity_score"], r.meta["quality_score"], r.meta["select_score"])
           for r in v.records()]
    assert got == [("Task level 8.", "good", 8, 9, 72), ("Task level 5.", "good", 5, 9, 45),
                   ("Task level 2.", "good", 2, 9, 18)]
    unscored = [r for r in v.rejected() if r.detail == "unscored"]
    assert len(unscored) == 3 and all("no score" in r.record.meta["select_error"] for r in unscored)
    m = v.manifest()
    assert m["teacher_stats"]["requests"] == 18 and set(m["templates"]) == {"select/complexity", "select/quality"}


@requires("semantic")
def test_too_few_distinct_records_fill_the_budget_and_say_so(runs, capsys):
    assert select(runs, "--budget", 12, "--seed", 0) == 0
    assert "2 of the chosen are within the threshold of another" in capsys.readouterr().out
    v = open_version("pool/v0002", runs)
    tk = [tuple(r.meta["tk"]) for r in v.records()]
    assert tk == [(t, 0) for t in range(10)] + [(0, 1), (0, 2)]  # one per topic, then the best skipped ones
    assert v.manifest()["selection"]["filled_similar"] == 2
