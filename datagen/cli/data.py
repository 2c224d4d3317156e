"""Bring your own data: `datagen import` (any instruction dataset into a version) and `datagen select`
(the best N of a version under a budget).

    datagen import alpaca.json --name mine                  # format detected and named
    datagen select --from mine --budget 100 --seed 0        # longest answers, near duplicates skipped
"""
from __future__ import annotations

import logging
import os

from datagen import config as C
from datagen.cli.flags import help_text, parse_command, parse_overrides, wants_help
from datagen.cli.generate import ALIASES, stopped_line

MALFORMED_SHOWN = 10


def cmd_import(argv: list[str]) -> int:
    """Import a dataset file or folder: `datagen import SOURCE --name NAME [--format auto] [--map a=b]`."""
    from datagen.importing.run import ImportConfig, import_source

    cfg = parse_command(argv, ImportConfig, "datagen import SOURCE --name NAME [--format auto|alpaca|"
                        "self-instruct|sharegpt|messages|prompt-completion|dpo|hf] [--map TARGET=COLUMN,...]",
                        {"out": "output_dir"})
    if cfg is None:
        return 0
    v, info = import_source(cfg)
    c = info["counts"]
    print(f"import: format {info['format']} ({info['how']})")
    if v.unchanged:
        print(f"unchanged: the imported data equals {v.ref}; no new version written")
    else:
        print(f"wrote {v.path}")
    kept = c["rows"] - c["malformed"] - c["exact_duplicate"]
    print(f"  kept {kept} of {c['rows']} rows; malformed {c['malformed']}, exact_duplicate {c['exact_duplicate']}")
    for detail in info["malformed"][:MALFORMED_SHOWN]:
        print(f"  malformed: {detail}")
    if c["malformed"] > MALFORMED_SHOWN:
        print(f"  ... {c['malformed'] - MALFORMED_SHOWN} more: datagen show {v.ref} --rejected --n {c['malformed']}")
    return 0


def load_select_config(argv: list[str]):
    from datagen.select.run import SelectConfig

    recipe, argv = C.split_config(argv)
    data = C.load_yaml(recipe) if recipe else {}
    return C.build(SelectConfig, C.merge(data, parse_overrides(argv, ALIASES, SelectConfig)))


def quiet_embedding() -> None:
    """No weight-loading bar or model-path line from the embedding model (DATAGEN_LIBRARY_LOGS=1 shows them)."""
    from datagen.cli.quiet import quiet_libraries

    if os.environ.get("DATAGEN_LIBRARY_LOGS") != "1":
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    quiet_libraries()


def cmd_select(argv: list[str]) -> int:
    """Choose the best N records of a version: `datagen select --from VERSION --budget N --seed 0 [--scorer length]`."""
    from datagen.select.run import SelectConfig, select

    if wants_help(argv):
        print(help_text(SelectConfig, "datagen select --from VERSION --budget N --seed S [--scorer length|lexical|"
                        "teacher] [--threshold 0.9] [--config RECIPE]",
                        ["", "short flags: " + ", ".join(f"--{k} = --{v}" for k, v in ALIASES.items()
                                                         if v.startswith(("teacher.", "sampling.", "from", "output")))]))
        return 0
    cfg = load_select_config(argv)
    quiet_embedding()
    v = select(cfg)
    m = v.manifest()
    s = m["selection"]
    if v.unchanged:
        print(f"unchanged: the selection equals {v.ref}; no new version written")
        return 0
    print(f"wrote {v.path} (parent {m['parent']})")
    lo, hi = s["score_range_chosen"]
    print(f"  chose {s['chosen']} of {m['counts']['input']} by {s['scorer']} (scores {lo:g} to {hi:g}); not selected: "
          f"{s['similar']} too similar (cosine > {s['threshold']:g}), {s['over_budget']} over the budget, "
          f"{s['unscored']} unscored" if lo is not None else
          f"  chose {s['chosen']} of {m['counts']['input']}; none could be scored")
    if s["filled_similar"]:
        print(f"  {s['filled_similar']} of the chosen are within the threshold of another: too few distinct "
              "records for the budget")
    if m.get("stopped"):
        print(stopped_line(m))
    return 0
