"""`datagen COMMAND ...`: a thin layer over the library. The command list is literal (TRL style).
Any bad input ends with one line on stderr and exit code 2; set DATAGEN_DEBUG=1 for tracebacks.

    datagen generate                      # the main job on the embedded teacher
    datagen generate --config my.yaml --teacher openai --base-url http://127.0.0.1:8080/v1
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from pathlib import Path

from datagen import config as C
from datagen.errors import DatagenError

DEFAULT_METHOD = "self_instruct"

# Short flags -> dotted config keys. `--a.b value` always works as well.
ALIASES = {
    "teacher": "teacher.backend",
    "backend": "teacher.backend",
    "model": "teacher.model",
    "base_url": "teacher.base_url",
    "api_key_env": "teacher.api_key_env",
    "endpoint": "teacher.endpoint",
    "concurrency": "teacher.concurrency",
    "timeout": "teacher.timeout",
    "max_tokens": "sampling.max_tokens",
    "temperature": "sampling.temperature",
    "top_p": "sampling.top_p",
    "out": "output_dir",
    "from": "from_version",
    "principles": "method_cfg.principles",
    "exemplars": "method_cfg.exemplars",
    "pairs": "method_cfg.pairs",
    "rounds": "method_cfg.num_rounds",
    "operations": "method_cfg.operations",
    "max_pool": "method_cfg.max_pool",
}


def recipe_path(name: str) -> Path:
    """Named presets live in datagen/recipes/<name>.yaml."""
    return Path(__file__).resolve().parent / "recipes" / f"{name}.yaml"


def load_run_config(argv: list[str]):
    """--config RECIPE (or the preset of --method) fills RunConfig; the other flags override it."""
    from datagen.run import RunConfig

    recipe, argv = C.split_config(argv)
    overrides = C.parse_overrides(argv, ALIASES)
    if recipe:
        data = C.load_yaml(recipe)
    else:
        method = overrides.get("method", DEFAULT_METHOD)
        preset = recipe_path(str(method))
        if not preset.is_file():
            raise DatagenError(f"no preset recipe for method {method!r}; pass --config RECIPE")
        data = C.load_yaml(preset)
    data = C.merge(data, overrides)
    cfg = C.build(RunConfig, data)
    if not cfg.name:
        cfg.name = cfg.method
    return cfg


def cmd_generate(argv: list[str]) -> int:
    """Run a method and write a new dataset version."""
    from datagen.run import RunConfig, run

    if "-h" in argv or "--help" in argv:
        print("usage: datagen generate [--config RECIPE] [--key value ...]\n\noptions:")
        print("\n".join(C.help_lines(RunConfig)))
        print("\nshort flags: " + ", ".join(f"--{k} = --{v}" for k, v in ALIASES.items()))
        return 0
    cfg = load_run_config(argv)
    version = run(cfg)
    _print_summary(version)
    return 0


def cmd_run(argv: list[str]) -> int:
    """`datagen run RECIPE [flags]` is `datagen generate --config RECIPE [flags]`."""
    if not argv or argv[0].startswith("--"):
        raise DatagenError("usage: datagen run RECIPE [--key value ...]")
    return cmd_generate(["--config", argv[0], *argv[1:]])


def _print_summary(version) -> None:
    m = version.manifest()
    c = m["counts"]
    print(f"wrote {version.path}")
    print(f"  generated {c.get('generated', '?')}  kept {c['kept']}  rejected {c['rejected']}")
    for reason, n in c.get("dropped", {}).items():
        print(f"    dropped {n:6d}  {reason}")
    s = m.get("teacher_stats", {})
    if s:
        print(f"  teacher {m['teacher']['name']}: {s['requests']} requests, {s['cache_hits']} cache hits, "
              f"{s['retries']} retries, {s['failed']} failed, {s['prompt_tokens'] + s['completion_tokens']} tokens")
    if m.get("stopped"):
        print(f"  stopped early: {m['stopped']}")


def _flags(argv: list[str], spec: dict[str, object]) -> tuple[list[str], dict]:
    """Tiny parser for the read-only commands: positional args and `--name value` flags."""
    opts = dict(spec)
    pos = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            key, eq, val = a[2:].partition("=")
            key = key.replace("-", "_")
            if key not in spec:
                raise DatagenError(f"unknown option --{key}; valid: {', '.join('--' + k for k in spec) or 'none'}")
            if isinstance(spec[key], bool):
                opts[key] = True
            else:
                if not eq:
                    if i + 1 >= len(argv):
                        raise DatagenError(f"--{key} needs a value")
                    val = argv[i + 1]
                    i += 1
                try:
                    opts[key] = type(spec[key])(val) if spec[key] is not None else val
                except ValueError:
                    raise DatagenError(f"--{key}: expected {type(spec[key]).__name__}, got {val!r}") from None
        else:
            pos.append(a)
        i += 1
    return pos, opts


def cmd_versions(argv: list[str]) -> int:
    """List dataset versions: `datagen versions [NAME] [--out runs]`."""
    from datagen.dataset import list_versions

    pos, o = _flags(argv, {"out": "runs"})
    root = Path(o["out"])
    names = pos or sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if root.is_dir() else pos
    if not names:
        print(f"no dataset versions under {root}")
        return 0
    for name in names:
        for v in list_versions(root, name):
            m = v.manifest()
            c = m.get("counts", {})
            print(f"{v.ref:32s} {m.get('method', '?'):14s} kept {c.get('kept', 0):6d}  rejected "
                  f"{c.get('rejected', 0):6d}  parent {m.get('parent') or '-':20s} {m.get('created_at', '')}")
    return 0


def cmd_show(argv: list[str]) -> int:
    """Show a version: `datagen show NAME[/vNNNN] [--n 5] [--rejected] [--manifest] [--tree ID]`."""
    from datagen.dataset import open_version

    pos, o = _flags(argv, {"out": "runs", "n": 5, "rejected": False, "manifest": False, "tree": None})
    if len(pos) != 1:
        raise DatagenError("usage: datagen show VERSION [--n 5] [--rejected] [--manifest]")
    v = open_version(pos[0], o["out"])
    if o["tree"]:  # the evolution tree of one record, from the version alone
        from datagen.tree import render_tree
        print(render_tree(v, o["tree"]))
        return 0
    m = v.manifest()
    if o["manifest"]:
        print(json.dumps(m, indent=2, ensure_ascii=False))
        return 0
    print((v.path / "README.md").read_text(encoding="utf-8"))
    if o["rejected"]:
        for rej in v.rejected()[: o["n"]]:
            print(f"[{rej.reason} @ {rej.stage}] {rej.record.instruction[:120]!r} {rej.detail[:60]}")
    return 0


def cmd_export(argv: list[str]) -> int:
    """`datagen export VERSION --format alpaca|sharegpt|messages|prompt-completion|dpo|hf --out PATH`."""
    from datagen.dataset import open_version
    from datagen.export import export

    pos, o = _flags(argv, {"format": "messages", "out": None, "runs": "runs"})
    if len(pos) != 1 or not o["out"]:
        raise DatagenError("usage: datagen export VERSION --format FORMAT --out PATH")
    v = open_version(pos[0], o["runs"])
    n = export(v, o["format"], o["out"])
    print(f"wrote {n} rows ({o['format']}) to {o['out']}")
    return 0


# The command list. A command is a function here or "module:function", imported when used;
# each takes argv (list of str) and returns an exit code.
COMMANDS = {
    "generate": cmd_generate,
    "run": cmd_run,
    "versions": cmd_versions,
    "show": cmd_show,
    "export": cmd_export,
    "filter": "datagen.filtering:cmd_filter",
    "report": "datagen.report:cmd_report",
    "diff": "datagen.diff:cmd_diff",
    "train": "finetune.cli:cmd_train",
    "sample": "finetune.cli:cmd_sample",
}


def _command(name: str):
    fn = COMMANDS[name]
    if isinstance(fn, str):
        module, attr = fn.split(":")
        fn = getattr(importlib.import_module(module), attr)
    return fn


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: datagen COMMAND [options]\n\ncommands:")
        for name in COMMANDS:
            try:
                doc = (_command(name).__doc__ or "").strip()
            except ImportError:  # a command whose optional extra is not installed is still listed
                doc = "(not available: its optional dependencies are not installed)"
            print(f"  {name:10s} {doc.splitlines()[0] if doc else ''}")
        return 0
    if argv[0] not in COMMANDS:
        print(f"datagen: error: unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    # Logs go to stdout with the summary: stderr is kept for errors (one line) and the live progress.
    logging.basicConfig(level=os.environ.get("DATAGEN_LOG", "INFO"), format="datagen: %(message)s",
                        stream=sys.stdout)
    try:
        return _command(argv[0])(argv[1:])
    except DatagenError as exc:
        print(f"datagen: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("datagen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the boundary: no traceback unless asked
        if os.environ.get("DATAGEN_DEBUG"):
            raise
        print(f"datagen: error: {type(exc).__name__}: {_one_line(str(exc))} (DATAGEN_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())[:800]


if __name__ == "__main__":
    sys.exit(main())
