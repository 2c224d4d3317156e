"""The shape of the code (issue 16): no import circle anywhere, no library module importing the
command layer, filters importing only datagen's core types, every command answering --help,
every method and filter declaring its options with help text, and ARCHITECTURE.md's package map
naming every package and top-level module of datagen/."""
from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("datagen", "filters", "finetune")
# What filters/ may use of datagen: the record and error types, the teacher protocol, the small readers of
# JSONL, bundled assets and seed files, the constraint library (its checkers verify answers), the local
# model loader (the reward-model scorer), the word lists of the grounding checks (datagen.documents.words)
# and the missing-extra check.
FILTERS_MAY_IMPORT = {"datagen.record", "datagen.errors", "datagen.teacher", "datagen.jsonl", "datagen.assets",
                      "datagen.seeds", "datagen.constraints", "datagen.hf", "datagen.hf.models",
                      "datagen.documents.words", "datagen.extras"}
# The constraint library is a core layer: filters, finetune, methods and eval import it; it imports only these.
CONSTRAINTS_MAY_IMPORT = {"datagen.record", "datagen.errors", "datagen.templates", "datagen.assets"}

# The layers, lowest first. A module may import its own layer and the layers below it, never one above,
# at the top of the file, inside a function, or by a "module:attr" registry string. A module belongs to
# the entry with the longest matching dotted prefix ("datagen.ray" holds datagen.ray and datagen.ray.x,
# not a top-level datagen.ray_x; "datagen" holds only datagen/__init__.py); a module no entry holds fails.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", (  # types, readers, teachers and their cache, model loading, constraints, dataset versions
        "datagen", "datagen.record", "datagen.errors", "datagen.jsonl", "datagen.assets", "datagen.templates",
        "datagen.teacher", "datagen.cache", "datagen.progress", "datagen.backends", "datagen.seeds",
        "datagen.personas", "datagen.config", "datagen.hf", "datagen.constraints", "datagen.versions",
        "datagen.names", "datagen.outfile", "datagen.documents", "datagen.teacher_input",
        "datagen.redact", "datagen.template_limits", "datagen.extras")),
    ("filters", ("filters",)),  # keep/drop filters, scorers and reward models
    ("trainer", ("finetune",)),  # datagen train: SFT, DPO, reward, GRPO (TRL)
    ("engine", (  # what a command runs: methods, sessions, filtering runs, eval, select, import, Ray, report
        "datagen.methods", "datagen.session", "datagen.run", "datagen.refilter", "datagen.filtering",
        "datagen.evaluation", "datagen.select", "datagen.importing", "datagen.ray", "datagen.report",
        "datagen.recipes", "datagen.executor", "datagen.review")),
    ("command line", ("datagen.cli",)),
)


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the longest prefix holding `module`, None if none does."""
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            holds = module == p or (p != "datagen" and module.startswith(p + "."))
            if holds and len(p) > best_len:
                best, best_len = i, len(p)
    return best


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for pkg in PACKAGES if (root / pkg).is_dir()
            for p in (root / pkg).rglob("*.py") if "_assets" not in p.parts}


def imported_names(tree: ast.AST, modules: dict[str, Path]) -> list[tuple[str, str | None]]:
    """(project module, name taken from it or None) for every import statement, anywhere in the file."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names if a.name in modules]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in modules:
            out += [(node.module, a.name) for a in node.names]
    return out


def imports_of(path: Path, modules: dict[str, Path], strings: bool = False) -> set[str]:
    """Every project module `path` imports, at the top or inside a function; with `strings`, also those a
    registry names as "module" or "module:attr" (imported later by importlib)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {f"{m}.{n}" if n and f"{m}.{n}" in modules else m for m, n in imported_names(tree, modules)}
    if strings:
        out |= {node.value.split(":")[0] for node in ast.walk(tree) if isinstance(node, ast.Constant)
                and isinstance(node.value, str) and node.value.split(":")[0] in modules}
    return out


def graph(root: Path = ROOT, strings: bool = False) -> dict[str, set[str]]:
    modules = all_modules(root)
    return {name: imports_of(path, modules, strings) - {name} for name, path in modules.items()}


def upward_imports(root: Path = ROOT) -> list[str]:
    """One line per import of a layer above the importer's own."""
    out = []
    for m, deps in sorted(graph(root, strings=True).items()):
        for d in sorted(deps):
            lm, ld = layer_of(m), layer_of(d)
            if lm is not None and ld is not None and ld > lm:
                out.append(f"{m} ({LAYERS[lm][0]}) imports {d} ({LAYERS[ld][0]}), a layer above its own")
    return out


def private_uses(root: Path = ROOT) -> list[str]:
    """One line per use of another project module's _name: `from m import _x`, or `m._x` on a module."""
    modules = all_modules(root)
    out = []
    for name, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound: dict[str, str] = {}  # local name -> the project module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in modules:
                        bound[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in modules:
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    if sub in modules:
                        bound[a.asname or a.name] = sub
                    elif is_private(a.name) and node.module != name:
                        out.append(f"{name} imports {a.name} from {node.module}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and is_private(node.attr):
                target = dotted(node.value, bound)
                if target in modules and target != name:
                    out.append(f"{name} uses {target}.{node.attr}")
    return out


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def dotted(node: ast.AST, bound: dict[str, str]) -> str | None:
    """The module an expression such as `models` or `datagen.dataset` names, through the file's imports."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        base = dotted(node.value, bound)
        return f"{base}.{node.attr}" if base else None
    return None


def command_layer_imports(root: Path = ROOT) -> dict[str, list[str]]:
    offenders = {m: sorted(i for i in deps if i == "datagen.cli" or i.startswith("datagen.cli."))
                 for m, deps in graph(root, strings=True).items() if layer_of(m) != len(LAYERS) - 1}
    return {m: d for m, d in offenders.items() if d}


def test_the_walker_sees_a_planted_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    g = graph()
    assert "datagen.session" in g["datagen.run"] and "datagen.filtering" in g["datagen.session"]


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


def test_no_import_circle():
    assert find_cycle(graph()) is None


def check_layers(root: Path = ROOT) -> None:
    unplaced = [m for m in sorted(all_modules(root)) if layer_of(m) is None]
    assert not unplaced, f"modules in no layer (add them to LAYERS): {unplaced}"
    bad = upward_imports(root)
    assert not bad, "imports that point up the layers:\n" + "\n".join(bad)


def check_private_names(root: Path = ROOT) -> None:
    bad = private_uses(root)
    assert not bad, "another module's _private name used:\n" + "\n".join(bad)


def check_command_layer(root: Path = ROOT) -> None:
    bad = command_layer_imports(root)
    assert not bad, f"library modules importing the command layer (datagen.cli): {bad}"


def test_imports_point_down_the_layers():
    check_layers()


def test_no_module_uses_another_modules_private_names():
    check_private_names()


def test_no_library_module_imports_the_command_layer():
    check_command_layer()


def test_filters_import_only_core_types():
    bad = {m: sorted(d for d in deps if d.startswith("datagen") and d not in FILTERS_MAY_IMPORT)
           for m, deps in graph(strings=True).items() if m.startswith("filters")}
    assert {m: d for m, d in bad.items() if d} == {}


def unmapped(root: Path = ROOT) -> list[str]:
    """Folders of datagen/ (and filters/, finetune/) that ARCHITECTURE.md's "The packages" section does not
    name as `datagen/x/`, and top-level datagen modules its `datagen/` top-level line does not name."""
    section = (root / "ARCHITECTURE.md").read_text(encoding="utf-8").split("## The packages", 1)[1]
    section = section.split("\n## ", 1)[0]
    named = set(re.findall(r"`((?:datagen/)?[a-z_]+/)`", section))
    folders = {f"datagen/{p.name}/" for p in (root / "datagen").iterdir()
               if p.is_dir() and not p.name.startswith(("_", "."))} | {"filters/", "finetune/"}
    top = section.split("- `datagen/` top level", 1)[1].split("\n- ", 1)[0]
    modules = {p.stem for p in (root / "datagen").glob("*.py") if p.stem != "__init__"}
    return sorted(folders - named) + sorted(f"datagen/{m}.py" for m in modules - set(re.findall(r"`(\w+)`", top)))


def test_architecture_map_names_every_package_and_top_level_module(tmp_path):
    assert unmapped() == []
    (tmp_path / "ARCHITECTURE.md").write_text((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    for p in (ROOT / "datagen").iterdir():  # the real tree's folders, plus one unmapped package and module
        if p.is_dir():
            (tmp_path / "datagen" / p.name).mkdir(parents=True)
    (tmp_path / "datagen" / "planted").mkdir()
    (tmp_path / "datagen" / "planted.py").write_text("")
    assert unmapped(tmp_path) == ["datagen/planted/", "datagen/planted.py"]


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
