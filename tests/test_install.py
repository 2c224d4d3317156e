"""A non-editable install works: the wheel carries prompts/, seeds/ and the recipes, and the package
finds them there with no checkout around (cwd elsewhere, only the unpacked wheel on the path)."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from extras import needs

needs("dev")  # the wheel is built offline with hatchling

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    try:
        import hatchling  # noqa: F401
    except ImportError:
        pytest.fail("hatchling is missing: install the [dev] extra (the wheel is built offline)")
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--disable-pip-version-check", "-q", str(ROOT), "-w", str(out)],
                         capture_output=True, text=True, timeout=180, cwd=out)
    assert res.returncode == 0, res.stderr
    wheels = list(out.glob("datagen-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_assets_and_recipes(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("datagen/_assets/prompts/answer/answer.j2", "datagen/_assets/seeds/tasks.jsonl",
                     "datagen/recipes/answer.yaml", "datagen/cli/__init__.py", "datagen/report/page.html",
                     "datagen/review/static/index.html", "datagen/review/static/app.js",
                     "datagen/methods/self_align/principles.py", "filters/__init__.py", "filters/dedup.py"):
        assert required in names, required
    # every bundled prompt and recipe of the checkout made it in
    for p in (ROOT / "prompts").rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts:
            assert f"datagen/_assets/prompts/{p.relative_to(ROOT / 'prompts').as_posix()}" in names, p
    for p in (ROOT / "datagen" / "recipes").glob("*.yaml"):
        assert f"datagen/recipes/{p.name}" in names, p
    assert not any(n.startswith(("tests/", "runs/", ".venv/")) or "__pycache__" in n for n in names)
    entry = [n for n in names if n.endswith("entry_points.txt")]
    assert entry and "datagen = datagen.cli:main" in zipfile.ZipFile(wheel).read(entry[0]).decode()


CHECK = r"""
import json, sys
from pathlib import Path
import datagen, filters
from datagen.assets import asset_dir
from datagen.cli import load_run_config
from datagen.cli.generate import recipe_path
from datagen.progress import Progress
from datagen.run import run
from datagen.seeds import default_seeds_path, load_seeds
from datagen.teacher import FakeTeacher
from datagen.templates import TemplateLoader

site = Path(sys.argv[1]).resolve()
cfg = load_run_config(["--method", "answer", "--out", sys.argv[2], "--method_cfg.limit", "2"])
v = run(cfg, progress=Progress(enabled=False), backend=FakeTeacher(lambda r: "ok"))
print(json.dumps({
    "datagen": datagen.__file__, "filters": filters.__file__,
    "prompts": str(asset_dir("prompts")), "seeds_dir": str(asset_dir("seeds")),
    "seeds_path": str(default_seeds_path()), "n_seeds": len(load_seeds()),
    "recipe": str(recipe_path("answer")), "template": TemplateLoader().load("answer/answer").path,
    "kept": v.manifest()["counts"]["kept"], "version": str(v.path),
}))
"""


def test_unpacked_wheel_finds_its_own_assets(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATAGEN_DEBUG")}
    env["PYTHONPATH"] = str(site)
    res = subprocess.run([sys.executable, "-c", CHECK, str(site), str(tmp_path / "runs")], cwd=elsewhere,
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assets = site / "datagen" / "_assets"
    assert got["datagen"] == str(site / "datagen" / "__init__.py")
    assert got["filters"] == str(site / "filters" / "__init__.py")
    assert got["prompts"] == str(assets / "prompts") and got["seeds_dir"] == str(assets / "seeds")
    assert got["seeds_path"] == str(assets / "seeds" / "tasks.jsonl") and got["n_seeds"] > 0
    assert got["recipe"] == str(site / "datagen" / "recipes" / "answer.yaml")
    assert got["template"] == str(assets / "prompts" / "answer" / "answer.j2")
    assert got["kept"] == 2 and Path(got["version"], "manifest.json").is_file()
    # the CLI entry point from the wheel answers too
    res = subprocess.run([sys.executable, "-m", "datagen.cli", "generate", "--help"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "--sampling.max_tokens" in res.stdout
