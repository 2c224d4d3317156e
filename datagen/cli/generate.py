"""`datagen generate`, `datagen run RECIPE` and `datagen methods`.

    datagen generate --method evol_instruct --from self_instruct --rounds 2
    datagen generate --method evol_instruct --help     # RunConfig's options and that method's
"""
from __future__ import annotations

from pathlib import Path

from datagen import config as C
from datagen.cli.flags import help_text, parse_overrides, wants_help
from datagen.errors import DatagenError
from datagen.methods import METHODS

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
    "personas": "method_cfg.personas",
    "docs": "method_cfg.docs",
}


def recipe_path(name: str) -> Path:
    """Named presets live in datagen/recipes/<name>.yaml."""
    return Path(__file__).resolve().parent.parent / "recipes" / f"{name}.yaml"


def recipe_data(argv: list[str]) -> tuple[dict, dict, str]:
    """(recipe or preset data, flag overrides, where the defaults came from)."""
    from datagen.run import RunConfig

    recipe, argv = C.split_config(argv)
    overrides = parse_overrides(argv, ALIASES, RunConfig)
    if recipe:
        return C.load_yaml(recipe), overrides, recipe
    method = str(overrides.get("method", DEFAULT_METHOD))
    preset = recipe_path(method)
    if not preset.is_file():  # a method without a preset: the flags say everything
        if method not in METHODS:
            raise DatagenError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
        return {"method": method}, overrides, ""
    return C.load_yaml(preset), overrides, f"preset {preset.name}"


def load_run_config(argv: list[str]):
    """--config RECIPE (or the preset of --method) fills RunConfig; the other flags override it.
    The method's options are resolved and checked here too, so a bad value fails before any work."""
    from datagen.run import RunConfig, resolve_method_cfg

    data, overrides, _ = recipe_data(argv)
    cfg = C.build(RunConfig, C.merge(data, overrides))
    if not cfg.name:
        cfg.name = cfg.method
    if cfg.method in METHODS:
        resolve_method_cfg(cfg)
    return cfg


def generate_help(argv: list[str]) -> str:
    from datagen.run import RunConfig

    try:
        data, overrides, source = recipe_data([a for a in argv if a not in ("-h", "--help")])
    except DatagenError:
        data, overrides, source = {}, {}, ""
    method = str(C.merge(data, overrides).get("method", DEFAULT_METHOD))
    extra = ["", "short flags: " + ", ".join(f"--{k} = --{v}" for k, v in ALIASES.items())]
    if method in METHODS:
        extra += ["", f"options of method {method} (--method_cfg.NAME value; `datagen methods` lists methods):"]
        extra += C.help_lines(METHODS[method].Config, "method_cfg.")
    if source:
        extra += ["", f"defaults above are the dataclass defaults; {source} sets: "
                  + ", ".join(sorted(_dotted_keys(data)))]
    return help_text(RunConfig, "datagen generate [--config RECIPE] [--method M] [--key value ...]", extra)


def _dotted_keys(d: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        out.extend(_dotted_keys(v, f"{prefix}{k}.") if isinstance(v, dict) and v else [f"{prefix}{k}"])
    return out


def cmd_generate(argv: list[str]) -> int:
    """Run a method and write a new dataset version."""
    from datagen.run import run

    if wants_help(argv):
        print(generate_help(argv))
        return 0
    version = run(load_run_config(argv))
    print_summary(version)
    return 0


def cmd_run(argv: list[str]) -> int:
    """`datagen run RECIPE [flags]` is `datagen generate --config RECIPE [flags]`."""
    if wants_help(argv):
        print("usage: datagen run RECIPE [--key value ...]\n\nsame as: datagen generate --config RECIPE "
              "[--key value ...]; `datagen generate --help` lists the options")
        return 0
    if not argv or argv[0].startswith("--"):
        raise DatagenError("usage: datagen run RECIPE [--key value ...]")
    return cmd_generate(["--config", argv[0], *argv[1:]])


def cmd_methods(argv: list[str]) -> int:
    """List the generation methods: `datagen methods` (`datagen generate --method M --help` for options)."""
    if wants_help(argv):
        print("usage: datagen methods\n\nlists the methods; `datagen generate --method M --help` shows M's options")
        return 0
    if argv:
        raise DatagenError(f"unexpected argument: {argv[0]}; usage: datagen methods")
    for name, method in METHODS.items():
        doc = (method.__doc__ or "").strip().splitlines()
        preset = "preset" if recipe_path(name).is_file() else "no preset"
        print(f"  {name:14s} {doc[0] if doc else ''} ({preset})")
    return 0


def print_summary(version) -> None:
    m = version.manifest()
    c = m["counts"]
    if version.unchanged:
        print(f"unchanged: the data equals {version.ref} (content_sha256 {m['content_sha256'][:12]}); "
              "no new version written")
        return
    print(f"wrote {version.path}")
    print(f"  generated {c.get('generated', '?')}  kept {c['kept']}  rejected {c['rejected']}")
    for reason, n in c.get("dropped", {}).items():
        print(f"    dropped {n:6d}  {reason}")
    s = m.get("teacher_stats", {})
    if s:
        print(f"  teacher {m['teacher']['name']}: {s['requests']} requests, {s['cache_hits']} cache hits, "
              f"{s['retries']} retries, {s['failed']} failed, {s['prompt_tokens'] + s['completion_tokens']} tokens")
    if m.get("stopped"):
        print(stopped_line(m))


def stopped_line(m: dict) -> str:
    """What a budget stop left undone, and what to do: one line for generate and filter."""
    undone = ", ".join(f"{k} {v}" for k, v in (m.get("undone") or {}).items()) or "nothing"
    return (f"  stopped early: {m['stopped']} ({m.get('stopped_detail')}); left undone: {undone}; "
            "rerun with a larger budget to continue from the cache")
