"""The shape of the code (issue 16): no import circle anywhere, no library module importing the
command layer, filters importing only datagen's core types, every command answering --help, and
every method and filter declaring its options with help text."""
from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("datagen", "filters", "finetune")
# What filters/ may use of datagen: the record and error types, the teacher protocol, the small
# readers of JSONL, bundled assets and seed files, and the constraint library (its checkers verify answers).
FILTERS_MAY_IMPORT = {"datagen.record", "datagen.errors", "datagen.teacher", "datagen.jsonl", "datagen.assets",
                      "datagen.seeds", "datagen.constraints"}
# The constraint library is a core layer: filters, finetune, methods and eval import it; it imports only these.
CONSTRAINTS_MAY_IMPORT = {"datagen.record", "datagen.errors", "datagen.templates", "datagen.assets"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "_assets" not in p.parts}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module `path` imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                     for a in node.names]
        else:
            continue
        out.update(n for n in names if n in modules)
    return out


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (cyc := visit(m)):
                return cyc
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state and (cyc := visit(n)):
            return cyc
    return None


def test_the_walker_sees_a_planted_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    g = graph()
    assert "datagen.session" in g["datagen.run"] and "datagen.filtering" in g["datagen.session"]


def test_no_import_circle():
    assert find_cycle(graph()) is None


def test_no_library_module_imports_the_command_layer():
    offenders = {m: sorted(i for i in deps if i.startswith("datagen.cli"))
                 for m, deps in graph().items() if not m.startswith("datagen.cli")}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_filters_import_only_core_types():
    bad = {m: sorted(d for d in deps if d.startswith("datagen") and d not in FILTERS_MAY_IMPORT)
           for m, deps in graph().items() if m.startswith("filters")}
    assert {m: d for m, d in bad.items() if d} == {}


def test_constraint_library_imports_only_core_modules():
    bad = {m: sorted(d for d in deps if not d.startswith("datagen.constraints") and d not in CONSTRAINTS_MAY_IMPORT)
           for m, deps in graph().items() if m.startswith("datagen.constraints")}
    assert bad and {m: d for m, d in bad.items() if d} == {}


def commands() -> list[str]:
    from datagen.cli import COMMANDS

    return list(COMMANDS)


@pytest.mark.parametrize("name", commands())
def test_every_command_answers_help(name):
    res = subprocess.run([sys.executable, "-m", "datagen.cli", name, "--help"], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage: datagen") and not res.stderr.strip()
    options = [ln for ln in res.stdout.splitlines() if ln.startswith("  --")]
    if name not in ("run", "methods", "filters", "train"):
        assert options, f"datagen {name} --help lists no options"
    for ln in options:  # every option shows its default and a help text
        assert "(default " in ln and ln.split("): ", 1)[1].strip(), ln


def test_method_help_lists_that_methods_options():
    from datagen.cli import main
    from datagen.methods import METHODS

    for method in METHODS:
        res = subprocess.run([sys.executable, "-m", "datagen.cli", "generate", "--method", method, "--help"],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert res.returncode == 0, res.stderr
        for f in dataclasses.fields(METHODS[method].Config):
            assert f"--method_cfg.{f.name} (default" in res.stdout, (method, f.name)
    assert main(["methods"]) == 0


def test_methods_and_filters_are_listed(capsys):
    import filters as F
    from datagen.cli import main
    from datagen.methods import METHODS

    assert main(["methods"]) == 0 and main(["filters"]) == 0
    out = capsys.readouterr().out
    for name in [*METHODS, *F.FILTERS]:
        assert f"  {name}" in out
    assert "minhash [two_stage]" in out and "judge [needs_teacher]" in out and "quality [per_record]" in out


def test_every_option_has_help_and_known_capabilities():
    import filters as F
    from datagen.methods import METHODS

    classes = [METHODS[m].Config for m in METHODS] + [F.filter_class(n) for n in F.FILTERS]
    for cls in classes:
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
    for name in F.FILTERS:
        cls = F.filter_class(name)
        assert issubclass(cls, F.Filter) and dataclasses.is_dataclass(cls), name
        assert not (cls.two_stage and cls.needs_teacher), name
