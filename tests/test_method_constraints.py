"""`--method constraints` against the fake OpenAI server with a scripted teacher whose candidates pass or fail
known constraints (no_commas and no_digits, both given to every prompt): keep best keeps the passing one,
pairs put it against the failing one that met fewest, all keeps every verified one; the content guard drops
empty, truncated, too short, repetitive and echoed candidates before they can pass; the pass-rate threshold;
the teacher's pass@1/pass@n per kind in the manifest; constraints wording and meta are seeded."""
import json
import random

import polars as pl
import pytest

from datagen.cli import main
from datagen.constraints import Constraint, check
from datagen.errors import DatagenError
from datagen.methods.constraints import Config, check_config, constrain, rng_for
from datagen.record import Record
from datagen.templates import TemplateLoader
from datagen.versions import open_version
from fake_openai_server import FakeOpenAIServer

KINDS = {"no_commas", "no_digits"}
FAIL_BOTH = "Sure, there are 3 good ways to do it."
FAIL_ONE = "There are 3 good ways to do it well here."
PASS = "There are three good ways to do it here."
PASS_TOO = "A city has many streets and many people."
LONG = " ".join(["word"] * 60)  # no comma, no digit: passes, but the server cuts it at max_tokens
GUARDED = {3: "empty_output", 4: "repetitive", 5: "truncated", 6: "too_short", 7: "echoed_output"}
N = 8
SEEDS = ["Name a color.", "Name a planet.", "Name a city."]


def reply(content, seed, index, model):
    """Candidate `index`: 0 fails both, 1 fails no_digits, 2 passes; 3-7 would pass the checkers but are
    empty, repetitive, over the token limit, one word, or the prompt echoed. A planet gets only failing
    answers; a city only passing ones."""
    base = [FAIL_BOTH, FAIL_ONE, PASS, "", "the same words come again. " * 5, LONG, "Fine.", content]
    if "planet" in content and index < 3:
        return FAIL_BOTH
    if "city" in content and index < 3:
        return PASS_TOO
    return base[index]


def test_the_scripted_candidates_pass_and_fail_as_designed():
    cs = [Constraint(k) for k in sorted(KINDS)]
    assert [all(check(c, a) for c in cs) for a in (FAIL_BOTH, FAIL_ONE, PASS, PASS_TOO, LONG)] == \
        [False, False, True, True, True]
    assert [check(Constraint("no_commas"), a) for a in (FAIL_BOTH, FAIL_ONE)] == [False, True]


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer(reply=reply) as srv:
        yield srv


@pytest.fixture
def seeds(tmp_path):
    p = tmp_path / "seeds.jsonl"
    p.write_text("".join(json.dumps({"instruction": s, "output": "x"}) + "\n" for s in SEEDS))
    return str(p)


def generate(server, seeds, out, keep, *extra):
    argv = ["generate", "--method", "constraints", "--teacher", "openai", "--base-url", server.url, "--model", "fake",
            "--seeds", seeds, "--out", str(out), "--name", keep, "--max_tokens", "40", "--filters", "exact_dup",
            "--method_cfg.n", str(N), "--method_cfg.kinds", "no_commas,no_digits", "--method_cfg.min_constraints",
            "2", "--method_cfg.max_constraints", "2", "--method_cfg.keep", keep, *extra]
    assert main(argv) == 0
    v = open_version(keep, str(out))
    return v, list(v.records()), pl.read_parquet(v.path / "rejected.parquet")


def by_seed(records):
    return {r.meta["base_instruction"]: r for r in records}


def test_keep_best_keeps_the_passing_candidate_with_its_constraints(server, seeds, tmp_path):
    v, records, rej = generate(server, seeds, tmp_path, "best")
    kept = by_seed(records)
    assert sorted(kept) == ["Name a city.", "Name a color."]  # no planet answer passes
    assert kept["Name a color."].output == PASS and kept["Name a city."].output == PASS_TOO
    for seed, r in kept.items():
        assert {c["kind"] for c in r.meta["constraints"]} == KINDS
        assert r.instruction.startswith(seed) and r.instruction != seed  # the wording is in the instruction
        # one score per non-empty candidate (None: dropped by the guard); the empty one is rejected at parsing
        assert r.meta["passed"] and r.meta["score"] == 1.0 and len(r.meta["candidate_scores"]) == N - 1
    assert kept["Name a color."].meta["pass_rate"] == 1 / N and kept["Name a city."].meta["pass_rate"] == 3 / N
    reasons = rej.group_by("reason").len().sort("reason")
    counts = dict(zip(reasons["reason"], reasons["len"]))
    # guards: 5 per prompt; failing: 2 (color) + 3 (planet); not_best: the city's 2 other passing ones
    assert {k: counts.get(k) for k in GUARDED.values()} == {k: 3 for k in GUARDED.values()}
    assert counts["constraint_failed"] == 5 and counts["not_best"] == 2
    stats = v.manifest()["method_stats"]["constraints"]
    assert stats["prompts"] == 3 and stats["candidates"] == 3 * N and stats["passing_candidates"] == 4
    assert stats["pass_at_n"] == round(2 / 3, 4) and stats["per_kind"]["no_digits"]["pass_at_1"] == round(4 / 24, 4)
    assert stats["per_kind"]["no_commas"]["pass_at_1"] == round(5 / 24, 4)  # FAIL_ONE has no comma


def test_keep_pairs_puts_passing_against_the_worst_failing(server, seeds, tmp_path):
    from finetune import data

    v, records, rej = generate(server, seeds, tmp_path, "pairs")
    (pair,) = records  # the planet has no passing answer, the city no failing one
    assert pair.meta["base_instruction"] == "Name a color."
    assert pair.output == PASS and pair.rejected == FAIL_BOTH  # FAIL_BOTH met 0 of 2, FAIL_ONE 1 of 2
    assert {c["kind"] for c in pair.meta["constraints"]} == KINDS
    assert pair.meta["chosen"]["score"] == 1.0 and pair.meta["rejected"]["score"] == 0.0
    assert "no_failing_candidate" in set(rej["reason"])
    rows = data.rows_for(records, data.check_kind(records, "dpo", v.ref))
    assert rows[0]["chosen"][-1]["content"] == PASS and rows[0]["rejected"][-1]["content"] == FAIL_BOTH


def test_keep_all_keeps_every_verified_candidate_and_never_a_guarded_one(server, seeds, tmp_path):
    _, records, rej = generate(server, seeds, tmp_path, "all")
    assert len(records) == 3 + 1 + 1  # 3 verified per prompt; the planet's and the city's are one text each (exact_dup)
    assert {r.output for r in records} == {FAIL_BOTH, FAIL_ONE, PASS, PASS_TOO}
    assert not any(r.output in ("", LONG, "Fine.") or "come again" in r.output for r in records)
    assert {r.output: r.meta["passed"] for r in records}[FAIL_ONE] is False


def test_the_pass_rate_threshold_drops_prompts_the_teacher_rarely_passes(server, seeds, tmp_path):
    _, records, rej = generate(server, seeds, tmp_path, "best", "--method_cfg.min_pass_rate", "0.3")
    assert [r.meta["base_instruction"] for r in records] == ["Name a city."]  # 3/8 >= 0.3 > 1/8
    assert rej.filter(pl.col("reason") == "low_pass_rate").height == 1


def test_constraints_are_seeded_per_instruction_and_drawn_from_training_kinds():
    from datagen.constraints import TRAIN_KINDS

    tmpl = TemplateLoader().load("constrained/instruction")
    rec = Record.make("Describe a lake.")
    a = constrain(rec, rng_for(7, rec), tuple(TRAIN_KINDS), Config(), tmpl)
    b = constrain(rec, rng_for(7, rec), tuple(TRAIN_KINDS), Config(), tmpl)
    assert a == b and 1 <= len(a.meta["constraints"]) <= 3
    assert all(c["kind"] in TRAIN_KINDS for c in a.meta["constraints"])
    others = {constrain(rec, rng_for(s, rec), tuple(TRAIN_KINDS), Config(), tmpl).instruction for s in range(8)}
    assert len(others) > 1 and all(o.startswith("Describe a lake.\n\n") for o in others)
    random.Random(0)  # nothing above touched a global generator


@pytest.mark.parametrize("cfg,message", [
    (Config(kinds="last_word"), "held out for eval"),
    (Config(kinds="nope"), "not a training kind"),
    (Config(keep="some"), "keep must be one of"),
    (Config(keep="pairs", n=1), "needs method_cfg.n >= 2"),
    (Config(min_constraints=3, max_constraints=2), "min_constraints 3 > max_constraints 2"),
    (Config(kinds="no_commas"), "names 1 kind(s); max_constraints is 3"),
])
def test_bad_options_fail_before_any_request(cfg, message):
    with pytest.raises(DatagenError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_config(cfg)


def test_variants_give_each_instruction_several_constraint_sets(server, seeds, tmp_path):
    """`variants: 3` asks each instruction with up to three different constraint sets (variant 0 is the prompt
    `variants: 1` makes); the city seed passes every time, so it is kept once per distinct prompt."""
    kinds = "no_commas,no_digits,lowercase,end_with_question"
    argv = ["generate", "--method", "constraints", "--teacher", "openai", "--base-url", server.url, "--model", "fake",
            "--seeds", seeds, "--out", str(tmp_path), "--max_tokens", "40", "--filters", "exact_dup",
            "--method_cfg.n", "2", "--method_cfg.kinds", kinds, "--method_cfg.min_constraints", "1",
            "--method_cfg.max_constraints", "1", "--method_cfg.keep", "all"]
    assert main(argv + ["--name", "one"]) == 0 and main(argv + ["--name", "three", "--method_cfg.variants", "3"]) == 0
    one = {r.instruction for r in open_version("one", str(tmp_path)).records()}
    three = {r.instruction for r in open_version("three", str(tmp_path)).records()}
    assert one <= three and len(three) > len(one)
    assert all(sum(i.startswith(s + "\n") for i in three) <= 3 for s in SEEDS)


def test_repair_rewrites_a_failing_candidate_by_rule_and_keeps_it_only_when_it_then_passes(server, seeds, tmp_path):
    argv = ["--method_cfg.kinds", "no_commas,lowercase"]
    v, records, rej = generate(server, seeds, tmp_path / "r", "best", *argv, "--method_cfg.repair", "true")
    kept = by_seed(records)
    assert sorted(kept) == sorted(SEEDS)  # every candidate has a capital: none passes lowercase as written
    assert kept["Name a planet."].output == "sure there are 3 good ways to do it."
    assert kept["Name a city."].output == PASS_TOO.lower()
    assert kept["Name a color."].output == FAIL_ONE.lower()  # it met no_commas already: tried first
    for r in records:
        assert r.meta["repaired"] is True and r.meta["passed"] and r.meta["pass_rate"] == 0.0
    stats = v.manifest()["method_stats"]["constraints"]
    assert stats["repaired"] == 3 and stats["pass_at_n"] == 0.0  # the teacher's own rates stay as they were
    _, plain, _ = generate(server, seeds, tmp_path / "p", "best", *argv)
    assert plain == []


def test_pair_unfinished_puts_a_looping_or_cut_off_answer_on_the_rejected_side(server, seeds, tmp_path):
    v, records, rej = generate(server, seeds, tmp_path, "pairs", "--method_cfg.pair_unfinished", "true")
    pairs = by_seed(records)
    assert sorted(pairs) == ["Name a city.", "Name a color."]  # the city now pairs too: it had no failing answer
    for seed, passing in (("Name a color.", PASS), ("Name a city.", PASS_TOO)):
        p = pairs[seed]
        assert p.output == passing and "come again" in p.rejected  # candidate 4, the first unfinished one
        assert p.meta["rejected"]["guard"] == "repetitive" and p.meta["rejected"]["score"] == 0.0
    planet = rej.filter(pl.col("instruction").str.contains("planet"))
    assert {"repetitive", "truncated"} <= set(planet["reason"])  # no pair formed: dropped by its guard as before
    assert rej.filter(pl.col("instruction").str.contains("color") & (pl.col("reason") == "repetitive")).height == 0
