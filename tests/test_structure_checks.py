"""The checks of tests/test_structure.py fail on a planted tree that breaks each rule: an upward import
between layers (inside a function too, or by a registry string), another module's _private name, and a
library module importing the command layer; a clean tree passes them."""
from __future__ import annotations

from pathlib import Path

import pytest

from test_structure import check_command_layer, check_layers, check_private_names

CLEAN = {
    "datagen/record.py": "def _helper():\n    return 1\n\n\ndef helper():\n    return _helper()\n",
    "datagen/backends/student.py": "from datagen.record import helper\n",
    "datagen/run.py": "import filters.scorers\nfrom finetune import train\n",
    "datagen/cli/main.py": "from datagen import run\n",
    "filters/scorers.py": "from datagen.record import helper\n",
    "finetune/train.py": "import filters.scorers\nfrom datagen.backends import student\n",
    "finetune/reward_model.py": "",
}


def plant(root: Path, extra: dict[str, str]) -> Path:
    for rel, text in {**CLEAN, **extra}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for parent in path.relative_to(root).parents:
            if str(parent) != "." and not (root / parent / "__init__.py").exists():
                (root / parent / "__init__.py").write_text("", encoding="utf-8")
    return root


def test_a_clean_tree_passes(tmp_path):
    root = plant(tmp_path, {})
    check_layers(root)
    check_private_names(root)
    check_command_layer(root)


@pytest.mark.parametrize("rel, text, line", [
    ("datagen/backends/student.py", "def load():\n    from finetune import train\n",
     "datagen.backends.student (core) imports finetune.train (trainer), a layer above its own"),
    ("filters/scorers.py", "def score():\n    import finetune.reward_model\n",
     "filters.scorers (filters) imports finetune.reward_model (trainer), a layer above its own"),
    ("finetune/train.py", "def judge():\n    from datagen.run import x\n",
     "finetune.train (trainer) imports datagen.run (engine), a layer above its own"),
    ("datagen/backends/__init__.py", 'BACKENDS = {"x": "finetune.train:Trainer"}\n',
     "datagen.backends (core) imports finetune.train (trainer), a layer above its own"),
])
def test_an_upward_import_fails(tmp_path, rel, text, line):
    root = plant(tmp_path, {rel: text})
    with pytest.raises(AssertionError) as exc:
        check_layers(root)
    assert line in str(exc.value)


def test_a_module_in_no_layer_fails(tmp_path):
    root = plant(tmp_path, {"datagen/newthing.py": ""})
    with pytest.raises(AssertionError, match="datagen.newthing"):
        check_layers(root)


@pytest.mark.parametrize("text, line", [
    ("from datagen.record import _helper\n", "datagen.run imports _helper from datagen.record"),
    ("def f():\n    from datagen.record import _helper\n", "datagen.run imports _helper from datagen.record"),
    ("import datagen.record\n\nX = datagen.record._helper\n", "datagen.run uses datagen.record._helper"),
    ("from datagen import record as r\n\nX = r._helper()\n", "datagen.run uses datagen.record._helper"),
])
def test_another_modules_private_name_fails(tmp_path, text, line):
    root = plant(tmp_path, {"datagen/run.py": text})
    with pytest.raises(AssertionError) as exc:
        check_private_names(root)
    assert line in str(exc.value)


@pytest.mark.parametrize("rel, text", [
    ("datagen/run.py", "from datagen.cli.main import run\n"),
    ("finetune/train.py", "def f():\n    import datagen.cli\n"),
])
def test_a_library_module_importing_the_command_layer_fails(tmp_path, rel, text):
    root = plant(tmp_path, {rel: text})
    with pytest.raises(AssertionError, match="datagen.cli"):
        check_command_layer(root)
    with pytest.raises(AssertionError, match="a layer above its own"):
        check_layers(root)
