"""Best-of-n (rejection sampling) over an existing version: records with the same prompt (instruction and
input) are candidates; each is scored by a verifier or a reward model (filters/scorers.py) and only the
best of each prompt is kept. The others are dropped as `not_best` with their score, an answer the
verifier failed on as `verifier_error` with the message, and every record carries `score`, `scorer`
and its prompt's `candidate_scores` in meta. Inside generation, `--method answer --method_cfg.n 4
--method_cfg.scorer ...` does the same on fresh samples and can also write best/worst pairs.

    BestOfN(verifier="shorter")([Record("Hi?", output="Hello there."), Record("Hi?", output="Hi.")])
    -> [("not_best", "score -2, best -1"), None]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.record import Record
from filters.base import Filter
from filters.scorers import make_scorer, pick


def group_by_prompt(records: list[Record]) -> list[list[int]]:
    """Indices grouped by (instruction, input), groups in first-seen order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault((r.instruction, r.input), []).append(i)
    return list(groups.values())


def shown(score) -> str:
    return f"{score:.4g}"


@dataclass
class BestOfN(Filter):
    """Keep the best-scored answer of each prompt (Best-of-n / rejection sampling: Nakano et al. 2021,
    WebGPT sec. 4; Touvron et al. 2023, Llama 2 sec. 3.2.3)."""
    scorer: str = field(default="verifier", metadata={"help": "verifier | reward_model (the judge: use "
                                                               "`--method answer --method_cfg.scorer judge`)"})
    verifier: str = field(default="", metadata={
        "help": "bundled verifier (json_parses, python_runs, matches_reference, shorter, hedging, constraints, constraints_all) or module:function"})
    reward_model: str = field(default="", metadata={
        "help": "a `datagen train reward` run folder or a sequence-classification model folder"})
    min_score: float | None = field(default=None, metadata={
        "help": "also drop a best answer scoring below this (low_score); empty = keep every best"})

    def __post_init__(self) -> None:
        if self.scorer == "judge":
            raise DatagenError("best_of_n.scorer judge runs inside generation: `datagen generate --method answer "
                               "--method_cfg.n 4 --method_cfg.scorer judge`; on a version use the `judge` filter")
        self._scorer = make_scorer(self.scorer, verifier=self.verifier, reward_model=self.reward_model)
        self._notes: dict[str, dict] = {}

    def annotations(self) -> dict[str, dict]:
        return self._notes

    def __call__(self, records: list[Record]) -> list:
        verdicts: list = [None] * len(records)
        self._notes = {}
        groups = group_by_prompt(records)
        scores = self._scorer.score([records[g[0]] for g in groups], [[records[i].output or "" for i in g]
                                                                       for g in groups])
        for idx, row in zip(groups, scores):
            best, _ = pick(row)
            listed = [None if isinstance(s, tuple) else s for s in row]
            for i, s in zip(idx, row):
                note = {"scorer": self._scorer.name, "candidate_scores": listed}
                if isinstance(s, tuple):
                    verdicts[i] = s
                else:
                    note["score"] = s
                    if i != idx[best]:
                        verdicts[i] = ("not_best", f"score {shown(s)}, best {shown(row[best])}")
                    elif self.min_score is not None and s < self.min_score:
                        verdicts[i] = ("low_score", f"score {shown(s)} < min_score {shown(self.min_score)}")
                self._notes[records[i].id] = note
        return verdicts
