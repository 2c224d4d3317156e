"""`datagen eval` (students and their base on an eval set) and `datagen compare` (the table of
dataset version -> student -> eval).

    datagen eval --students adapters/self_instruct/sft-0001 --limit 40
    datagen compare --format md
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from datagen import config as C
from datagen.cli.flags import help_text, parse_command, parse_overrides, wants_help
from datagen.cli.generate import ALIASES
from datagen.errors import DatagenError

EVAL_ALIASES = {**{k: v for k, v in ALIASES.items() if not v.startswith(("method_cfg.", "from_version"))},
                "student": "students", "eval": "eval_set"}


def load_eval_config(argv: list[str]):
    from datagen.evaluation.config import EvalConfig

    recipe, argv = C.split_config(argv)
    data = C.load_yaml(recipe) if recipe else {}
    cfg = C.build(EvalConfig, C.merge(data, parse_overrides(argv, EVAL_ALIASES, EvalConfig)))
    cfg.check()
    return cfg


def cmd_eval(argv: list[str]) -> int:
    """Evaluate students (and their base): `datagen eval --students ADAPTER[,ADAPTER] [--limit N] [judge options]`."""
    from datagen.evaluation.config import EvalConfig
    from datagen.evaluation.evaluate import evaluate

    if wants_help(argv):
        print(help_text(EvalConfig, "datagen eval --students ADAPTER_OR_MODEL[,...] [--config RECIPE] "
                        "[--key value ...]", ["", "short flags: " + ", ".join(
                            f"--{k} = --{v}" for k, v in EVAL_ALIASES.items())]))
        return 0
    from datagen.cli.quiet import quiet_libraries

    cfg = load_eval_config(argv)
    quiet_libraries()
    folder = evaluate(cfg)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    print(f"wrote {folder}")
    from datagen.evaluation.compare import compare_rows, paired_lines, render_table

    print(render_table(compare_rows([folder])))
    for line in paired_lines(summary):
        print(line)
    for p in summary["pairs"]:
        print(f"  {p['a']} vs {p['b']}: {p['wins']} wins, {p['ties']} ties, {p['losses']} losses "
              f"(ties: {', '.join(f'{k} {v}' for k, v in p['reasons'].items() if v and k != 'consistent') or '-'})")
    return 0


@dataclass
class CompareArgs:
    evals: list[str] = field(default_factory=list, metadata={
        "help": "eval folders or NAME[/eNNNN] (empty = every eval under --out)", "positional": True})
    out: str = field(default="evals", metadata={"help": "where evals live"})
    format: str = field(default="text", metadata={"help": "text | md | json"})
    latest: bool = field(default=False, metadata={"help": "only the latest eval of each name"})


def cmd_compare(argv: list[str]) -> int:
    """Compare students across dataset versions: `datagen compare [EVAL ...] [--format text|md|json]`."""
    from datagen.evaluation.compare import compare_rows, paired_lines, render_table
    from datagen.evaluation.store import list_evals, open_eval, read_json

    a = parse_command(argv, CompareArgs, "datagen compare [EVAL ...] [--out evals] [--format text|md|json]")
    if a is None:
        return 0
    if a.format not in ("text", "md", "json"):
        raise DatagenError(f"--format must be text, md or json, got {a.format!r}")
    folders = [open_eval(e, a.out) for e in a.evals] if a.evals else list_evals(a.out)
    if a.latest:
        folders = list({f.parent: f for f in folders}.values())
    if not folders:
        print(f"no evals under {a.out}")
        return 0
    rows = compare_rows(folders)
    if a.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    print(render_table(rows, a.format))
    for folder in folders:  # each eval's paired comparisons (student - base, student - student) and human reviews
        lines = paired_lines(read_json(folder / "summary.json")) + human_review_lines(folder)
        if lines:
            print(f"\n{folder}:" + ("\n" if a.format == "md" else ""))
            print("\n".join(lines))
    return 0


def human_review_lines(folder) -> list[str]:
    """`datagen review` of this eval: annotators, kappa, human-judge agreement, human win rates beside the judge's."""
    from datagen.review.summary import review_lines, reviews_of

    found = reviews_of("eval", f"{folder.parent.name}/{folder.name}", folder)
    return ["  human review, " + line.lstrip() if i == 0 else "  " + line
            for s in found.values() for i, line in enumerate(review_lines(s))]
