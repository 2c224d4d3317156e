"""Supervised fine-tuning on a dataset version: trl.SFTTrainer with a peft LoRA (default) or all weights.

Rows are TRL's conversational prompt/completion, so the loss covers the answer only (prompt tokens get
label -100); in a multi-turn version every assistant turn carries the loss and no system or user token
does (finetune.data.conversation_labels). `--format messages` trains on the whole conversation instead.

    main(*make_parser().parse_args_and_config(["--data", "base", "--model_name_or_path", "m/"]))
    -> {"path": Path("adapters/base/sft-0001"), "metrics": {"first_loss": 2.4, "last_loss": 1.9, ...}, ...}
"""
from __future__ import annotations

from finetune import args as A
from finetune import data
from finetune.train import train


def make_parser():
    """TrlParser over (DataArgs, StudentArgs, SFTConfig, ModelConfig)."""
    return A.make_parser("sft")


def make_trainer(model, tok, dataset, train_args, peft_config):
    from trl import SFTTrainer

    if "conversation" in dataset.column_names:  # multi-turn: labels on every assistant turn (finetune.data)
        dataset = data.tokenize_conversations(dataset, tok)
    return SFTTrainer(model=model, args=train_args, train_dataset=dataset, processing_class=tok,
                      peft_config=peft_config)


def main(data_args, student_args, train_args, model_args) -> dict:
    return train("sft", data_args, student_args, train_args, model_args, make_trainer)
