"""Held-out loss: how well a student predicts answers it was not trained on, one number per record.

The held-out records are the `held_out_ids` of an adapter run's provenance (or, for a model that has
none, the split `datagen train` would make). Each loss is the trainer's own evaluation loss on one
row (finetune.train.set_loss_of), so it masks exactly as training does: with prompt/completion rows,
the completion tokens only.

    heldout_loss("adapters/qa/sft-0001", "qa") -> {"version": "qa/v0001", "n": 2, "mean": 2.31,
                                                   "per_row": [2.1, 2.52], "ids": ["ab12...", "9f0e..."]}
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from datagen.versions import DatasetVersion, open_version
from datagen.errors import DatagenError
from datagen.record import Record
from finetune import data

# TrainingArguments.seed's default: the seed `datagen train` passes to split_eval unless --seed is given.
DEFAULT_SEED = 42
# DataArgs.num_eval's default: how many records `datagen train` holds out.
DEFAULT_NUM_EVAL = data.DataArgs.__dataclass_fields__["num_eval"].default


def heldout_rows(version: DatasetVersion | str, ids: list[str] | None, n: int = DEFAULT_NUM_EVAL,
                 seed: int = DEFAULT_SEED, runs: str = "runs") -> list[Record]:
    """The records with these ids, in this order; without ids, the held-out part of the trainer's split
    (only records it did not also train on, as the provenance's held_out_ids).

    heldout_rows(version, None, 2, 42) -> [Record(...), Record(...)]
    """
    version = open_version(version, runs) if isinstance(version, (str, Path)) else version
    records = version.records()
    if ids is None:
        train, held = data.split_eval(records, n, seed)
        train_ids = {r.id for r in train}
        return [r for r in held if r.id not in train_ids]
    by_id = {r.id: r for r in records}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise DatagenError(f"dataset version {version.ref} has no record {missing[0][:12]} "
                           f"({len(missing)} of {len(ids)} held-out ids missing): is it the version the student "
                           "was trained on?")
    return [by_id[i] for i in ids]


def row_losses(model, tok, records: list[Record], fmt: str = "prompt-completion",
               max_length: int | None = None) -> list[float]:
    """Mean token loss of each record, one float per record, by the code path of train.py's train-set loss:
    the SFT trainer tokenizes the rows (loss on the completion only for prompt-completion) and evaluates
    them one at a time. A row whose completion is truncated away entirely (max_length) gives nan.

    row_losses(model, tok, [record]) -> [2.41]
    """
    import tempfile

    from finetune import sft

    if fmt not in data.SFT_FORMATS:
        raise DatagenError(f"held-out loss format {fmt!r}: choose one of {', '.join(data.SFT_FORMATS)}")
    if not records:
        return []
    rows = data.rows_for(records, fmt)
    with tempfile.TemporaryDirectory(prefix="datagen-heldout-") as tmp:
        # The trainer is built on one row only to get its tokenization; each row is then evaluated on its own
        # (TRL prepares a raw eval dataset exactly as it prepares training data).
        trainer = sft.make_trainer(model, tok, data.to_dataset(rows[:1]), loss_args(tmp, max_length), None)
        _quiet(trainer)
        return [_row_loss(trainer, row) for row in rows]


def _row_loss(trainer, row: dict) -> float:
    """train.py's set loss over a one-row dataset."""
    from finetune.train import set_loss_of

    try:
        return set_loss_of(trainer, data.to_dataset([row]))
    except KeyError:  # TRL dropped the row: truncation left no completion token to score, so no loss
        return math.nan


def loss_args(output_dir: str, max_length: int | None = None):
    """The SFTConfig `datagen train sft` would use (same parser, same defaults), writing nowhere that stays."""
    from finetune import args as A

    argv = ["--data", "heldout", "--model", "heldout", "--output_dir", output_dir, "--disable_tqdm", "true"]
    if max_length:
        argv += ["--max_length", str(max_length)]
    return A.parse(argv, "sft")[2]


def _quiet(trainer) -> None:
    """No metrics line printed per evaluated row (disable_tqdm swaps the progress bar for a printer)."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def trained_held_out(student: Path, version: DatasetVersion) -> list[str] | None:
    """The held_out_ids of the run a student folder came from (its own provenance.json, or its run's for a
    merged/ folder), when that run trained on this version's content; else None."""
    student = Path(student)
    for folder in (student, student.parent) if student.name == "merged" else (student,):
        p = folder / "provenance.json"
        if p.is_file():
            ds = json.loads(p.read_text(encoding="utf-8")).get("dataset", {})
            if ds.get("content_sha256") and ds.get("content_sha256") == version.manifest().get("content_sha256"):
                return list(ds.get("held_out_ids") or [])
            return None
    return None


def heldout_loss(student_spec: str, version_ref: str, runs: str = "runs", ids: list[str] | None = None,
                 base: str | None = None, fmt: str = "prompt-completion", max_length: int | None = None) -> dict:
    """Held-out loss of a student (adapter folder, model folder or .gguf) on a dataset version. Without ids:
    the student's run's held_out_ids when it was trained on this version, else the trainer's default split.
    Pass the returned ids to measure another model (e.g. the base) on the same rows.

    heldout_loss("adapters/qa/sft-0001", "qa", runs="runs") -> {"version": "qa/v0001", "n": 1, "mean": 2.3, ...}
    """
    from datagen.backends.student import resolve_student
    from datagen.hf.models import load_student

    version = open_version(version_ref, runs)
    spec = resolve_student(student_spec, base)
    if ids is None:
        ids = trained_held_out(spec.path, version)
    records = heldout_rows(version, ids)
    losses = []
    if records:
        model, tok = load_student(spec.model, spec.adapter)
        losses = row_losses(model, tok, records, fmt, max_length)
    mean = sum(losses) / len(losses) if losses else None
    return {"version": version.ref, "n": len(records), "mean": mean, "per_row": losses,
            "ids": [r.id for r in records]}
