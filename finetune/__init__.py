"""Thin wrappers over TRL and PEFT that train a student on a dataset version.

Nothing heavy is imported here: torch, transformers and trl load only when a trainer runs.

    finetune.sft.make_parser().parse_args_and_config(["--data", "base", "--model", "m/"]) -> (DataArgs, ...)
"""
