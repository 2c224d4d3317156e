"""self_chat against the fake OpenAI-compatible server: the user simulator and the assistant are scripted
by what the server reads, so turn order, roles, the stop rule, the num_turns bound, the budget and a
kill -9 resume are checked on real HTTP requests through the real engine (issue 13)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datagen.cli import main
from datagen.versions import open_version
from datagen.methods.self_chat.parse import parse_user_turn
from fake_openai_server import FakeOpenAIServer
from cache_rows import cache_rows

ROOT = Path(__file__).resolve().parent.parent
ASK = "Write the person's next message"
SEEDS = [("Name a fruit.", "Apple."), ("Name a planet.", "Mars."), ("Name a color.", "Red.")]


def reply(content: str, seed, index: int, model=None) -> str:
    """User simulator (its prompt holds ASK): ends "planet" chats with the marker at turn 2, thanks its way
    out of "color" chats at turn 3, never ends "fruit" chats. Assistant: names the turn it answers."""
    if ASK in content:
        k = content.count("\nAssistant: ") + 1  # the turn the next message opens
        if "planet" in content and k == 2:
            return "Thanks! [END]"
        if "color" in content and k == 3:
            return "Person: Thanks, bye!"
        return f"Person: follow-up {k} about {content.split('Person: ')[1].split(chr(10))[0][:20]}"
    return f"Answer {content.count('follow-up') + 1}: about {content[:30]}"


def seeds_file(tmp_path: Path, seeds=SEEDS) -> Path:
    p = tmp_path / "seeds.jsonl"
    p.write_text("".join(json.dumps({"instruction": q, "input": "", "output": a}) + "\n" for q, a in seeds))
    return p


def argv(srv, tmp_path, *extra) -> list[str]:
    return ["generate", "--method", "self_chat", "--teacher", "openai", "--base-url", srv.url, "--model", "m",
            "--out", str(tmp_path / "runs"), "--seeds", str(seeds_file(tmp_path)), "--filters", "exact_dup",
            "--method_cfg.num_conversations", "0", *extra]


@pytest.fixture
def server():
    with FakeOpenAIServer(reply=reply) as srv:
        yield srv


def by_opening(version) -> dict:
    return {r.instruction: r for r in version.records()}


def test_turn_order_roles_and_each_request_is_the_conversation_so_far(server, tmp_path):
    assert main(argv(server, tmp_path, "--method_cfg.num_turns", "4")) == 0
    recs = by_opening(open_version("self_chat", tmp_path / "runs"))
    fruit = recs["Name a fruit."]
    roles = [m["role"] for m in fruit.messages]
    assert roles == ["user", "assistant"] * 4 and fruit.meta["turns"] == 4 and fruit.meta["end"] == "max_turns"
    assert fruit.output == fruit.messages[1]["content"] and fruit.instruction == fruit.messages[0]["content"]
    assert [m["content"] for m in fruit.messages[2::2]] == [f"follow-up {k} about Name a fruit." for k in (2, 3, 4)]
    assert fruit.lineage.parents and fruit.lineage.method == "self_chat"
    # every assistant request is the system message + exactly the conversation before that answer
    answers = [b["messages"] for b in server.bodies if ASK not in b["messages"][-1]["content"]]
    for k in range(1, 5):
        assert [m for m in answers if m[1:] == list(fruit.messages[:2 * k - 1])], k
    assert all(m[0]["role"] == "system" for m in answers)


def test_stop_rule_and_num_turns_bound(server, tmp_path):
    assert main(argv(server, tmp_path, "--method_cfg.num_turns", "5")) == 0
    v = open_version("self_chat", tmp_path / "runs")
    recs = by_opening(v)
    assert (recs["Name a planet."].meta["turns"], recs["Name a planet."].meta["end"]) == (1, "end_marker")
    assert (recs["Name a color."].meta["turns"], recs["Name a color."].meta["end"]) == (2, "closing")
    assert (recs["Name a fruit."].meta["turns"], recs["Name a fruit."].meta["end"]) == (5, "max_turns")
    # requests: a turn k > 1 costs a user and an assistant request; nothing is asked after a chat ends
    assert server.posts == (1 + 1) + (1 + 2 + 1) + (1 + 2 * 4)
    stats = v.manifest()["method_stats"]
    assert stats["ended_by"] == {"closing": 1, "end_marker": 1, "max_turns": 1} and stats["max_turns"] == 5
    assert stats["mean_turns"] == round((1 + 2 + 5) / 3, 3)


def test_an_answer_said_before_ends_the_chat_at_the_turn_before(tmp_path):
    def looping(content, seed, index, model=None):
        return f"Person: more about {content.count(chr(10) + 'Assistant: ')}" if ASK in content else "Same answer."
    with FakeOpenAIServer(reply=looping) as srv:
        assert main(argv(srv, tmp_path, "--method_cfg.num_turns", "4")) == 0
        assert srv.posts == 3 * 3  # per chat: answer 1, user 2, answer 2 (a repeat): nothing more
    for r in open_version("self_chat", tmp_path / "runs").records():
        assert (r.meta["turns"], r.meta["end"]) == (1, "assistant_repeat")
        assert [m["role"] for m in r.messages] == ["user", "assistant"] and r.meta["user_finish_reasons"] == []


def test_from_a_version_opens_with_its_instructions_and_names_them_as_parents(server, tmp_path):
    runs = str(tmp_path / "runs")
    assert main(["generate", "--method", "answer", "--teacher", "openai", "--base-url", server.url, "--model", "m",
                 "--out", runs, "--seeds", str(seeds_file(tmp_path)), "--name", "base"]) == 0
    base = {r.id: r for r in open_version("base", runs).records()}
    assert main(argv(server, tmp_path, "--from", "base", "--method_cfg.num_turns", "2")) == 0
    recs = open_version("self_chat", runs).records()
    assert len(recs) == 3 and all(base[r.lineage.parents[0]].instruction == r.instruction for r in recs)


def test_min_turns_rejects_a_chat_the_user_ended_early(server, tmp_path):
    assert main(argv(server, tmp_path, "--method_cfg.num_turns", "3", "--method_cfg.min_turns", "2")) == 0
    v = open_version("self_chat", tmp_path / "runs")
    assert sorted(by_opening(v)) == ["Name a color.", "Name a fruit."]
    (rej,) = v.rejected()
    assert (rej.reason, rej.record.instruction) == ("too_few_turns", "Name a planet.")
    assert "ended by end_marker" in rej.detail


def test_bad_options_are_one_line_errors(server, tmp_path, capsys):
    for extra, says in ((["--method_cfg.num_turns", "0"], "num_turns"),
                        (["--method_cfg.num_turns", "2", "--method_cfg.min_turns", "3"], "min_turns 3 > num_turns 2"),
                        (["--method_cfg.source", "nope"], "seeds, topics")):
        assert main(argv(server, tmp_path, *extra)) == 2
        err = capsys.readouterr().err
        assert err.startswith("datagen: error: ") and says in err and err.count("\n") == 1, err
    assert server.posts == 0 and not (tmp_path / "runs" / "self_chat").exists()


def test_budget_leaves_turns_undone_not_rejected_and_the_rerun_continues_from_the_cache(server, tmp_path, capsys):
    cache = str(tmp_path / "c.sqlite")
    assert main(argv(server, tmp_path, "--method_cfg.num_turns", "3", "--cache", cache, "--max-requests", "5")) == 0
    v = open_version("self_chat", tmp_path / "runs")
    m = v.manifest()
    assert server.posts == 5 and m["stopped"] == "budget" and v.rejected() == []
    # turn 1: 3 answers; turn 2: fruit's and planet's user messages sent (planet's ends its chat), color's
    # left undone, and so is fruit's second answer: undone, not rejected
    assert m["undone"] == {"user_turn": 1, "assistant_turn": 1}
    assert [r.instruction for r in v.records()] == ["Name a planet."]
    before = server.posts
    assert main(argv(server, tmp_path, "--method_cfg.num_turns", "3", "--cache", cache)) == 0
    full = open_version("self_chat", tmp_path / "runs")
    assert full.manifest()["teacher_stats"]["cache_hits"] == 5 and len(full.records()) == 3
    assert server.posts - before == full.manifest()["teacher_stats"]["requests"] == (2 + 5 + 4) - 5


def test_topics_open_with_a_message_the_teacher_writes(tmp_path, monkeypatch):
    def topic_reply(content, seed, index, model=None):
        if "about this topic" in content:
            return f'"How do I start with {content.split("topic: ")[1].split(".")[0]} (take {seed})?"'
        return "[END]" if ASK in content else "Start small."
    (tmp_path / "topics.yaml").write_text("topics: [knitting, chess]\n")
    monkeypatch.chdir(tmp_path)  # a path relative to where the command runs
    with FakeOpenAIServer(reply=topic_reply) as srv:
        assert main(argv(srv, tmp_path, "--method_cfg.source", "topics", "--method_cfg.topics", "topics.yaml",
                         "--method_cfg.num_conversations", "3")) == 0
    recs = open_version("self_chat", tmp_path / "runs").records()
    assert len(recs) == 3 and {r.meta["topic"] for r in recs} == {"knitting", "chess"}
    assert all(r.instruction.startswith(f"How do I start with {r.meta['topic']} (take ") and not r.lineage.parents
               for r in recs)
    # the topic drawn twice gets another sampling seed: a different request, not a cached copy
    seeds = [b["seed"] for b in srv.bodies if "about this topic" in b["messages"][-1]["content"]]
    assert sorted(seeds) == [0, 0, 1]


@pytest.mark.parametrize("text,end", [
    ("Thanks, that helps! [END]", "end_marker"), ("[end]", "end_marker"), ("  ", "empty"),
    ("Person: Thank you so much for your help!", "closing"), ("ok thanks, bye", "closing"),
    ("Name a fruit.", "repeat"), ("An apple. ", "repeat"), ("Thanks! How do I peel it?", None),
    ("User: How do I peel it?\nAssistant: Use a knife.", None)])
def test_parse_user_turn(text, end):
    turn = parse_user_turn(text, "[END]", ["Name a fruit.", "An apple."])
    assert turn.end == end
    if end is None:
        assert turn.text.endswith("peel it?") and "Assistant" not in turn.text and not turn.text.startswith("User")




def test_kill_9_mid_conversation_then_resume_repeats_no_teacher_call(tmp_path):
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAIServer(reply=reply, latency=0.1) as srv:
        cmd = [sys.executable, "-m", "datagen.cli", *argv(srv, tmp_path, "--method_cfg.num_turns", "3",
                                                          "--cache", str(cache), "--concurrency", "1")]
        env = {**os.environ, "DATAGEN_PROGRESS": "0"}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and cache_rows(cache) < 5:  # turn 1 answered, turn 2 under way
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        cached, before = cache_rows(cache), srv.posts
        assert 5 <= cached < 11 and not (tmp_path / "runs" / "self_chat").exists()
        res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        total = 2 + 5 + 4  # planet: 1 turn + the end; fruit: 3 turns; color: 2 turns + the closing
        assert srv.posts - before == total - cached  # the rerun asks only for what is not cached
        prompts = [json.dumps(b["messages"]) for b in srv.bodies]
        # the same requests both times: at most the one in flight at the kill (concurrency 1) is sent again
        assert len(set(prompts)) == total and len(prompts) - total <= 1
    resumed = open_version("self_chat", tmp_path / "runs")
    (tmp_path / "clean").mkdir()
    with FakeOpenAIServer(reply=reply) as srv:  # a clean run elsewhere gives the same records
        assert main(argv(srv, tmp_path / "clean", "--method_cfg.num_turns", "3")) == 0
    clean = open_version("self_chat", tmp_path / "clean" / "runs")
    assert [r.id for r in resumed.records()] == [r.id for r in clean.records()]
