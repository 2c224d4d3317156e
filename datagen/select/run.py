"""`datagen select`: score a version's records, then choose the best `budget` of them, skipping near
duplicates of what is already chosen; the child version holds the chosen ones best first, and
rejected.parquet the others (`not_selected`, with their scores in meta and why in detail).

    select(SelectConfig(from_version="mine/v0001", budget=100, seed=0)) -> DatasetVersion(mine/v0002)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from datagen import config as C
from datagen.backends import public_config
from datagen.versions import DatasetVersion, Rejection, open_version, write_version
from datagen.errors import DatagenError
from datagen.extras import require
from datagen.names import check_name
from datagen.progress import Progress
from datagen.record import canonical_json, sha256_text, short_id
from datagen.select.greedy import choose, embed, order_by_score
from datagen.select.scorers import SCORERS, score
from datagen.session import SessionConfig, open_session

DIVERSITY = "datagen select's diversity check (--threshold 1 turns it off)"


@dataclass
class SelectConfig(SessionConfig):
    from_version: str = field(default="", metadata={"help": "version to select from: NAME, NAME/vNNNN or a directory (required)"})
    budget: int | None = field(default=None, metadata={"help": "records to choose (required; all if fewer)", "min": 1})
    scorer: str = field(default="length", metadata={"help": " | ".join(SCORERS) + ": output words, MTLD lexical "
                                                           "diversity of the output, or the teacher's complexity x quality"})
    threshold: float = field(default=0.9, metadata={"help": "skip a record whose cosine to a chosen one is above this "
                                                            "(1 = no diversity pass, no embedding)", "min": -1.0, "max": 1.0})
    fields: list[str] = field(default_factory=lambda: ["instruction", "input"], metadata={"help": "fields embedded"})
    embedding_model: str = field(default="bundled", metadata={
        "help": "embedding model of the diversity pass: bundled (all-MiniLM-L6-v2) or a local sentence-transformers "
                "folder (--model is the teacher's, for --scorer teacher)"})
    name: str = field(default="", metadata={"help": "dataset name of the new version (empty = the parent's)"})
    output_dir: str = field(default="", metadata={"help": "where versions live (empty = the parent's folder)"})

    def check(self) -> None:
        if not self.from_version:
            raise DatagenError("--from VERSION is required (e.g. --from mine/v0001)")
        if self.name:
            check_name(self.name, "dataset name")
        if self.budget is None:
            raise DatagenError("--budget N is required: how many records to choose")
        if self.seed is None:
            raise DatagenError("--seed is required: it orders records with equal scores")
        if self.executor != "local":
            raise DatagenError("datagen select runs locally: --executor local")
        if self.scorer not in SCORERS:
            raise DatagenError(f"unknown scorer {self.scorer!r}; choose one of: {', '.join(SCORERS)}")
        if self.teacher.model and self.scorer != "teacher":  # `--model DIR` meant for the embeddings
            raise DatagenError(f"--model sets the teacher's model, which --scorer {self.scorer} does not use; the "
                               f"diversity pass's model is --embedding-model")
        bad = [f for f in self.fields if f not in ("instruction", "input", "output")]
        if bad or not self.fields:
            raise DatagenError(f"--fields takes instruction, input and output, got {', '.join(bad) or 'none'}")


def _detail(i: int, skipped: dict, records, scores) -> str:
    if scores[i] is None:
        return "unscored"
    if i in skipped:
        j, sim = skipped[i]
        return f"similar to {short_id(records[j].id)} (cosine {sim:.3f} > threshold)"
    return "over_budget"


def select(cfg: SelectConfig, backend=None, progress: Progress | None = None) -> DatasetVersion:
    """`backend` replaces the configured teacher (tests pass a FakeTeacher)."""
    cfg.check()
    parent = open_version(cfg.from_version, cfg.output_dir or "runs")
    output_dir = Path(cfg.output_dir) if cfg.output_dir else parent.path.parent.parent
    pm = parent.manifest()
    records = parent.records()
    if not records:
        raise DatagenError(f"{parent.ref} has no records to select from")
    diverse = cfg.threshold < 1.0 and cfg.budget < len(records)  # a budget that takes all needs no embedding
    if diverse:  # before the teacher scores anything
        require(DIVERSITY, "sentence_transformers")
    run_id = sha256_text(canonical_json({"select": C.to_dict(cfg)}))[:12]
    purpose = "the teacher scorer" if cfg.scorer == "teacher" else None
    with open_session(cfg, output_dir, run_id, backend, progress, purpose=purpose) as session:
        scored = score(cfg.scorer, records, session.ctx)
    scores = [s for s, _ in scored]
    records = [dataclasses.replace(r, meta={**r.meta, **m, "select_scorer": cfg.scorer})
               for r, (_, m) in zip(records, scored)]
    order = order_by_score(scores, cfg.seed)  # unscored records last
    emb = embed(records, cfg.fields, cfg.embedding_model, what=DIVERSITY) if diverse else None
    chosen, skipped = choose(emb, order, cfg.budget, cfg.threshold)
    filled = [i for i in order if i in skipped][:cfg.budget - len(chosen)]
    chosen += filled  # too many alike to meet the budget: the best of the skipped ones, counted
    chosen_at = set(chosen)
    rejected = [Rejection(records[i], "not_selected", "select", _detail(i, skipped, records, scores))
                for i in order if i not in chosen_at]
    manifest = {
        "method": "select",
        "parent": parent.ref,
        "parent_content_sha256": pm.get("content_sha256"),
        "config": public_config(C.to_dict(cfg)),
        "counts": {"input": len(records), "parent_rejected": pm.get("counts", {}).get("rejected", 0),
                   "rejected_scope": "this selection only; the parent's rejections stay in " + parent.ref},
        "selection": _summary(cfg, scores, chosen, filled, rejected),
        **session.teacher_manifest(),
    }
    return write_version(output_dir, cfg.name or parent.name, [records[i] for i in chosen], rejected, manifest)


def _summary(cfg: SelectConfig, scores: list, chosen: list[int], filled: list[int], rejected: list[Rejection]) -> dict:
    why = [rej.detail.split(" ")[0] for rej in rejected]
    picked = [scores[i] for i in chosen if scores[i] is not None]
    return {"scorer": cfg.scorer, "budget": cfg.budget, "threshold": cfg.threshold, "chosen": len(chosen),
            "scored": sum(s is not None for s in scores), "filled_similar": len(filled),
            "similar": why.count("similar"), "over_budget": why.count("over_budget"),
            "unscored": why.count("unscored"),
            "score_range_chosen": [min(picked, default=None), max(picked, default=None)]}
