"""The read-only commands over dataset versions: versions, show, export, verify, diff, report.
Each has a dataclass of options parsed by the one flag parser (datagen.cli.flags).

    datagen show self_instruct --rejected --n 10
    datagen verify self_instruct/v0002
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from datagen.cli.flags import parse_command
from datagen.cli.terminal import show
from datagen.errors import DatagenError

VERSION_HELP = "NAME (latest), NAME/vNNNN or a version folder"


def _version(required: bool = True):
    return field(default="", metadata={"help": VERSION_HELP, "positional": True, "required": required})


@dataclass
class VersionsArgs:
    names: list[str] = field(default_factory=list, metadata={"help": "dataset names (empty = all)",
                                                             "positional": True})
    out: str = field(default="runs", metadata={"help": "where versions live"})


@dataclass
class ShowArgs:
    version: str = _version()
    out: str = field(default="runs", metadata={"help": "where versions live"})
    n: int = field(default=5, metadata={"help": "rejected rows shown with --rejected", "min": 0})
    rejected: bool = field(default=False, metadata={"help": "also show rejected rows with reason and stage"})
    manifest: bool = field(default=False, metadata={"help": "print manifest.json instead of the card"})
    tree: str | None = field(default=None, metadata={"help": "print the evolution tree of this record id"})
    ids: bool = field(default=False, metadata={"help": "print the kept records' ids, one per line (for scripts)"})


@dataclass
class ExportArgs:
    version: str = _version()
    format: str = field(default="messages", metadata={"help": "alpaca | sharegpt | messages | prompt-completion | "
                                                              "dpo | hf"})
    out: str = field(default="", metadata={"help": "file (or folder for hf) to write (required)"})
    runs: str = field(default="runs", metadata={"help": "where versions live"})


@dataclass
class VerifyArgs:
    version: str = _version()
    out: str = field(default="runs", metadata={"help": "where versions live"})


@dataclass
class DiffArgs:
    base: str = field(default="", metadata={"help": "the older version", "positional": True, "required": True})
    target: str = field(default="", metadata={"help": "the newer version", "positional": True, "required": True})
    out: str = field(default="runs", metadata={"help": "where versions live"})
    summary: bool = field(default=False, metadata={"help": "counts only, no ids"})


@dataclass
class ReportArgs:
    version: str = _version()
    out: str = field(default="", metadata={"help": "HTML file to write (empty = <version>-report.html)"})
    runs: str = field(default="runs", metadata={"help": "where versions live"})
    prices: str = field(default="", metadata={"help": "USD per million input,output tokens, e.g. 0.15,0.6; "
                                                   "then batch input,output (default: half)"})
    diff_against: str = field(default="", metadata={"help": "also show what changed since this version"})
    evals: str = field(default="evals", metadata={"help": "where `datagen eval` results live: students trained "
                                                          "on this version are shown"})


def cmd_versions(argv: list[str]) -> int:
    """List dataset versions: `datagen versions [NAME ...] [--out runs]`."""
    from datagen.versions import list_versions

    a = parse_command(argv, VersionsArgs, "datagen versions [NAME ...] [--out runs]")
    if a is None:
        return 0
    root = Path(a.out)
    names = a.names or (sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
                        if root.is_dir() else [])
    if not names:
        print(f"no dataset versions under {root}")
        return 0
    missing = [n for n in names if not list_versions(root, n)]
    if missing and a.names:
        raise DatagenError(f"no dataset versions named {', '.join(missing)} under {root}")
    for name in names:
        for v in list_versions(root, name):
            try:  # one damaged manifest is marked, the others still listed
                m = v.manifest()
                c = m.get("counts", {})
                print(f"{v.ref:32s} {str(m.get('method', '?')):14s} kept {int(c.get('kept', 0)):6d}  rejected "
                      f"{int(c.get('rejected', 0)):6d}  parent {str(m.get('parent') or '-'):20s} "
                      f"{m.get('created_at', '')}")
            except (DatagenError, AttributeError, TypeError, ValueError) as exc:
                why = str(exc).split(": ", 1)[-1].split(";")[0] if isinstance(exc, DatagenError) else "bad counts"
                print(f"{v.ref:32s} DAMAGED ({why}): `datagen verify {v.ref}` says more")
    return 0


def cmd_show(argv: list[str]) -> int:
    """Show a version: `datagen show NAME[/vNNNN] [--n 5] [--rejected] [--manifest] [--tree ID]`."""
    from datagen.versions import open_version

    a = parse_command(argv, ShowArgs, "datagen show VERSION [--n 5] [--rejected] [--manifest] [--tree ID] [--ids]")
    if a is None:
        return 0
    v = open_version(a.version, a.out)
    if a.ids:
        print("\n".join(r.id for r in v.records()))
        return 0
    if a.tree is not None:  # the evolution tree of one record, from the version alone
        if not a.tree.strip():
            raise DatagenError("--tree needs a record id (datagen show VERSION --ids lists them)")
        from datagen.versions.tree import render_tree
        show(render_tree(v, a.tree))
        return 0
    if a.manifest:
        show(json.dumps(v.manifest(), indent=2, ensure_ascii=False))
        return 0
    show((v.path / "README.md").read_text(encoding="utf-8"))  # records' text escaped on a terminal
    if a.rejected:
        for rej in v.rejected()[: a.n]:
            show(f"[{rej.reason} @ {rej.stage}] {rej.record.instruction[:120]!r} {rej.detail[:60]}")
    return 0


def cmd_export(argv: list[str]) -> int:
    """`datagen export VERSION --format alpaca|sharegpt|messages|prompt-completion|dpo|hf --out PATH`."""
    from datagen.versions import open_version
    from datagen.versions.export import export

    a = parse_command(argv, ExportArgs, "datagen export VERSION --format FORMAT --out PATH")
    if a is None:
        return 0
    if not a.out:
        raise DatagenError("usage: datagen export VERSION --format FORMAT --out PATH")
    n = export(open_version(a.version, a.runs), a.format, a.out)
    print(f"wrote {n} rows ({a.format}) to {a.out}")
    return 0


def cmd_verify(argv: list[str]) -> int:
    """Check a version's files against its manifest's sha256: `datagen verify VERSION`."""
    from datagen.versions import open_version, verify_version

    a = parse_command(argv, VerifyArgs, "datagen verify VERSION [--out runs]")
    if a is None:
        return 0
    v = open_version(a.version, a.out)
    for name, sha in verify_version(v).items():
        print(f"ok  {name}  {sha}")
    print(f"{v.ref}: every file matches its manifest")
    return 0


def cmd_diff(argv: list[str]) -> int:
    """Compare two versions: `datagen diff V1 V2 [--out runs] [--summary]`."""
    from datagen.versions import open_version
    from datagen.versions import diff_versions
    from datagen.record import short_id

    a = parse_command(argv, DiffArgs, "datagen diff V1 V2 [--out runs] [--summary]")
    if a is None:
        return 0
    base, target = open_version(a.base, a.out), open_version(a.target, a.out)
    d = diff_versions(base, target)
    print(f"{d['base']} -> {d['target']}: {len(d['added'])} added, {len(d['removed'])} removed, "
          f"{len(d['changed'])} changed")
    if not a.summary:
        text = {r.id: " ".join(r.instruction.split())[:80] for v in (base, target) for r in v.records()}
        for rid in d["removed"]:
            show(f"- {short_id(rid)}  {text[rid]}")
        for rid in d["added"]:
            show(f"+ {short_id(rid)}  {text[rid]}")
        for old, new in d["changed"]:
            show(f"~ {short_id(old)} -> {short_id(new)}  {text[new]}")
    return 0


def students_of(version, evals_dir: str) -> dict | None:
    """The comparison rows (dataset -> student -> eval) of students trained on this version."""
    from datagen.evaluation.compare import HEAD, cells, rows_for_version
    from datagen.evaluation.store import list_evals

    rows = rows_for_version(list_evals(evals_dir), version.ref, version.manifest().get("content_sha256"))
    return {"head": list(HEAD), "rows": [cells(r) for r in rows]} if rows else None


def reviews_of_version(version) -> dict | None:
    """The human reviews of this version (`datagen review` journals), as a table, or None."""
    from datagen.review.summary import review_table, reviews_of

    return review_table(reviews_of("version", version.ref, version.path, version))


def cmd_report(argv: list[str]) -> int:
    """Write an HTML report: `datagen report VERSION --out report.html [--prices 0.15,0.6] [--diff-against V]`."""
    from datagen.versions import open_version
    from datagen.versions import diff_versions
    from datagen.report import write_report

    a = parse_command(argv, ReportArgs, "datagen report VERSION --out report.html [--prices IN,OUT] "
                                        "[--diff-against V]")
    if a is None:
        return 0
    v = open_version(a.version, a.runs)
    prices = None
    if a.prices:
        try:
            numbers = [float(x) for x in a.prices.split(",")]
            if len(numbers) not in (2, 4) or not all(math.isfinite(x) and x >= 0 for x in numbers):
                raise ValueError
        except ValueError:
            raise DatagenError("--prices takes two numbers (0 or more), USD per million input and output tokens: 0.15,0.6 "
                               "(four with the batch API's: 0.15,0.6,0.075,0.3)") from None
        prices = dict(zip(("input", "output", "batch_input", "batch_output"), numbers))
    diff = diff_versions(open_version(a.diff_against, a.runs), v) if a.diff_against else None
    out = write_report(v, a.out or v.path.name + "-report.html", prices, diff, students_of(v, a.evals),
                       reviews_of_version(v))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0
