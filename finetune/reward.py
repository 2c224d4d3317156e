"""Reward model on a preference version: trl.RewardTrainer on a sequence classifier with one output (the
reward), LoRA by default (the score head is trained in full), or all weights with --full. The loss is
Bradley-Terry's -log sigmoid(r(chosen) - r(rejected)) (Ouyang et al. 2022, InstructGPT, sec. 3.5).

Pairwise accuracy (the share of pairs whose chosen answer gets the higher reward) is measured on seeded
held-out pairs (--num_eval) before and after training, printed and kept in metrics.json/provenance.json.
The run folder is loadable by best-of-n (`--method_cfg.scorer reward_model`) and `train grpo --reward_model`.

    main(*make_parser().parse_args_and_config(["--data", "pairs", "--model_name_or_path", "m/"]))
    -> {"path": Path("adapters/pairs/reward-0001"), "metrics": {"heldout_pair_accuracy": {...}}, ...}
"""
from __future__ import annotations

import time
from pathlib import Path

from datagen.errors import DatagenError
from datagen.hf import models
from datagen.names import child
from filters.reward_model import load_classifier, pair_accuracy
from finetune import args as A
from finetune import data, provenance
from finetune import train as T
from finetune.peft_methods import peft_config


def make_parser():
    """TrlParser over (DataArgs, StudentArgs, RewardConfig, ModelConfig)."""
    return A.make_parser("reward")


def prepare(data_args, student_args, model_args, seed: int) -> dict:
    """The pair version (checked), its seeded held-out pairs, the base model folder: all before a model loads."""
    if student_args.adapter:
        raise DatagenError("--adapter is not used by `train reward`: a reward model starts from --model")
    version, records = data.open_checked(data_args)
    data.check_kind(records, "dpo", version.ref)
    train_records, held = data.split_eval(records, data_args.num_eval, seed)
    train_ids = {r.id for r in train_records}
    held = [r for r in held if r.id not in train_ids]
    model_dir, base_info = models.resolve_model(model_args.model_name_or_path)
    return {"version": version, "rows": data.rows_for(train_records, "dpo"), "held": held,
            "held_rows": data.rows_for(held, "dpo"), "model_dir": model_dir, "base_info": base_info,
            "n_train": len(train_records)}


def main(data_args, student_args, train_args, model_args) -> dict:
    from trl import RewardTrainer

    T.check_peft(student_args, model_args, "reward")
    prep = prepare(data_args, student_args, model_args, train_args.seed)
    model, tok = load_classifier(prep["model_dir"], None, prep["model_dir"], model_args.dtype or "float32")
    _, template = models.load_tokenizer(prep["model_dir"])
    root = child(student_args.out, student_args.name or prep["version"].name, "run name")
    tmp = T.temp_run(root)
    try:
        train_args.output_dir = str(tmp / "trainer")
        before = pair_accuracy(model, tok, prep["held_rows"])
        trainer = RewardTrainer(model=model, args=train_args, train_dataset=data.to_dataset(prep["rows"]),
                                processing_class=tok,
                                peft_config=peft_config(student_args.peft, model_args, student_args.num_virtual_tokens))
        t0 = time.time()
        trainer.train()
        seconds = time.time() - t0
        model = trainer.model
        model.eval()
        after = pair_accuracy(model, tok, prep["held_rows"])
        outputs = T.save(model, tok, tmp, student_args.merge, template)
        history = provenance.loss_history(trainer.state.log_history)
        metrics = provenance.summarize(history, seconds, trainer.state.global_step)
        metrics["heldout_pair_accuracy"] = {"n": len(prep["held"]), "before": before, "after": after}
        provenance.write_json(tmp / "metrics.json", {"summary": metrics, "history": history})
        T.discard(tmp / "trainer")
        prov = provenance.build(
            "reward", dataset=provenance.dataset_entry(prep["version"], prep["n_train"], [r.id for r in prep["held"]]),
            base_model=T.base_entry(prep), chat_template=template,
            configs={"data": data_args, "student": student_args, "training": train_args, "model": model_args},
            metrics=metrics, adapter_parent=None, outputs=outputs, peft=T.peft_of(model))
        final = T.publish(tmp, root, "reward", prov)
    except BaseException:
        T.discard(tmp)
        raise
    return {"path": final, "metrics": metrics, "prompts": [], "before": [], "after": []}
