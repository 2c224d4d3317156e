"""Export a dataset version to the formats people train with. Column names follow TRL:
`messages`; `prompt`/`completion`; `prompt`/`chosen`/`rejected` (conversational form).

    export(version, "messages", "out.jsonl") -> 120   (rows written)
"""
from __future__ import annotations

import json
from pathlib import Path

from datagen.versions.version import DatasetVersion
from datagen.errors import DatagenError
from datagen.extras import require
from datagen.outfile import check_output, output_dir, output_file
from datagen.record import Record

FORMATS = ("alpaca", "sharegpt", "messages", "prompt-completion", "dpo", "hf")


def to_messages(r: Record) -> list[dict]:
    if r.messages:
        return [dict(m) for m in r.messages]
    return [{"role": "user", "content": r.prompt_text()}, {"role": "assistant", "content": r.output or ""}]


def row_for(r: Record, fmt: str) -> dict:
    if fmt == "alpaca":
        return {"instruction": r.instruction, "input": r.input, "output": r.output or ""}
    if fmt == "sharegpt":
        names = {"system": "system", "user": "human", "assistant": "gpt"}
        return {"conversations": [{"from": names[m["role"]], "value": m["content"]} for m in to_messages(r)]}
    if fmt == "messages":
        return {"messages": to_messages(r)}
    if fmt == "prompt-completion":
        msgs = to_messages(r)
        return {"prompt": msgs[:-1], "completion": msgs[-1:]}
    if fmt == "dpo":
        prompt = [{"role": "user", "content": r.prompt_text()}]
        return {"prompt": prompt, "chosen": [{"role": "assistant", "content": r.output}],
                "rejected": [{"role": "assistant", "content": r.rejected}]}
    raise DatagenError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def check_format(records: list[Record], fmt: str, start: int = 0) -> None:
    """Refuse to write rows the trainer would choke on, naming the first bad record (numbered from
    `start`, the place of the batch in the version)."""
    if fmt not in FORMATS:
        raise DatagenError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if not records and not start:
        raise DatagenError("the version has no records to export")
    for i, r in enumerate(records, start):
        if fmt == "dpo" and not r.is_pair:
            raise DatagenError(f"record {i} ({r.id[:12]}) is not a preference pair (needs output and rejected); "
                               "export it with --format messages or prompt-completion")
        if fmt == "alpaca" and r.num_turns > 1:
            raise DatagenError(f"record {i} ({r.id[:12]}) is a conversation of {r.num_turns} turns and alpaca rows "
                               "hold one: export it with --format sharegpt or messages (every turn)")
        if fmt != "dpo" and not r.messages and not (r.output or "").strip():
            raise DatagenError(f"record {i} ({r.id[:12]}) has no output to train on")


def export(version: DatasetVersion, fmt: str, out: str | Path) -> int:
    """Write the version to `out` (a file; a folder for hf) through datagen.outfile: a regular file
    outside any version, replaced in one step."""
    out = Path(out)
    check_output(out, folder=fmt == "hf")  # before any work: a bad --out is named at once
    if fmt == "hf":
        datasets, = require("export --format hf", "datasets")
    if fmt != "hf" and not (fmt == "alpaca" and out.suffix == ".json"):
        return _export_lines(version, fmt, out)
    records = version.records()
    check_format(records, fmt)
    if fmt == "hf":
        # One schema for the whole table (a Dataset takes its columns from the first row): preference
        # columns when every record is a pair, else messages (a pair's chosen answer is its output).
        kind = "dpo" if all(r.is_pair for r in records) else "messages"
        rows = [row_for(r, kind) for r in records]
        with output_dir(out) as tmp:
            datasets.Dataset.from_list(rows).save_to_disk(str(tmp))
        return len(rows)
    rows = [row_for(r, fmt) for r in records]
    with output_file(out) as f:
        json.dump(rows, f, ensure_ascii=False, indent=1)
    return len(rows)


def _export_lines(version: DatasetVersion, fmt: str, out: Path) -> int:
    """JSONL formats, streamed batch by batch (sharded or one-file versions alike); a bad record
    stops the export and nothing is left at `out`."""
    check_format([], fmt, start=1)  # the format name
    if version.num_records() == 0:
        raise DatagenError("the version has no records to export")
    n = 0
    with output_file(out) as f:
        for batch in version.iter_records():
            check_format(batch, fmt, start=n)
            for r in batch:
                f.write(json.dumps(row_for(r, fmt), ensure_ascii=False) + "\n")
            n += len(batch)
    return n
