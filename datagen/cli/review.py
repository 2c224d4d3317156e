"""`datagen review VERSION|EVAL`: the local web app where people read, correct and rank data (records
mode), label preference pairs (pairs mode) and judge an eval's students blind (blind mode); and
`datagen review VERSION|EVAL --commit` (a new version from the journal) or `--summary` (agreement).

    datagen review self_align --guidelines guide.md --annotator alice
    datagen review self_align --commit
    datagen review ifeval/e0003 --mode blind --annotator bob
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from datagen.cli.flags import parse_command

USAGE = ("datagen review VERSION|EVAL [--mode records|pairs|blind] [--annotator NAME] [--port 0] [--open] "
         "[--guidelines FILE] [--commit] [--summary]")


@dataclass
class ReviewArgs:
    target: str = field(default="", metadata={"help": "a dataset version (NAME, NAME/vNNNN, folder) or an eval "
                                                      "(NAME/eNNNN, folder)", "positional": True, "required": True})
    mode: str = field(default="", metadata={"help": "records | pairs | blind (empty: pairs for a pair version, "
                                                    "records for another version, blind for an eval)"})
    annotator: str = field(default="", metadata={"help": "who labels: names the journal file (empty: the login "
                                                         "name)"})
    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on; anything but loopback makes "
                                                             "the app reachable from other machines"})
    port: int = field(default=0, metadata={"help": "port to listen on (0: a free one)", "min": 0, "max": 65535})
    open: bool = field(default=False, metadata={"help": "open the printed URL in a browser"})
    guidelines: str = field(default="", metadata={"help": "a markdown file shown beside pairs (as text)"})
    seed: int = field(default=0, metadata={"help": "seed of the per-item side randomization (recorded in the "
                                                   "journal)"})
    commit: bool = field(default=False, metadata={"help": "write a new version from the journals and exit"})
    summary: bool = field(default=False, metadata={"help": "print annotators, kappa and agreement and exit"})
    name: str = field(default="", metadata={"help": "name of a committed pair version (empty: <source>-human)"})
    runs: str = field(default="runs", metadata={"help": "where versions live"})
    evals: str = field(default="evals", metadata={"help": "where evals live"})


def cmd_review(argv: list[str]) -> int:
    """Review data in a local web app: `datagen review VERSION|EVAL [--mode M] [--annotator NAME] [--commit]`."""
    from datagen.review import open_target, pick_mode
    from datagen.review.journal import check_annotator

    a = parse_command(argv, ReviewArgs, USAGE)
    if a is None:
        return 0
    target = open_target(a.target, a.runs, a.evals)
    mode = pick_mode(target, a.mode)
    annotator = check_annotator(a.annotator or safe_login())
    if a.summary:
        from datagen.review.summary import review_lines, summarize_all

        found = summarize_all(target)
        for s in found.values():
            print("\n".join(review_lines(s)))
        if not found:
            print(f"no review of {target.ref} yet (journals: {target.journals})")
        return 0
    from datagen.review.state import Review

    review = Review(target, annotator, mode, a.seed, a.guidelines, a.name, a.runs)
    if a.commit:
        v = review.commit(mode)
        c = v.manifest()["counts"]
        print(f"{'unchanged: ' if v.unchanged else 'wrote '}{v.ref} ({c.get('kept', 0)} records, "
              f"{c.get('rejected', 0)} rejected) from the {mode} review of {target.ref}")
        return 0
    from datagen.review.server import serve

    serve(review, a.host, a.port, a.open, out=lambda line: print(line, flush=True))
    return 0


def safe_login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "annotator"
