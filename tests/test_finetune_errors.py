"""Bad input to `datagen train` / `datagen sample`: one `datagen: error:` line and exit code 2, before any
model is loaded."""
import pytest

from extras import needs

needs("train")  # before the imports below: they load the trainer

from bad_input import check_line  # noqa: E402
from datagen.cli import main  # noqa: E402
from tiny_model import build_tiny_model, pair_records, sft_records, write  # noqa: E402


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft_errors")
    runs = root / "runs"
    write(runs, "qa", sft_records(3))
    write(runs, "pairs", pair_records(3))
    write(runs, "empty", [])
    return {"runs": str(runs), "model": str(build_tiny_model(root / "tiny")), "root": root}


def one_error(capsys, argv) -> str:
    rc = main(argv)
    return check_line(rc, capsys.readouterr().err).strip()


def test_missing_model_path(env, capsys):
    line = one_error(capsys, ["train", "sft", "--data", "qa", "--runs", env["runs"], "--model", "/no/such/model"])
    assert "model not found: /no/such/model" in line


def test_empty_version(env, capsys):
    line = one_error(capsys, ["train", "sft", "--data", "empty", "--runs", env["runs"], "--model", env["model"]])
    assert "empty/v0001 has no records" in line


def test_preference_version_given_to_sft_fails_before_the_model(env, capsys):
    # The model path does not exist either: the data check comes first, so it is the data that is named.
    line = one_error(capsys, ["train", "sft", "--data", "pairs", "--runs", env["runs"], "--model", "/no/model"])
    assert "pairs/v0001 is a preference version: record 0" in line and "datagen train dpo" in line


def test_sft_version_given_to_dpo(env, capsys):
    line = one_error(capsys, ["train", "dpo", "--data", "qa", "--runs", env["runs"], "--model", env["model"]])
    assert "qa/v0001 is not a preference version: record 0" in line and "datagen train sft" in line


def test_missing_version(env, capsys):
    line = one_error(capsys, ["train", "sft", "--data", "nope", "--runs", env["runs"], "--model", env["model"]])
    assert "dataset version not found: nope" in line


@pytest.mark.parametrize("argv,match", [
    (["train"], "usage: datagen train sft|dpo"),
    (["train", "ppo"], "usage: datagen train sft|dpo"),
    (["train", "sft", "--model", "m"], "the following arguments are required: --data"),
    (["train", "sft", "--data", "qa", "--lora_rr", "3"], "lora_rr"),
    (["train", "sft", "--data", "qa", "--max_steps", "many"], "max_steps"),
    (["train", "sft", "--data", "qa", "--config", "/no/recipe.yaml"], "recipe not found"),
    (["train", "dpo", "--data", "pairs", "--adapter", "/no/adapter"], "adapter not found"),
    (["sample", "--model", "m", "--prompts", "/no/prompts.txt"], "prompts file not found"),
    (["sample", "--model", "/no/model", "--prompts", "__PROMPTS__"], "model not found"),
])
def test_bad_flags(env, capsys, argv, match):
    prompts = env["root"] / "p.txt"
    prompts.write_text("Hi\n")
    argv = [str(prompts) if a == "__PROMPTS__" else a for a in argv]
    if argv[:2] in (["train", "sft"], ["train", "dpo"]):
        argv += ["--runs", env["runs"]]
    assert match in one_error(capsys, argv)


def test_help_exits_zero(capsys):
    assert main(["train", "sft", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--lora_r" in out and "--data" in out and "--completion_only_loss" in out


@pytest.mark.parametrize("typo, near", [("--max_step", "--max_steps"), ("--lora_rr", "--lora_r")])
def test_an_abbreviated_or_mistyped_flag_is_an_error(env, capsys, typo, near):
    # argparse would silently take `--max_step 2` as `--max_steps 2`
    line = one_error(capsys, ["train", "sft", "--data", "qa", "--runs", env["runs"], "--model", env["model"],
                              typo, "2"])
    assert f"unknown option {typo}; did you mean {near}" in line
