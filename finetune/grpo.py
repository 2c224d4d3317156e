"""Online RL on the prompts of a version: trl.GRPOTrainer samples `--num_generations` answers per prompt from
the student, scores them with the reward (finetune/rewards.py: a verifier, a reward model, or the teacher as
judge) and moves the student towards the answers that beat their group's mean (Shao et al. 2024,
DeepSeekMath, sec. 4.1: GRPO, PPO without a value model). LoRA by default; `--adapter` continues an SFT run.

The run folder holds what an SFT run's does plus rewards.csv: the mean reward, its spread and the mean
completion length at every step.

    main(*make_parser().parse_args_and_config(["--data", "base", "--model_name_or_path", "m/", "--verifier", "shorter"]))
    -> {"path": Path("adapters/base/grpo-0001"), "metrics": {"first_reward_mean": -40.0, ...}, ...}
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from datagen.errors import DatagenError
from datagen.hf import models
from datagen.names import child
from finetune import args as A
from finetune import data, provenance, sample
from finetune import train as T
from finetune.rewards import open_judge, reward_function

LENGTH = "completions/mean_length"


def make_parser():
    """TrlParser over (DataArgs, StudentArgs, GRPOConfig, ModelConfig, RewardArgs)."""
    return A.make_parser("grpo")


def prompt_rows(records) -> list[dict]:
    """GRPO rows: the conversation up to the answer, plus the columns the reward function reads (meta: the
    record's constraints, as JSON, for `--reward constraints`)."""
    return [{"prompt": data.prompt_messages(r), "instruction": r.instruction, "input": r.input,
             "reference": r.output or "", "meta": json.dumps(reward_meta(r))} for r in records]


def reward_meta(r) -> dict:
    """What of a record's meta a reward reads: its constraints and the request without their wording."""
    return {k: r.meta[k] for k in ("constraints", "base_instruction") if k in (r.meta or {})}


def prepare(data_args, student_args, model_args, reward_args, seed: int) -> dict:
    """The prompt version (checked), held-out prompts for the before/after table, model and adapter paths."""
    version, records = data.open_checked(data_args)
    pair = next((i for i, r in enumerate(records) if r.is_pair), None)
    if pair is not None and not reward_args.prompts_from_pairs:
        raise DatagenError(f"dataset version {version.ref} is a preference version (record {pair} has a 'rejected' "
                           "answer): grpo needs prompts and samples its own answers; train a reward model on the "
                           f"pairs (`datagen train reward --data {version.name}`) and give grpo a prompt version, or "
                           "pass --prompts_from_pairs true")
    train_records, held = data.split_eval(records, data_args.num_eval, seed)
    if student_args.adapter and not (Path(student_args.adapter) / "adapter_config.json").is_file():
        raise DatagenError(f"adapter not found: {student_args.adapter} (no adapter_config.json)")
    spec = model_args.model_name_or_path or (models.base_of(student_args.adapter) if student_args.adapter else None)
    model_dir, base_info = models.resolve_model(spec)
    train_ids = {r.id for r in train_records}
    return {"version": version, "rows": prompt_rows(train_records), "prompts": [data.prompt_messages(r) for r in held],
            "held": [r.id for r in held if r.id not in train_ids], "model_dir": model_dir, "base_info": base_info,
            "n_train": len(train_records)}


def reward_summary(history: list[dict]) -> dict:
    """Mean reward and completion length over the first and last k logged steps (k as for the loss)."""
    rewards = [h["reward"] for h in history if "reward" in h]
    if not rewards:
        return {}
    lengths = [h.get(LENGTH, 0.0) for h in history if "reward" in h]
    k = max(1, min(5, len(rewards) // 2))
    return {"first_reward": rewards[0], "last_reward": rewards[-1], "reward_mean_of": k,
            "first_reward_mean": sum(rewards[:k]) / k, "last_reward_mean": sum(rewards[-k:]) / k,
            "first_length_mean": sum(lengths[:k]) / k, "last_length_mean": sum(lengths[-k:]) / k}


def write_rewards_csv(path: Path, history: list[dict]) -> None:
    keys = ["step", "reward", "reward_std", LENGTH] + sorted(
        {k for h in history for k in h if k.startswith("rewards/")})
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([k.replace("/", "_") for k in keys])
        for h in history:
            w.writerow([h.get(k, "") for k in keys])


def main(data_args, student_args, train_args, model_args, reward_args) -> dict:
    T.check_peft(student_args, model_args, "grpo")
    prep = prepare(data_args, student_args, model_args, reward_args, train_args.seed)
    judge = open_judge(reward_args, data_args.runs) if reward_args.reward == "judge" else None
    try:
        fn = reward_function(reward_args, judge)
        return run(prep, fn, data_args, student_args, train_args, model_args, reward_args)
    finally:
        if judge is not None:
            judge.close()


def run(prep, fn, data_args, student_args, train_args, model_args, reward_args) -> dict:
    from trl import GRPOTrainer

    model, tok, template, peft_config = T.load(prep["model_dir"], model_args, student_args.adapter,
                                               student_args.peft, student_args.num_virtual_tokens)
    root = child(student_args.out, student_args.name or prep["version"].name, "run name")
    tmp = T.temp_run(root)
    try:
        train_args.output_dir = str(tmp / "trainer")
        max_new = student_args.eval_max_new_tokens
        before = sample.generate(model, tok, prep["prompts"], max_new) if prep["prompts"] else []
        trainer = GRPOTrainer(model=model, reward_funcs=fn, args=train_args, train_dataset=data.to_dataset(prep["rows"]),
                              processing_class=tok, peft_config=peft_config)
        t0 = time.time()
        trainer.train()
        seconds = time.time() - t0
        model = trainer.model
        model.eval()
        after = sample.generate(model, tok, prep["prompts"], max_new) if prep["prompts"] else []
        outputs = T.save(model, tok, tmp, student_args.merge, template)
        history = provenance.loss_history(trainer.state.log_history)
        metrics = {**provenance.summarize(history, seconds, trainer.state.global_step), **reward_summary(history),
                   "reward_source": fn.scorer_name}
        provenance.write_json(tmp / "metrics.json", {"summary": metrics, "history": history})
        write_rewards_csv(tmp / "rewards.csv", history)
        provenance.write_json(tmp / "before_after.json", [
            {"prompt": p, "before": b, "after": a} for p, b, a in zip(prep["prompts"], before, after)])
        T.discard(tmp / "trainer")
        prov = provenance.build(
            "grpo", dataset=provenance.dataset_entry(prep["version"], prep["n_train"], prep["held"]),
            base_model=T.base_entry(prep), chat_template=template,
            configs={"data": data_args, "student": student_args, "training": train_args, "model": model_args,
                     "reward": reward_args},
            metrics=metrics, adapter_parent=student_args.adapter, outputs=outputs, peft=T.peft_of(model))
        final = T.publish(tmp, root, "grpo", prov)
    except BaseException:
        T.discard(tmp)
        raise
    return {"path": final, "metrics": metrics, "prompts": prep["prompts"], "before": before, "after": after}
