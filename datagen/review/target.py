"""What a review opens: a dataset version (records, or the pairs in it) or a `datagen eval` (its
students' answers side by side), with the folder its journals live in.

    open_target("toy", runs="runs", evals="evals") -> Target(kind="version", ref="toy/v0001", ...)
    open_target("ifeval/e0001") -> Target(kind="eval", ...)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datagen.errors import DatagenError
from datagen.evaluation.store import open_eval, read_json
from datagen.review.journal import journal_dir
from datagen.versions import DatasetVersion, open_version

MODES = ("records", "pairs", "blind")


@dataclass
class Target:
    kind: str                 # "version" | "eval"
    ref: str                  # "toy/v0001" | "ifeval/e0001"
    path: Path                # the immutable folder
    version: DatasetVersion | None = None

    @property
    def journals(self) -> Path:
        return journal_dir(self.path)

    @property
    def runs(self) -> Path:
        """Where a version committed from a version's review goes: beside it."""
        return self.path.parent.parent

    def modes(self) -> list[str]:
        """A version: records, and pairs when it holds preference pairs or best-of-n candidates; an eval:
        pairs (names shown) and blind (names hidden until the end)."""
        if self.kind == "eval":
            return ["blind", "pairs"]
        from datagen.review.pairs import version_has_pairs

        return ["pairs", "records"] if version_has_pairs(self.version) else ["records"]

    def eval_summary(self) -> dict:
        return read_json(self.path / "summary.json") if self.kind == "eval" else {}


def open_target(ref: str, runs: str | Path = "runs", evals: str | Path = "evals") -> Target:
    """A version (NAME, NAME/vNNNN or a folder) first, then an eval (NAME, NAME/eNNNN or a folder)."""
    try:
        v = open_version(ref, runs)
        return Target("version", v.ref, v.path, v)
    except DatagenError as first:
        try:
            folder = open_eval(ref, evals)
        except DatagenError:
            raise DatagenError(f"{first}; no eval named {ref} under {evals} either") from None
        return Target("eval", f"{folder.parent.name}/{folder.name}", folder)


def pick_mode(target: Target, mode: str) -> str:
    modes = target.modes()
    if not mode:
        return modes[0]
    if mode not in MODES:
        raise DatagenError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode not in modes:
        raise DatagenError(f"{target.ref} cannot be reviewed in {mode} mode; it offers {', '.join(modes)}")
    return mode
