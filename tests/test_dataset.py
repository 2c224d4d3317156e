"""DatasetVersion: atomic writes, numbering, read-only files, hashes, open/list."""
import datetime as dt
import hashlib
import json
import os
import stat
import time

import pyarrow.parquet as pq
import pytest

from datagen.versions import folders as F
from datagen.versions import publish as P
from datagen.versions import shards as S
from datagen.versions import Rejection, list_versions, open_version, write_version
from datagen.errors import DatagenError
from datagen.record import Lineage, Record


def recs(n=3, tag=""):
    lin = Lineage(method="answer", parents=("p",), run_id="r")
    return [Record.make(f"Question {i}{tag}?", output=f"Answer {i}.", lineage=lin, meta={"i": i}) for i in range(n)]


def rejs():
    return [Rejection(Record.make("Dup?", output="x"), "exact_duplicate", "filter:exact_dup", "abc123"),
            Rejection(Record.make("Empty?", output=""), "empty_output", "parse")]


def test_write_and_read_back(tmp_path):
    v = write_version(tmp_path, "demo", recs(), rejs(), {"method": "answer", "counts": {"generated": 5}})
    assert v.path == tmp_path / "demo" / "v0001" and v.ref == "demo/v0001" and v.name == "demo"
    assert sorted(p.name for p in v.path.iterdir()) == ["README.md", "manifest.json", "records.parquet",
                                                       "rejected.parquet"]
    assert v.records() == recs() and [r.meta for r in v.records()] == [{"i": 0}, {"i": 1}, {"i": 2}]
    got = v.rejected()
    assert [(r.reason, r.stage, r.detail) for r in got] == [("exact_duplicate", "filter:exact_dup", "abc123"),
                                                            ("empty_output", "parse", "")]
    assert {"reason", "stage", "detail"} <= set(pq.read_schema(v.path / "rejected.parquet").names)
    m = v.manifest()
    assert m["version"] == "v0001" and m["name"] == "demo" and m["method"] == "answer"
    assert m["counts"] == {"generated": 5, "kept": 3, "rejected": 2,
                           "dropped": {"empty_output": 1, "exact_duplicate": 1},
                           "dropped_by_stage": {"filter:exact_dup": 1, "parse": 1}}
    for f, sha in m["files"].items():
        assert hashlib.sha256((v.path / f).read_bytes()).hexdigest() == sha
    assert dt.datetime.fromisoformat(m["created_at"]).tzinfo is not None
    card = (v.path / "README.md").read_text()
    assert card.startswith("# demo v0001") and m["content_sha256"] in card and "exact_duplicate" in card


def test_versions_are_numbered_and_read_only(tmp_path):
    vs = [write_version(tmp_path, "demo", recs(tag=str(i)), [], {}) for i in range(3)]
    assert [v.version for v in vs] == ["v0001", "v0002", "v0003"]
    assert [v.version for v in list_versions(tmp_path, "demo")] == ["v0001", "v0002", "v0003"]
    for f in vs[0].path.iterdir():
        assert not f.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert vs[0].path.stat().st_mode & 0o055 == 0o055  # readable by others
    if os.geteuid() != 0:  # root ignores file modes
        with pytest.raises(PermissionError):
            (vs[0].path / "manifest.json").write_text("{}")
    assert not list(vs[0].path.parent.glob(".tmp-*"))


def test_numbering_is_numeric_not_lexical(tmp_path):
    write_version(tmp_path, "demo", recs(), [], {})
    os.rename(tmp_path / "demo" / "v0001", tmp_path / "demo" / "v9999")
    v = write_version(tmp_path, "demo", recs(tag="new"), [], {})
    assert v.version == "v10000" and open_version("demo", tmp_path).version == "v10000"


def test_an_unchanged_rerun_writes_no_new_version(tmp_path):
    first = write_version(tmp_path, "demo", recs(), rejs(), {"x": 1})
    again = write_version(tmp_path, "demo", recs(), rejs(), {"x": 2})
    assert again.unchanged and again.path == first.path and [v.version for v in list_versions(tmp_path, "demo")] == [
        "v0001"]
    other = write_version(tmp_path, "demo", recs(tag="b"), rejs(), {})
    assert not other.unchanged and other.version == "v0002"
    back = write_version(tmp_path, "demo", recs(), rejs(), {})  # equal to v0001 but not to the latest: written
    assert back.version == "v0003" and not back.unchanged


class _Later(dt.datetime):
    """A clock a day ahead, so two writes in the same second get different created_at."""
    @classmethod
    def now(cls, tz=None):
        return super().now(tz) + dt.timedelta(days=1)


def test_content_sha_is_stable_and_sensitive(tmp_path, monkeypatch):
    a = write_version(tmp_path / "a", "demo", recs(), rejs(), {"x": 1}).manifest()
    with monkeypatch.context() as mp:
        mp.setattr(dt, "datetime", _Later)  # created_at differs; the content hash must not
        b = write_version(tmp_path / "b", "demo", recs(), rejs(), {"x": 2}).manifest()
    assert a["content_sha256"] == b["content_sha256"] and a["created_at"] != b["created_at"]
    c = write_version(tmp_path / "c", "demo", recs()[:2], rejs(), {}).manifest()
    d = write_version(tmp_path / "d", "demo", recs(), rejs()[:1], {}).manifest()
    other_lineage = [r.replace(lineage=Lineage(method="answer", run_id="other")) for r in recs()]
    e = write_version(tmp_path / "e", "demo", other_lineage, rejs(), {}).manifest()
    assert len({a["content_sha256"], c["content_sha256"], d["content_sha256"], e["content_sha256"]}) == 4


@pytest.mark.parametrize("fail_at", ["write_table", "render_card", "rename"])
def test_failure_mid_write_leaves_nothing(tmp_path, monkeypatch, fail_at):
    write_version(tmp_path, "demo", recs(), [], {})
    calls = {"n": 0}

    def boom(*a, **k):
        calls["n"] += 1
        if fail_at != "write_table" or calls["n"] == 2:  # second table: records already on disk
            raise OSError("disk full")
        return real(*a, **k)

    target = {"write_table": pq.ParquetWriter, "render_card": P, "rename": P.os}[fail_at]
    attr = {"write_table": "write_table", "render_card": "render_card", "rename": "rename"}[fail_at]
    real = getattr(target, attr)
    monkeypatch.setattr(target, attr, boom)
    with pytest.raises(OSError, match="disk full"):
        write_version(tmp_path, "demo", recs(tag="x"), rejs(), {})
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["v0001"]
    assert write_version(tmp_path, "demo", recs(tag="y"), [], {}).version == "v0002"


def test_a_killed_writer_is_invisible_and_cleaned_later(tmp_path):
    write_version(tmp_path, "demo", recs(), [], {})
    base = tmp_path / "demo"
    stale = base / ".tmp-killed"   # what kill -9 during a write leaves behind
    stale.mkdir()
    (stale / "records.parquet").write_bytes(b"partial")
    fresh = base / ".tmp-running"  # a writer that is still at work
    fresh.mkdir()
    empty_claim = base / "v0002"   # an empty number claim (older writers made these)
    empty_claim.mkdir()
    assert [v.version for v in list_versions(tmp_path, "demo")] == ["v0001"]
    assert open_version("demo", tmp_path).version == "v0001"
    old = time.time() - 2 * F.STALE_TMP_SECONDS
    os.utime(stale, (old, old))
    v = write_version(tmp_path, "demo", recs(tag="z"), [], {})
    assert v.version in ("v0002", "v0003") and (v.path / "manifest.json").is_file()
    assert not stale.exists() and fresh.exists()


def test_concurrent_writers_get_distinct_numbers(tmp_path, monkeypatch):
    """Another writer takes the number between our look and our rename: we take the next one."""
    real = F.numbered
    state = {"raced": False}

    def racing(base, prefix="v"):
        found = real(base, prefix)
        if not state["raced"]:
            state["raced"] = True
            monkeypatch.setattr(F, "numbered", real)
            write_version(tmp_path, "demo", recs(tag="other"), [], {"who": "other"})
        return found

    monkeypatch.setattr(F, "numbered", racing)
    mine = write_version(tmp_path, "demo", recs(tag="mine"), [], {"who": "mine"})
    assert mine.version == "v0002" and mine.manifest()["who"] == "mine" and mine.manifest()["version"] == "v0002"
    assert open_version("demo/v0001", tmp_path).manifest()["who"] == "other"


def test_open_version_forms(tmp_path):
    v1 = write_version(tmp_path, "demo", recs(), [], {})
    v2 = write_version(tmp_path, "demo", recs(tag="2"), [], {})
    assert open_version(v1.path).path == v1.path                          # a version dir
    assert open_version(str(v1.path), "elsewhere").path == v1.path
    assert open_version("demo", tmp_path).path == v2.path                 # name -> latest
    assert open_version("demo/v0001", tmp_path).path == v1.path           # name/vNNNN
    assert open_version(tmp_path / "demo").path == v2.path                # <dir>/<name> -> latest
    for bad in ("nope", "demo/v0009"):
        with pytest.raises(DatagenError, match="dataset version not found"):
            open_version(bad, tmp_path)
    assert list_versions(tmp_path, "nope") == []


def test_bad_names_and_duplicate_ids(tmp_path):
    for bad in ("", "a/b", "../x", "with space"):
        with pytest.raises(DatagenError, match="invalid dataset name"):
            write_version(tmp_path, bad, recs(), [], {})
    with pytest.raises(DatagenError, match="duplicate record ids"):
        write_version(tmp_path, "demo", recs() + recs()[:1], [], {})
    assert not (tmp_path / "demo").exists() or not list((tmp_path / "demo").iterdir())


def test_empty_version_has_schemas(tmp_path):
    v = write_version(tmp_path, "demo", [], [], {})
    assert v.records() == [] and v.rejected() == []
    assert pq.read_schema(v.path / "records.parquet").names == list(S.SCHEMA.names)
    import polars as pl

    assert pl.read_parquet(v.path / "rejected.parquet").columns[-3:] == ["reason", "stage", "detail"]
    # no 0-row row group: `datasets` fails on one with "BatchSize must be greater than 0"
    assert pq.ParquetFile(v.path / "records.parquet").metadata.num_row_groups == 0
    assert json.loads((v.path / "manifest.json").read_text())["counts"]["kept"] == 0


def test_version_files_load_with_datasets_and_polars(tmp_path):
    datasets = pytest.importorskip("datasets")
    import polars as pl

    v = write_version(tmp_path, "demo", recs(), rejs(), {})
    for f, n in (("records.parquet", 3), ("rejected.parquet", 2)):
        ds = datasets.load_dataset("parquet", data_files=str(v.path / f), split="train",
                                   cache_dir=str(tmp_path / "hf_cache"))
        df = pl.read_parquet(v.path / f)
        assert len(ds) == df.height == n and ds.column_names == df.columns
    assert pl.read_parquet(v.path / "rejected.parquet")["reason"].to_list() == ["exact_duplicate", "empty_output"]
