"""Direct preference optimisation on a preference version: trl.DPOTrainer, LoRA by default.

Rows are prompt/chosen/rejected (chosen = the record's output). With --adapter the given LoRA adapter
(e.g. the SFT run) is trained further and its state at load time is the DPO reference; without one the
reference is the base model (LoRA disabled), as TRL does it (Rafailov et al. 2023, DPO, sec. 4: the
reference is the SFT model).

    main(*make_parser().parse_args_and_config(["--data", "pairs", "--model_name_or_path", "m/"]))
    -> {"path": Path("adapters/pairs/dpo-0001"), "metrics": {...}, ...}
"""
from __future__ import annotations

from finetune import args as A
from finetune.train import train


def make_parser():
    """TrlParser over (DataArgs, StudentArgs, DPOConfig, ModelConfig)."""
    return A.make_parser("dpo")


def make_trainer(model, tok, dataset, train_args, peft_config):
    from trl import DPOTrainer

    return DPOTrainer(model=model, args=train_args, train_dataset=dataset, processing_class=tok,
                      peft_config=peft_config)


def main(data_args, student_args, train_args, model_args) -> dict:
    return train("dpo", data_args, student_args, train_args, model_args, make_trainer)
