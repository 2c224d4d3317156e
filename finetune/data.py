"""DatasetVersion -> rows in TRL's dataset formats, checked before any model is loaded.

SFT takes TRL's conversational `prompt`/`completion` (loss on the completion only) or `messages`;
DPO takes `prompt`/`chosen`/`rejected`. The row conversion is datagen.versions.export's, not a copy of it.

    load_rows(DataArgs(data="base"), "sft") -> (DatasetVersion(runs/base/v0001), [records], [rows])
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from datagen.versions import DatasetVersion, open_version
from datagen.errors import DatagenError
from datagen.jsonl import read_text
from datagen.versions.export import check_format, row_for, to_messages
from datagen.record import Record

SFT_FORMATS = ("prompt-completion", "messages")


@dataclass
class DataArgs:
    """Which dataset version to train on and which prompts to look at before and after."""
    data: str = field(metadata={"help": "Dataset version: NAME (latest), NAME/vNNNN or a version folder."})
    runs: str = field(default="runs", metadata={"help": "Folder holding the dataset versions."})
    format: str = field(default="prompt-completion", metadata={
        "help": "SFT rows: 'prompt-completion' (loss on the answer only; in a multi-turn version on every "
                "assistant turn, never on system or user tokens) or 'messages' (whole conversation). "
                "DPO always uses prompt/chosen/rejected."})
    eval_prompts: str | None = field(default=None, metadata={
        "help": "File of prompts for the before/after table (.txt: one per line; .jsonl: 'instruction'[+'input'] "
                "or 'prompt'). Default: hold out --num_eval records of the version."})
    num_eval: int = field(default=2, metadata={
        "help": "Records held out of training for the before/after table (0: no table)."})


def open_checked(data_args: DataArgs) -> tuple[DatasetVersion, list[Record]]:
    """Open the version and refuse an empty one: `datagen: error: dataset version x/v0001 has no records`."""
    version = open_version(data_args.data, data_args.runs)
    records = version.records()
    if not records:
        raise DatagenError(f"dataset version {version.ref} has no records to train on")
    return version, records


def check_kind(records: list[Record], kind: str, ref: str, fmt: str = "prompt-completion") -> str:
    """Fail on the first row the trainer cannot use; returns the export format used for the rows.

    check_kind([pair], "sft", "x/v0001") -> DatagenError("... record 0 (ab12..) is a preference pair ...")
    """
    if kind == "sft":
        if fmt not in SFT_FORMATS:
            raise DatagenError(f"--format {fmt!r} is not an SFT format; choose one of: {', '.join(SFT_FORMATS)}")
        for i, r in enumerate(records):
            if r.is_pair:
                raise DatagenError(f"dataset version {ref} is a preference version: record {i} ({r.id[:12]}) has "
                                   "a 'rejected' answer; train it with `datagen train dpo`")
    elif kind == "dpo":
        fmt = "dpo"
        for i, r in enumerate(records):
            if not r.is_pair:
                raise DatagenError(f"dataset version {ref} is not a preference version: record {i} ({r.id[:12]}) "
                                   "has no 'rejected' answer; train it with `datagen train sft`")
    else:
        raise DatagenError(f"unknown trainer {kind!r}; choose sft or dpo")
    try:
        check_format(records, fmt)
    except DatagenError as exc:
        raise DatagenError(f"dataset version {ref}: {exc}") from None
    for i, r in enumerate(records):
        if kind == "dpo" and not (r.output.strip() and r.rejected.strip()):
            raise DatagenError(f"dataset version {ref}: record {i} ({r.id[:12]}) has an empty chosen or rejected answer")
    return fmt


def split_eval(records: list[Record], n: int, seed: int) -> tuple[list[Record], list[Record]]:
    """Hold out n records (chosen with random.Random(seed)) for the before/after table. With too few
    records to spare (fewer than 2n + 1) nothing is held out and the table shows n training prompts.

    split_eval(ten_records, 2, 42) -> (8 records, 2 records)
    """
    if n <= 0:
        return records, []
    idx = sorted(random.Random(seed).sample(range(len(records)), min(n, len(records))))
    picked = [records[i] for i in idx]
    if len(records) < 2 * n + 1:
        return records, picked
    keep = set(idx)
    return [r for i, r in enumerate(records) if i not in keep], picked


def rows_for(records: list[Record], fmt: str) -> list[dict]:
    """Rows in TRL's columns via datagen.versions.export.row_for: {"prompt": [...], "completion": [...]} etc.
    A version with multi-turn conversations, in prompt-completion (loss on the answers only), gives
    {"conversation": [...]} rows instead: finetune.sft tokenizes them with labels on every assistant turn
    (conversation_labels), since TRL's prompt/completion would train on the last answer only."""
    if fmt == "prompt-completion" and any(r.num_turns > 1 for r in records):
        return [{"conversation": to_messages(r)} for r in records]
    return [row_for(r, fmt) for r in records]


def _ids(tok, messages: list[dict], generation_prompt: bool = False) -> list[int]:
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
    return tok(text, add_special_tokens=False)["input_ids"]


def conversation_labels(messages: list[dict], tok) -> dict:
    """A conversation rendered with the tokenizer's chat template -> {"input_ids", "labels"}: each
    assistant turn's tokens (its end-of-turn marker included) keep their id as label, every other token
    (system, user, the role headers) gets -100. Turn k spans from the end of the prompt up to it
    (rendered with the generation prompt) to the end of the conversation through turn k; a template
    that renders a prefix of the conversation differently is refused.

        conversation_labels([user, assistant, user, assistant], tok)
        -> {"input_ids": [...], "labels": [-100, ..., 42, ...]}
    """
    ids = _ids(tok, messages)
    labels = [-100] * len(ids)
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        start, end = _ids(tok, messages[:i], True), _ids(tok, messages[: i + 1])
        if ids[: len(start)] != start or ids[: len(end)] != end:
            raise DatagenError("the student's chat template does not render a conversation's first turns the "
                               "same way as the whole conversation, so its assistant turns cannot be located; "
                               "train this version with --format messages (loss on every token)")
        labels[len(start):len(end)] = ids[len(start):len(end)]
    return {"input_ids": ids, "labels": labels}


def tokenize_conversations(dataset, tok):
    """A dataset of {"conversation": [...]} rows -> pre-tokenized {"input_ids", "labels"} rows (TRL uses the
    labels as they are)."""
    return dataset.map(lambda row: conversation_labels(row["conversation"], tok), remove_columns=["conversation"])


def to_dataset(rows: list[dict]):
    import datasets

    return datasets.Dataset.from_list(rows)


def prompt_messages(r: Record) -> list[dict]:
    """The conversation up to (not including) the answer the student should give."""
    if r.messages:
        return [dict(m) for m in r.messages[:-1]] if r.messages[-1]["role"] == "assistant" \
            else [dict(m) for m in r.messages]
    return [{"role": "user", "content": r.prompt_text()}]


def read_prompts(path: str | Path) -> list[list[dict]]:
    """A prompts file -> chat prompts. `.jsonl` rows: {"instruction", "input"} | {"prompt": str | messages};
    any other file: one prompt per non-empty line.

    read_prompts("p.txt")  # "Name a color.\\n" -> [[{"role": "user", "content": "Name a color."}]]
    """
    p = Path(path)
    out = []
    lines = read_text(p, "prompts file").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if p.suffix != ".jsonl":
            out.append([{"role": "user", "content": line.strip()}])
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatagenError(f"{path} line {n}: invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise DatagenError(f"{path} line {n}: JSON nested too deeply") from None
        prompt = row.get("prompt") if isinstance(row, dict) else None
        if isinstance(prompt, list):
            out.append([dict(m) for m in prompt])
        elif isinstance(prompt, str) or (isinstance(row, dict) and row.get("instruction")):
            text = prompt if isinstance(prompt, str) else \
                Record.make(row["instruction"], row.get("input", "")).prompt_text()
            out.append([{"role": "user", "content": text}])
        else:
            raise DatagenError(f"{path} line {n}: expected a 'prompt' or 'instruction' field")
    if not out:
        raise DatagenError(f"prompts file {path} is empty")
    return out
