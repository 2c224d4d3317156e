"""Best-of-n inside `--method answer` against the fake OpenAI server with known candidates: the kept answer
is the best of the n by the verifier's rule for every prompt, losers are rejected with their scores, pairs
made from best and worst load in DPO, a raising verifier rejects only its answers (`verifier_error`), and the
`best_of_n` filter picks the same on an existing version."""
import json
import zlib

import polars as pl
import pytest

from extras import needs

from datagen.cli import main
from datagen.versions import open_version
from fake_openai_server import FakeOpenAIServer

N = 4
SEEDS = ["Name a color.", "Name a fruit.", "Name a planet.", "Name a city.", "Name a tree."]


def candidate(content: str, index: int) -> str:
    """Candidate `index` for a prompt: 1..N words, the order shuffled per prompt so the best is not always 0."""
    shift = zlib.crc32(content.encode()) % N
    words = (index + shift) % N + 1
    return " ".join(["word"] * words) + f" {index}."


def reply(content, seed, index, model):
    if "Grade the response" in content:  # the judge: shorter responses get higher grades
        body = content.split("### Response", 1)[1]
        return f"Score: {10 - len(body.split())}"
    return candidate(content, index)


@pytest.fixture
def server():
    with FakeOpenAIServer(reply=reply) as srv:
        yield srv


@pytest.fixture
def seeds(tmp_path):
    p = tmp_path / "seeds.jsonl"
    p.write_text("".join(json.dumps({"instruction": s, "output": "x"}) + "\n" for s in SEEDS))
    return str(p)


def generate(server, seeds, out, *extra):
    argv = ["generate", "--method", "answer", "--teacher", "openai", "--base-url", server.url, "--model", "fake-model",
            "--seeds", seeds, "--out", str(out), "--filters", "exact_dup", "--method_cfg.n", str(N), *extra]
    return main(argv)


def expected_best(instruction: str) -> str:
    """The shortest of the N known candidates (first of equals), read off the template the run renders."""
    cands = [candidate_for(instruction, i) for i in range(N)]
    return min(cands, key=lambda c: len(c.split()))


def candidate_for(instruction: str, index: int) -> str:
    from datagen.templates import TemplateLoader

    content = TemplateLoader().load("answer/answer").render(instruction=instruction, input="")[-1]["content"]
    return candidate(content, index)


def test_kept_answer_is_the_best_of_n_for_every_prompt(server, seeds, tmp_path):
    assert generate(server, seeds, tmp_path, "--name", "bon", "--method_cfg.scorer", "verifier",
                    "--method_cfg.verifier", "shorter") == 0
    v = open_version("bon", str(tmp_path))
    kept = {r.instruction: r for r in v.records()}
    assert sorted(kept) == sorted(SEEDS)
    for inst, r in kept.items():
        assert r.output == expected_best(inst)
        assert r.meta["score"] == -len(r.output.split()) == max(r.meta["candidate_scores"])
        assert len(r.meta["candidate_scores"]) == N and r.meta["scorer"] == "verifier:shorter"
    rej = pl.read_parquet(v.path / "rejected.parquet")
    losers = rej.filter(pl.col("reason") == "not_best")
    assert losers.height == len(SEEDS) * (N - 1)
    assert all("score" in json.loads(m) for m in losers["meta"])
    assert all(n == N for n in [b["n"] for b in server.bodies])  # one request per prompt asks for n


def test_pairs_from_best_and_worst_load_in_dpo(server, seeds, tmp_path):
    assert generate(server, seeds, tmp_path, "--name", "bon_pairs", "--method_cfg.scorer", "verifier",
                    "--method_cfg.verifier", "shorter", "--method_cfg.keep", "pairs") == 0
    v = open_version("bon_pairs", str(tmp_path))
    pairs = v.records()
    assert len(pairs) == len(SEEDS)
    for p in pairs:
        lengths = [len(candidate_for(p.instruction, i).split()) for i in range(N)]
        assert len(p.output.split()) == min(lengths) and len(p.rejected.split()) == max(lengths)
        assert p.meta["chosen"]["score"] > p.meta["rejected"]["score"]
    from finetune import data

    rows = data.rows_for(pairs, data.check_kind(pairs, "dpo", v.ref))
    assert rows[0]["chosen"][0]["content"] == pairs[0].output


def test_teacher_as_judge_picks_the_highest_grade(server, seeds, tmp_path):
    assert generate(server, seeds, tmp_path, "--name", "bon_judge", "--method_cfg.scorer", "judge") == 0
    for r in open_version("bon_judge", str(tmp_path)).records():
        assert r.output == expected_best(r.instruction) and r.meta["scorer"].startswith("judge:")


def test_a_raising_verifier_rejects_that_answer_and_the_run_goes_on(server, seeds, tmp_path, monkeypatch):
    mod = tmp_path / "my_checks.py"
    mod.write_text("def picky(answer, record):\n"
                   "    if 'fruit' in record.instruction:\n"
                   "        raise RuntimeError('cannot judge fruit')\n"
                   "    return -len(answer)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert generate(server, seeds, tmp_path, "--name", "bon_err", "--method_cfg.scorer", "verifier",
                    "--method_cfg.verifier", "my_checks:picky") == 0
    v = open_version("bon_err", str(tmp_path))
    assert sorted(r.instruction for r in v.records()) == sorted(s for s in SEEDS if "fruit" not in s)
    rej = pl.read_parquet(v.path / "rejected.parquet").filter(pl.col("reason") == "verifier_error")
    assert rej.height == N and set(rej["detail"]) == {"RuntimeError: cannot judge fruit"}


@pytest.mark.parametrize("flags,message", [
    (["--method_cfg.scorer", "verifier", "--method_cfg.verifier", "no_such_thing"], "unknown verifier"),
    (["--method_cfg.scorer", "verifier", "--method_cfg.verifier", "nomod_xyz:f"], "cannot import nomod_xyz"),
    ([], "needs a scorer"),
    (["--method_cfg.scorer", "reward_model", "--method_cfg.reward_model", "/no/such/folder"], "not found"),
])
def test_bad_scorer_is_one_line_and_writes_nothing(server, seeds, tmp_path, capsys, flags, message):
    if "reward_model" in flags:
        needs("train")  # the reward-model scorer loads transformers first
    assert main(["generate", "--method", "answer", "--teacher", "openai", "--base-url", server.url,
                   "--model", "fake-model", "--seeds", seeds, "--out", str(tmp_path), "--method_cfg.n", "3", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("datagen: error:") and message in err and "\n" not in err
    assert not (tmp_path / "answer").exists() and server.posts == 0


def test_best_of_n_filter_on_an_existing_version(server, seeds, tmp_path):
    assert generate(server, seeds, tmp_path, "--name", "every", "--method_cfg.keep", "all") == 0
    assert len(open_version("every", str(tmp_path)).records()) == len(SEEDS) * N
    assert main(["filter", "--from", "every", "--out", str(tmp_path), "--filters", "best_of_n",
                 "--best_of_n.verifier", "shorter"]) == 0
    v = open_version("every/v0002", str(tmp_path))
    assert {r.instruction: r.output for r in v.records()} == {s: expected_best(s) for s in SEEDS}
    rej = pl.read_parquet(v.path / "rejected.parquet")
    assert set(rej["reason"]) == {"not_best"} and rej.height == len(SEEDS) * (N - 1)
