"""Sharded versions (issue 17): records-NNNNN.parquet / rejected-NNNNN.parquet of bounded size with
their sha256 in the manifest, the same content_sha256 as one file, and every command reading either
layout alike."""
import json
import shutil

import pyarrow.parquet as pq
import pytest

from datagen import versions as D
from datagen.cli import main
from datagen.versions import Rejection, open_version, verify_version, write_version
from datagen.versions import VersionWriter
from datagen.errors import DatagenError
from datagen.record import Lineage, Record


def recs(n=23, tag=""):
    lin = Lineage(method="answer", parents=("p",), run_id="r")
    out = [Record.make(f"Explain topic number {i}{tag} in a few careful words please?",
                       output=f"Topic {i} is explained here in plain words for the reader.", lineage=lin,
                       meta={"i": i}) for i in range(n)]
    dup = Record.make("EXPLAIN topic number 0 in a few careful words please?",
                      output="Topic 0 is explained here in plain words for the reader.", lineage=lin)
    return out + [dup]


def rejs(n=7):
    return [Rejection(Record.make(f"Dropped {i}?", output="x"), "too_short", "filter:length", f"d{i}")
            for i in range(n)]


@pytest.fixture(params=["single", "sharded"])
def layout(request, tmp_path, monkeypatch):
    """A version written as one file, or as shards of 5 rows (DATAGEN_SHARD_ROWS reaches subcommands)."""
    if request.param == "sharded":
        monkeypatch.setenv("DATAGEN_SHARD_ROWS", "5")
    runs = tmp_path / "runs"
    v = write_version(runs, "demo", recs(), rejs(), {"method": "answer"})
    return request.param, runs, v


def test_shards_named_bounded_and_hashed(tmp_path):
    v = write_version(tmp_path, "demo", recs(), rejs(), {}, shard_rows=5)
    m = v.manifest()
    assert m["shards"]["records"] == [f"records-{i:05d}.parquet" for i in range(5)]
    assert m["shards"]["rejected"] == ["rejected-00000.parquet", "rejected-00001.parquet"]
    assert [pq.ParquetFile(v.path / f).metadata.num_rows for f in m["shards"]["records"]] == [5, 5, 5, 5, 4]
    assert set(m["files"]) == set(m["shards"]["records"]) | set(m["shards"]["rejected"])
    assert "records.parquet" not in m["files"] and not (v.path / "records.parquet").exists()
    assert verify_version(v) == m["files"]
    assert m["counts"]["kept"] == 24 and m["counts"]["rejected"] == 7


def test_content_sha_and_rows_do_not_depend_on_the_layout(tmp_path):
    one = write_version(tmp_path / "a", "demo", recs(), rejs(), {})
    many = write_version(tmp_path / "b", "demo", recs(), rejs(), {}, shard_rows=3)
    assert sorted(one.manifest()["files"]) == ["records.parquet", "rejected.parquet"]
    assert "shards" not in one.manifest()
    assert one.manifest()["content_sha256"] == many.manifest()["content_sha256"] == D.content_sha256(recs(), rejs())
    assert one.records() == many.records() == recs()
    assert [(j.record, j.detail) for j in many.rejected()] == [(j.record, j.detail) for j in rejs()]
    streamed = [len(b) for b in many.iter_records(batch_size=4)]
    assert sum(streamed) == 24 and max(streamed) <= 4
    assert many.num_records() == 24 and many.num_records("rejected") == 7
    # a rerun of the same content, sharded or not, is recognised as unchanged
    assert write_version(tmp_path / "a", "demo", recs(), rejs(), {}, shard_rows=3).unchanged


def test_streaming_writer_equals_write_version(tmp_path):
    with VersionWriter(tmp_path / "s", "demo", shard_rows=4) as w:
        for lo in range(0, 24, 7):
            w.add(recs()[lo:lo + 7])
        w.reject(rejs()[4:], lane=1)
        w.reject(rejs()[:4], lane=0)
        v = w.commit({"method": "answer"})
    assert v.manifest()["content_sha256"] == D.content_sha256(recs(), rejs())
    assert [f for f in (v.path).iterdir() if f.name.startswith(".")] == []


def test_damaged_shard_is_named(tmp_path, capsys):
    v = write_version(tmp_path, "demo", recs(), rejs(), {}, shard_rows=5)
    path = v.path / "records-00002.parquet"
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatagenError, match="records-00002.parquet does not match its manifest"):
        open_version(v.path)
    assert main(["verify", str(v.path)]) == 2
    assert "records-00002.parquet does not match" in capsys.readouterr().err


def test_bad_shard_bound_is_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAGEN_SHARD_ROWS", "many")
    with pytest.raises(DatagenError, match="DATAGEN_SHARD_ROWS must be a whole number"):
        write_version(tmp_path, "demo", recs(), [], {})


def test_every_command_reads_both_layouts(layout, tmp_path, capsys):
    kind, runs, v = layout
    assert ("shards" in v.manifest()) == (kind == "sharded")
    assert main(["verify", v.ref, "--out", str(runs)]) == 0
    assert main(["show", v.ref, "--out", str(runs), "--rejected", "--n", "3"]) == 0
    capsys.readouterr()
    assert main(["show", v.ref, "--out", str(runs), "--ids"]) == 0
    assert capsys.readouterr().out.split() == [r.id for r in recs()]
    assert main(["filter", "--from", v.ref, "--out", str(runs), "--filters", "exact_dup,length"]) == 0
    child = open_version(runs / "demo")
    assert child.version == "v0002" and child.manifest()["counts"]["kept"] == 23
    assert child.manifest()["funnel"][0] == {"filter": "exact_dup", "in": 24, "kept": 23,
                                             "dropped": {"exact_duplicate": 1}}
    assert main(["diff", v.ref, child.ref, "--out", str(runs)]) == 0
    assert "1 removed" in capsys.readouterr().out
    out = tmp_path / "m.jsonl"
    assert main(["export", v.ref, "--runs", str(runs), "--format", "messages", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 24
    assert main(["report", v.ref, "--runs", str(runs), "--out", str(tmp_path / "r.html")]) == 0
    assert "demo v0001" in (tmp_path / "r.html").read_text()
    src = tmp_path / "src"  # import reads the records files of a version, one file or shards
    src.mkdir()
    for f in v.files("records"):
        shutil.copy(v.path / f, src / f)
    assert main(["import", str(src), "--name", "again", "--out", str(runs), "--format", "alpaca"]) == 0
    assert json.loads((runs / "again" / "v0001" / "manifest.json").read_text())["counts"]["kept"] == 24


def test_train_data_reads_both_layouts(layout):
    from finetune.data import DataArgs, open_checked

    kind, runs, v = layout
    version, records = open_checked(DataArgs(data=v.ref, runs=str(runs)))
    assert records == recs()
