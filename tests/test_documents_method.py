"""--method documents end to end against the fake OpenAI server (the scripted teacher quotes real
sentences of each passage): every record traces back to its document byte for byte, the passage a
question rests on is in its chunk, unreadable files are rejected with their reasons while the rest
completes, held-out questions never reach the training records, and no readable document is one
error line."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from datagen.cli import main
from datagen.documents import read_document
from datagen.versions import open_version
from document_fixtures import write_corpus
from fake_openai_server import FakeOpenAIServer
from scripted_teacher import scripted_reply

pytest.importorskip("pypdf", reason="the documents extra: pip install 'datagen[documents]'")
pytest.importorskip("bs4", reason="the documents extra: pip install 'datagen[documents]'")

SMALL = ["--method_cfg.chunk_tokens", "60", "--method_cfg.overlap_tokens", "15", "--method_cfg.min_chunk_tokens", "10"]


def generate(srv, tmp_path, docs, *extra) -> int:
    return main(["generate", "--method", "documents", "--docs", docs, "--teacher", "openai", "--base-url", srv.url,
                 "--model", "m", "--out", str(tmp_path / "runs"), *SMALL, *extra])


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    corpus = write_corpus(tmp / "docs")
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        assert generate(srv, tmp, str(tmp / "docs")) == 0
    return corpus, open_version("documents", str(tmp / "runs"))


def test_unreadable_files_are_rejected_with_their_reasons_and_the_rest_completes(made):
    corpus, version = made
    read = {Path(j.record.meta["source"]["path"]).name: (j.reason, j.detail) for j in version.rejected()
            if j.stage == "read"}
    assert {k: v[0] for k, v in read.items()} == {"empty.md": "empty_file", "image.md": "binary_file",
                                                  "locked.pdf": "encrypted_pdf", "scan.pdf": "no_text_layer"}
    assert all(detail for _, detail in read.values())
    kinds = Counter(r.meta["source"]["kind"] for r in version.records())
    assert set(kinds) == {"markdown", "text", "html", "pdf", "docx"}
    stats = version.manifest()["method_stats"]
    assert stats["documents"] == 5 and stats["unreadable"] == {"empty_file": 1, "binary_file": 1,
                                                               "encrypted_pdf": 1, "no_text_layer": 1}


def test_every_record_traces_back_to_its_source_byte_for_byte(made):
    corpus, version = made
    by_path = {str(p): p for p in corpus.values()}
    for r in version.records():
        src = r.meta["source"]
        path = by_path[src["path"]]
        (s, e), (bs, be) = src["span"], src["byte_span"]
        if src["text_of"] == "raw":
            data = path.read_bytes()
        else:
            again = read_document(path)  # the extracted text the span indexes into, extracted again
            assert src["text_sha256"] == again.text_sha256
            data = again.text.encode("utf-8")
        assert data[bs:be].decode("utf-8") == src["text"] == data.decode("utf-8")[s:e]
        ev = r.meta["evidence"]
        assert s <= ev["span"][0] < ev["span"][1] <= e
        assert data.decode("utf-8")[ev["span"][0]:ev["span"][1]] == ev["text"]
        assert r.input == "" and r.output and r.instruction.endswith("?")
        assert "support" in r.meta  # the support filter's annotation


def test_heldout_questions_stay_out_of_training(made):
    _, version = made
    held = [j.record for j in version.rejected() if j.reason == "heldout_eval"]
    near = [j for j in version.rejected() if j.reason == "heldout_overlap"]
    train = version.records()
    assert held and {r.meta["source"]["sha256"] for r in held} == {r.meta["source"]["sha256"] for r in train}
    assert not {r.instruction for r in held} & {r.instruction for r in train}
    assert all(j.detail in {h.id for h in held} for j in near)
    assert Counter(r.meta["source"]["sha256"] for r in held).most_common(1)[0][1] <= 2


def test_evidence_that_is_not_in_the_chunk_is_rejected(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.md").write_text("# Badges\n\nA lost badge costs 15 pounds to replace, because the lock "
                                         "codes must be changed.\n")

    def reply(content, seed, index, model=None):
        if "Reply with two lines:" in content:
            return "Question: What does a lost badge cost?\nEvidence: A lost badge costs 40 pounds to replace."
        return scripted_reply(content, seed, index, model)

    with FakeOpenAIServer(reply=reply) as srv:
        assert generate(srv, tmp_path, str(tmp_path / "d"), "--allow_empty", "true") == 0
    version = open_version("documents", str(tmp_path / "runs"))
    assert not version.records()
    assert {j.reason for j in version.rejected()} == {"evidence_not_in_chunk"}


def test_pick_mode_asks_about_a_seeded_sentence(tmp_path):
    corpus = write_corpus(tmp_path / "docs")
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        assert generate(srv, tmp_path, str(corpus["md"]), "--method_cfg.evidence", "pick",
                        "--method_cfg.kinds", "factual,why_how") == 0
    records = open_version("documents", str(tmp_path / "runs")).records()
    assert records and {r.meta["question_kind"] for r in records} <= {"factual", "why_how"}
    text = corpus["md"].read_text()
    assert all(text[slice(*r.meta["evidence"]["span"])] == r.meta["evidence"]["text"] for r in records)


def test_no_readable_document_is_one_error_line(tmp_path, capsys):
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "bin.md").write_bytes(b"\x00\x01")
    with FakeOpenAIServer(reply=scripted_reply) as srv:
        assert generate(srv, tmp_path, f"{tmp_path}/*.md") == 2
        assert srv.counts["ok"] == 0  # nothing was asked
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("datagen: error: no readable document") and "empty_file" in err[0]
    assert not (tmp_path / "runs" / "documents").exists()


def test_bad_options_are_one_error_line(tmp_path, capsys):
    assert main(["generate", "--method", "documents", "--out", str(tmp_path)]) == 2
    assert main(["generate", "--method", "documents", "--docs", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert main(["generate", "--method", "documents", "--docs", str(tmp_path), "--method_cfg.kinds", "trivia",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith("datagen: error: ") for e in err)
    assert "method_cfg.docs" in err[0] and "no such file" in err[1] and "kinds" in err[2]


def test_heldout_references_are_answers_the_chunk_supports():
    from datagen.methods.documents.heldout import split_heldout
    from datagen.record import Record

    chunk = "Every employee has 27 days of paid leave a year."
    good = [Record.make(f"Q{k}?", output="27 days of paid leave.", meta={"source": {"sha256": "a", "text": chunk}})
            for k in range(3)]
    bad = [Record.make(f"B{k}?", output="Forty days, paid in cash at Christmas.",
                       meta={"source": {"sha256": "a", "text": chunk}}) for k in range(5)]
    train, held = split_heldout(good + bad, per_document=4, seed=1, min_support=0.6)
    assert {r.instruction for r in held} == {"Q0?", "Q1?", "Q2?"} and len(train) == 5
    assert split_heldout(good + bad, 2, 1, 0.6)[1] == split_heldout(good + bad, 2, 1, 0.6)[1]  # seeded
