"""Filters that see the source (filters/grounding.py, filters/document_dedup.py) on answers written
for a chunk of the staff handbook: answers that contradict their chunk (a wrong number, a wrong place,
a made-up reason) are rejected by the lexical support check and by the faithfulness judge (the scripted
teacher, whose rubric prompt must show the chunk), and faithful answers are kept by both. The
closed-book check tags what the teacher answers without the chunk; per-document dedup keeps one of a
document's reworded questions and both of two documents' equal questions."""
from __future__ import annotations

import pytest

from datagen.cli import main
from datagen.record import Lineage, Record
from datagen.versions import open_version, write_version
from fake_openai_server import FakeOpenAIServer
from scripted_teacher import scripted_reply

CHUNK = ("## Leave\n\nEvery employee has 27 days of paid leave a year. Leave is booked in the Tidewater portal at "
         "least two weeks ahead. Unused leave of up to five days carries over to the next year; the rest lapses "
         "on 31 March.")
FAITHFUL = [
    ("How many days of paid leave does an employee have?", "Every employee has 27 days of paid leave a year."),
    ("Where is leave booked?", "Leave is booked in the Tidewater portal, at least two weeks ahead."),
    ("What happens to unused leave?", "Up to five days of unused leave carry over to the next year; the rest "
                                      "lapses on 31 March."),
]
CONTRADICTING = [
    ("How many days of paid leave does an employee have?", "Every employee has 40 days of paid leave a year."),
    ("Where is leave booked?", "Leave is booked by email to the finance director at the Harbor office."),
    ("What happens to unused leave?", "All unused leave is paid out in cash every December at double rate."),
    ("When does unused leave lapse?", "The rest lapses on 30 June."),
]


def record(q: str, a: str, sha: str = "a" * 64, chunk: str = CHUNK) -> Record:
    return Record.make(q, output=a, lineage=Lineage(method="documents"),
                       meta={"source": {"path": "handbook.md", "sha256": sha, "text": chunk, "span": [0, len(chunk)],
                                        "section": ["Staff handbook", "Leave"]}})


@pytest.fixture
def version_dir(tmp_path):
    records = [record(q, a) for q, a in FAITHFUL + CONTRADICTING]
    write_version(tmp_path / "runs", "faith", records, [], {"method": "documents"})
    return tmp_path / "runs"


def refilter(srv, runs, filters: str, *extra) -> dict:
    assert main(["filter", "--from", "faith/v0001", "--filters", filters, "--out", str(runs), "--teacher", "openai",
                 "--base-url", srv.url, "--model", "m", "--max-tokens", "48", "--temperature", "0", *extra]) == 0
    version = open_version("faith", str(runs))
    kept = {r.output for r in version.records()}
    return {"kept": kept, "rejected": {j.record.output: j.reason for j in version.rejected()},
            "records": version.records()}


def test_support_rejects_contradictions_and_keeps_faithful_answers(version_dir):
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        out = refilter(srv, version_dir, "support")
    assert out["kept"] == {a for _, a in FAITHFUL}
    assert out["rejected"] == {CONTRADICTING[0][1]: "unsupported_number", CONTRADICTING[1][1]: "low_support",
                               CONTRADICTING[2][1]: "low_support", CONTRADICTING[3][1]: "unsupported_number"}
    assert all(r.meta["support"] >= 0.6 for r in out["records"])


def test_the_judge_reads_the_chunk_and_rejects_contradictions(version_dir):
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        out = refilter(srv, version_dir, "faithfulness")
        prompts = [b["messages"][-1]["content"] for b in srv.bodies]
    assert len(prompts) == len(FAITHFUL + CONTRADICTING)
    assert all(CHUNK in p and "### Answer" in p for p in prompts)  # the rubric shows the source
    assert out["kept"] == {a for _, a in FAITHFUL}
    assert set(out["rejected"]) == {a for _, a in CONTRADICTING} and set(out["rejected"].values()) == {"unfaithful"}
    assert {r.meta["faithfulness"] for r in out["records"]} == {5.0}


def test_closed_book_tags_what_the_teacher_already_knows(version_dir):
    knows = FAITHFUL[0]

    def reply(content, seed, index, model=None):
        if content.startswith(knows[0]):  # the closed-book prompt: the question alone
            return knows[1]
        return "I do not know this company's rules."

    with FakeOpenAIServer(reply=reply) as srv:
        out = refilter(srv, version_dir, "closed_book")
        assert all("Tidewater" not in b["messages"][-1]["content"] for b in srv.bodies)  # no chunk shown
    tags = {r.output: r.meta["general_knowledge"] for r in out["records"]}
    same_question = {a for q, a in FAITHFUL + CONTRADICTING if q == knows[0]}  # "27 days" and "40 days"
    assert {a for a, known in tags.items() if known} == same_question
    with FakeOpenAIServer(reply=reply) as srv:
        assert main(["filter", "--from", "faith/v0002", "--filters", "closed_book", "--closed_book.drop", "true",
                     "--out", str(version_dir), "--teacher", "openai", "--base-url", srv.url, "--model", "m",
                     "--max-tokens", "48", "--temperature", "0"]) == 0
    dropped = open_version("faith/v0003", str(version_dir)).rejected()
    assert {(j.record.output, j.reason) for j in dropped} == {(a, "general_knowledge") for a in same_question}


def test_records_without_a_source_are_not_judged_as_grounded(tmp_path):
    write_version(tmp_path / "runs", "faith", [Record.make("Hi?", output="Hello.")], [], {"method": "answer"})
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        out = refilter(srv, tmp_path / "runs", "support,faithfulness", "--allow_empty", "true")
        assert srv.counts["ok"] == 0
    assert out["rejected"] == {"Hello.": "no_source"}


def test_document_dedup_works_inside_each_document(tmp_path):
    q1 = "How many days of paid leave does an employee get each year?"
    q2 = "How many days of paid leave does an employee get per year?"
    records = [record(q1, "27 days."), record(q2, "27 days a year."),
               record(q1, "25 days.", sha="b" * 64, chunk="Staff get 25 days of paid leave.")]
    write_version(tmp_path / "runs", "faith", records, [], {"method": "documents"})
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        out = refilter(srv, tmp_path / "runs", "document_dedup")
    assert out["kept"] == {"27 days.", "25 days."} and out["rejected"] == {"27 days a year.": "near_duplicate"}
