"""Writes stay where they belong (issue 30, class 1): every --out goes through datagen.outfile (a regular
file, never a device, FIFO, symbolic link or a file inside a version; unique temp names; one rename),
every --name through datagen.names, manifest file entries are plain names inside the version, and the
stale-temp cleanup never removes a live writer's folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bad_input import one_error
from datagen.cli import main
from datagen.record import Lineage, Record
from datagen.versions import list_versions, open_version, write_version
from datagen.versions import folders as F

ROOT = Path(__file__).resolve().parent.parent
LIN = Lineage(method="answer", teacher="fake")




def recs(tag: str, n: int = 50) -> list[Record]:
    return [Record.make(f"Question {tag} {i}?", output=f"Answer {tag} {i} " + "x" * 200, lineage=LIN)
            for i in range(n)]


@pytest.fixture
def runs(tmp_path):
    out = tmp_path / "runs"
    write_version(out, "a", recs("a"), [], {"method": "answer"})
    write_version(out, "b", recs("b", 80), [], {"method": "answer"})
    return out


def test_a_symlink_as_out_is_refused_and_left_alone(runs, tmp_path, capsys):
    target = tmp_path / "target.jsonl"
    target.write_text("keep me\n")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    for argv in (["export", "a", "--runs", str(runs), "--out", str(link)],
                 ["report", "a", "--runs", str(runs), "--out", str(link)]):
        assert "is a symbolic link" in one_error(capsys, argv)
    assert link.is_symlink() and target.read_text() == "keep me\n"
    stdout_link = tmp_path / "stdout"
    stdout_link.symlink_to("/proc/self/fd/1")
    assert "is a symbolic link" in one_error(capsys, ["export", "a", "--runs", str(runs), "--out", str(stdout_link)])
    assert stdout_link.is_symlink()


def test_a_fifo_and_a_device_as_out_are_refused(runs, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for out in (fifo, Path("/dev/null")):
        for cmd in ("export", "report"):
            err = one_error(capsys, [cmd, "a", "--runs", str(runs), "--out", str(out)])
            assert "not a regular file" in err
    assert Path("/dev/null").is_char_device() and fifo.is_fifo()


def test_a_version_own_file_and_a_folder_as_out_are_refused(runs, tmp_path, capsys):
    v = open_version("b", runs)
    before = (v.path / "records.parquet").read_bytes()
    for cmd in ("export", "report"):
        err = one_error(capsys, [cmd, "a", "--runs", str(runs), "--out", str(v.path / "records.parquet")])
        assert "immutable" in err
        assert "immutable" in one_error(capsys, [cmd, "a", "--runs", str(runs), "--out", str(v.path / "new.html")])
    assert (v.path / "records.parquet").read_bytes() == before and not (v.path / "new.html").exists()
    assert main(["verify", "b", "--out", str(runs)]) == 0
    assert "is a folder" in one_error(capsys, ["export", "a", "--runs", str(runs), "--out", str(tmp_path)])
    (tmp_path / "afile").write_text("x")
    assert "is a file" in one_error(capsys, ["export", "a", "--runs", str(runs),
                                             "--out", str(tmp_path / "afile" / "x.jsonl")])


def test_concurrent_exports_to_one_out_never_mix(runs, tmp_path):
    """Eight writers of two different versions to one path: the file is always one whole export."""
    from datagen.versions.export import export

    out = tmp_path / "same.jsonl"
    expected = {}
    for name in ("a", "b"):
        export(open_version(name, runs), "messages", tmp_path / f"{name}.jsonl")
        expected[name] = (tmp_path / f"{name}.jsonl").read_bytes()
    for _ in range(3):
        errors = []
        threads = [threading.Thread(target=lambda n=n: _try(errors, export, open_version(n, runs), "messages", out))
                   for n in ["a", "b"] * 4]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert not errors
        assert out.read_bytes() in expected.values()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp left


def _try(errors, fn, *args):
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - collected for the assertion
        errors.append(exc)


@pytest.mark.parametrize("name", [".", "..", ".cache", "../x", "a/b", "/tmp/x", "", "-x"])
def test_names_are_plain_and_stay_inside(tmp_path, capsys, name):
    src = tmp_path / "data.jsonl"
    src.write_text(json.dumps({"instruction": "Say hi.", "output": "Hi."}) + "\n")
    runs = tmp_path / "runs"
    err = one_error(capsys, ["import", str(src), "--name", name, "--out", str(runs)])
    assert "name" in err
    if name:  # the other commands take the same check
        write_version(runs, "ok", recs("ok"), [], {"method": "answer"})
        assert "invalid dataset name" in one_error(capsys, ["filter", "--from", "ok", "--out", str(runs),
                                                             "--filters", "exact_dup", "--name", name])
        assert "invalid dataset name" in one_error(capsys, ["generate", "--method", "answer", "--seeds", str(src),
                                                             "--out", str(runs), "--name", name, "--teacher",
                                                             "openai", "--base-url", "http://127.0.0.1:9/v1"])
    assert sorted(p.name for p in tmp_path.iterdir()) in (["data.jsonl"], ["data.jsonl", "runs"])
    assert not runs.exists() or sorted(p.name for p in runs.iterdir()) in ([], ["ok"])


def test_a_name_through_a_symlink_out_of_its_folder_is_refused(tmp_path, capsys):
    from datagen.errors import DatagenError
    from datagen.names import child

    (tmp_path / "runs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "runs" / "sneaky").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(DatagenError, match="leads outside"):
        child(tmp_path / "runs", "sneaky")
    assert child(tmp_path / "runs", "fine") == tmp_path / "runs" / "fine"


def test_a_manifest_entry_outside_the_version_is_damage(runs, tmp_path, capsys):
    a, b = open_version("a", runs), open_version("b", runs)
    m = json.loads((b.path / "manifest.json").read_text())
    sha = m["files"].pop("records.parquet")
    m["files"]["../../a/v0001/records.parquet"] = sha
    m["shards"] = {"records": ["../../a/v0001/records.parquet"]}
    os.chmod(b.path / "manifest.json", 0o644)
    (b.path / "manifest.json").write_text(json.dumps(m))
    for argv in (["verify", "b", "--out", str(runs)],
                 ["export", "b", "--runs", str(runs), "--out", str(tmp_path / "x.jsonl")]):
        assert "is damaged: manifest.json names a file outside the version" in one_error(capsys, argv)
    m["files"] = {"/etc/passwd": "0" * 64}
    m.pop("shards")
    (b.path / "manifest.json").write_text(json.dumps(m))
    assert "outside the version" in one_error(capsys, ["verify", "b", "--out", str(runs)])
    assert not (tmp_path / "x.jsonl").exists() and a.num_records() == 50


@pytest.mark.parametrize("data", [b"[1, 2]", b'"text"', b'{"files": ["records.parquet"]}', b"[" * 100000])
def test_a_manifest_of_the_wrong_type_is_damage(runs, capsys, data):
    b = open_version("b", runs)
    os.chmod(b.path / "manifest.json", 0o644)
    (b.path / "manifest.json").write_bytes(data)
    assert "is damaged: manifest.json" in one_error(capsys, ["verify", "b", "--out", str(runs)])
    assert main(["versions", "--out", str(runs)]) == 0  # the others still listed, the damaged one marked
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("a/v0001 ") and lines[1].startswith("b/v0001 ") and "DAMAGED" in lines[1]


WRITER = """
import sys, time
from datagen.versions import VersionWriter
w = VersionWriter(sys.argv[1], "demo")
print(w.tmp, flush=True)
time.sleep(120)
"""


def test_the_cleanup_keeps_a_live_writers_folder_however_old(tmp_path):
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    live = subprocess.Popen([sys.executable, "-c", WRITER, str(runs)], stdout=subprocess.PIPE, text=True, env=env)
    dead = subprocess.Popen([sys.executable, "-c", WRITER, str(runs)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        live_tmp, dead_tmp = Path(live.stdout.readline().strip()), Path(dead.stdout.readline().strip())
        dead.kill()
        dead.wait()
        old = time.time() - 10 * F.STALE_TMP_SECONDS
        os.utime(live_tmp, (old, old))  # a long filter: its folder's mtime is hours old
        v = write_version(runs, "demo", recs("z"), [], {})
        assert v.version == "v0001" and live_tmp.is_dir() and F.lock_path(live_tmp).exists()
        assert not dead_tmp.exists() and not F.lock_path(dead_tmp).exists()  # killed: no lock held
    finally:
        live.kill()
        live.wait()
    write_version(runs, "demo", recs("y"), [], {})
    assert not live_tmp.exists()
    assert [p.name for p in (runs / "demo").iterdir()] and not list((runs / "demo").glob(".tmp-*"))
    assert [x.version for x in list_versions(runs, "demo")] == ["v0001", "v0002"]


@pytest.mark.parametrize("name", ["..", "../x", ".cache"])
def test_train_and_eval_names_are_checked_before_any_work(tmp_path, capsys, name):
    pytest.importorskip("trl")
    err = one_error(capsys, ["train", "sft", "--data", "nothing", "--model", "none.gguf", "--name", name,
                             "--out", str(tmp_path / "adapters")])
    assert "invalid run name" in err
    err = one_error(capsys, ["eval", "--model", "none.gguf", "--name", name, "--out", str(tmp_path / "evals")])
    assert "invalid eval name" in err
    assert list(tmp_path.iterdir()) == []
