"""A writer killed with SIGKILL while it writes shards leaves no half version (issue 17): only a
.tmp-* folder, which no command lists, and the next write takes the next number as usual."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from datagen.cli import main
from datagen.versions import list_versions, open_version, write_version
from datagen.record import Record

ROOT = Path(__file__).resolve().parent.parent

WRITER = textwrap.dedent("""
    import sys, time
    from datagen.versions import VersionWriter
    from datagen.record import Record
    with VersionWriter(sys.argv[1], "big", shard_rows=20) as w:
        for b in range(10_000):
            w.add([Record.make(f"Question {b} {i}?", output="An answer.") for i in range(20)])
            time.sleep(0.02)
        w.commit({"method": "answer"})
""")


def shards_in_tmp(base: Path) -> int:
    return sum(1 for t in base.glob(".tmp-*") for f in t.glob("records-*.parquet"))


def test_kill_9_while_writing_shards_leaves_no_version(tmp_path, capsys):
    runs = tmp_path / "runs"
    write_version(runs, "big", [Record.make("First?", output="Yes.")], [], {"method": "answer"})
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(runs)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while shards_in_tmp(runs / "big") < 5 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert shards_in_tmp(runs / "big") >= 5, "the writer never got to writing shards"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert [v.version for v in list_versions(runs, "big")] == ["v0001"]
    assert list((runs / "big").glob(".tmp-*")), "the killed writer's temp folder is what is left"
    capsys.readouterr()
    assert main(["versions", "--out", str(runs)]) == 0
    listed = capsys.readouterr().out
    assert "big/v0001" in listed and "v0002" not in listed
    assert main(["verify", "big", "--out", str(runs)]) == 0
    assert open_version(runs / "big").version == "v0001"
    # the next run succeeds and takes the next number
    v = write_version(runs, "big", [Record.make(f"Q {i}?", output="A.") for i in range(30)], [], {},
                      shard_rows=10)
    assert v.version == "v0002" and len(v.manifest()["shards"]["records"]) == 3
    assert main(["verify", "big", "--out", str(runs)]) == 0
