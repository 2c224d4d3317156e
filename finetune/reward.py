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

import json
import time
from pathlib import Path

from datagen.errors import DatagenError
from finetune import args as A
from finetune import data, models, provenance
from finetune import train as T


def make_parser():
    """TrlParser over (DataArgs, StudentArgs, RewardConfig, ModelConfig)."""
    return A.make_parser("reward")


def _is_classifier(config) -> bool:
    return any(a.endswith("ForSequenceClassification") for a in (config.architectures or []))


def load_reward_model(path: str | Path, dtype: str = "float32"):
    """A `datagen train reward` run (adapter + base from its provenance, or full weights) or any local
    Hugging Face sequence-classification folder -> (model in eval mode, tokenizer). Anything else is a
    one-line DatagenError, raised before the weights load."""
    from transformers import AutoConfig

    p = Path(path).expanduser()
    if not p.is_dir():
        raise DatagenError(f"reward model not found: {path} (a `datagen train reward` run or a model folder)")
    adapter = p / "adapter_config.json"
    if adapter.is_file():
        task = json.loads(adapter.read_text(encoding="utf-8")).get("task_type")
        if task != "SEQ_CLS":
            raise DatagenError(f"{path} is a LoRA adapter for {task or 'an unknown task'}, not a reward model "
                               "(a sequence classifier): train one with `datagen train reward`")
        from finetune.sample import base_of

        base_dir, _ = models.resolve_model(base_of(p))
        return _load(base_dir, p, p, dtype)
    if not (p / "config.json").is_file():
        raise DatagenError(f"{path} is not a model folder (no config.json)")
    config = AutoConfig.from_pretrained(str(p))
    if not _is_classifier(config):
        raise DatagenError(f"{path} is not a sequence classifier (architectures: "
                           f"{', '.join(config.architectures or ['none'])}); a reward model has one")
    if getattr(config, "num_labels", 1) != 1:
        raise DatagenError(f"{path} has {config.num_labels} labels; a reward model has one output")
    return _load(p, None, p, dtype)


def _load(model_dir: Path, adapter: Path | None, tok_dir: Path, dtype: str):
    import torch
    from transformers import AutoModelForSequenceClassification

    tok, _ = models.load_tokenizer(tok_dir if (tok_dir / "tokenizer_config.json").is_file() else model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=1,
                                                               dtype=getattr(torch, dtype))
    if len(tok) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tok))
    model.config.pad_token_id = tok.pad_token_id
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    return model, tok


def reward_scores(model, tok, prompts: list[list[dict]], answers: list[str]) -> list[float]:
    """The reward of each (prompt messages, answer), tokenized as RewardTrainer does (chat template over
    prompt + assistant answer), one sequence at a time (no padding questions on a CPU)."""
    import torch

    out = []
    device = next(model.parameters()).device
    for messages, answer in zip(prompts, answers):
        conv = [*messages, {"role": "assistant", "content": answer}]
        enc = tok.apply_chat_template(conv, tokenize=True, return_tensors="pt", return_dict=True)
        enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        with torch.no_grad():
            out.append(float(model(**enc).logits[0, 0]))
    return out


def pair_accuracy(model, tok, rows: list[dict]) -> float | None:
    """Share of prompt/chosen/rejected rows whose chosen answer scores higher (ties count as wrong)."""
    if not rows:
        return None
    prompts = [r["prompt"] for r in rows]
    chosen = reward_scores(model, tok, prompts, [r["chosen"][0]["content"] for r in rows])
    rejected = reward_scores(model, tok, prompts, [r["rejected"][0]["content"] for r in rows])
    return sum(c > r for c, r in zip(chosen, rejected)) / len(rows)


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
    from trl import RewardTrainer, get_peft_config

    prep = prepare(data_args, student_args, model_args, train_args.seed)
    model, tok = _load(prep["model_dir"], None, prep["model_dir"], model_args.dtype or "float32")
    _, template = models.load_tokenizer(prep["model_dir"])
    root = Path(student_args.out) / (student_args.name or prep["version"].name)
    tmp = T.temp_run(root)
    try:
        train_args.output_dir = str(tmp / "trainer")
        before = pair_accuracy(model, tok, prep["held_rows"])
        trainer = RewardTrainer(model=model, args=train_args, train_dataset=data.to_dataset(prep["rows"]),
                                processing_class=tok, peft_config=get_peft_config(model_args))
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
            metrics=metrics, adapter_parent=None, outputs=outputs)
        final = T.publish(tmp, root, "reward", prov)
    except BaseException:
        T.discard(tmp)
        raise
    return {"path": final, "metrics": metrics, "prompts": [], "before": [], "after": []}
