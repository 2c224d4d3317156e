"""`datagen train sft|dpo|reward|grpo ...` and `datagen sample ...`. Training options are TRL's own dataclasses
(SFTConfig/DPOConfig/RewardConfig/GRPOConfig, ModelConfig) parsed by TRL's TrlParser, so they mean what they mean in
`trl sft` (finetune/args.py); `sample` uses the one flag parser of datagen.cli.flags.

    datagen train sft --data base --model SmolLM2-135M-Instruct.Q4_1.gguf --max_steps 20
    datagen train reward --data pairs --model m.gguf --max_steps 20
    datagen train grpo --data base --model m.gguf --reward verifier --verifier shorter --max_steps 10
    datagen sample --model m.gguf --adapter adapters/base/sft-0001 --prompts prompts.txt
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from datagen.cli.flags import parse_command
from datagen.cli.quiet import quiet_libraries
from datagen.errors import DatagenError
from datagen.extras import HF_MODULES, require
from datagen.outfile import check_output, output_file

TRAINERS = {"sft": "finetune.sft", "dpo": "finetune.dpo", "reward": "finetune.reward", "grpo": "finetune.grpo"}
# TRL 1.16 ships no PPO trainer (neither in trl nor in trl.experimental); GRPO is its online-RL trainer.
USAGE = "datagen train sft|dpo|reward|grpo --data VERSION --model PATH_OR_GGUF"
NOT_SHIPPED = {"ppo": "TRL 1.16 ships no PPO trainer (not in trl, not in trl.experimental); `datagen train grpo` "
                      "is the online RL step, with the same reward model, verifier or judge as the reward"}


def cmd_train(argv: list[str]) -> int:
    """Train on a dataset version: `datagen train sft|dpo|reward|grpo --data VERSION --model PATH [TRL options]`."""
    import importlib

    from finetune import args as A

    if argv and argv[0] in NOT_SHIPPED:
        raise DatagenError(f"usage: {USAGE} [options] ({NOT_SHIPPED[argv[0]]})")
    if not argv or argv[0] not in TRAINERS:
        if argv and argv[0] in ("-h", "--help"):
            print(f"usage: {USAGE} [--lora | --full] [--config RECIPE.yaml] [TRL options]\n"
                  "  datagen train sft --help   lists every option (reward, grpo: theirs)")
            return 0
        raise DatagenError(f"usage: {USAGE} [options]")
    kind, rest = argv[0], argv[1:]
    if "-h" in rest or "--help" in rest:
        print(A.help_text(kind))
        return 0
    require(f"datagen train {kind}", *A.TRAIN_MODULES)
    quiet_libraries()
    module = importlib.import_module(TRAINERS[kind])
    result = module.main(*A.parse(rest, kind))
    m = result["metrics"]
    loss = f", loss {m['first_loss']:.3f} -> {m['last_loss']:.3f} (mean of first/last {m['mean_of']} steps " \
           f"{m['first_mean']:.3f} -> {m['last_mean']:.3f})" if "first_loss" in m else ""
    print(f"wrote {result['path']}: {m['steps']} steps in {m['seconds']:.0f} s{loss}")
    for line in extra_lines(m):
        print(line)
    if "train_set_loss" in m:
        print(f"mean loss over the training rows: {m['train_set_loss']['before']:.4f} before, "
              f"{m['train_set_loss']['after']:.4f} after")
    if result["prompts"]:
        from finetune.sample import table

        print(table(result["prompts"], result["before"], result["after"]))
    return 0


def extra_lines(m: dict) -> list[str]:
    """reward: held-out pair accuracy; grpo: the mean reward of the first and last steps."""
    lines = []
    acc = m.get("heldout_pair_accuracy")
    if acc and acc.get("n"):
        lines.append(f"held-out pair accuracy ({acc['n']} pairs): {acc['before']:.3f} before, {acc['after']:.3f} after")
    if "first_reward" in m:
        lines.append(f"mean reward, first/last {m['reward_mean_of']} steps: {m['first_reward_mean']:.4f} -> "
                     f"{m['last_reward_mean']:.4f}; completion length {m['first_length_mean']:.1f} -> "
                     f"{m['last_length_mean']:.1f} tokens (per step: rewards.csv)")
    return lines


@dataclass
class SampleArgs:
    """Options of `datagen sample`."""
    prompts: str = field(default="", metadata={
        "help": "Prompts file (.txt: one per line; .jsonl: 'instruction' or 'prompt'); required."})
    model: str | None = field(default=None, metadata={
        "help": "Base model folder or .gguf (default: the base named in the adapter's provenance.json)."})
    adapter: str | None = field(default=None, metadata={"help": "LoRA adapter folder (a `datagen train` run)."})
    max_new_tokens: int = field(default=128, metadata={"help": "Tokens to generate per prompt (greedy).", "min": 1})
    out: str | None = field(default=None, metadata={"help": "Also write {prompt, answer} rows to this JSONL file."})
    compare: bool = field(default=False, metadata={
        "help": "With --adapter: print base and adapter answers side by side."})
    engine: str = field(default="auto", metadata={
        "help": "auto (llama.cpp from a GGUF of the merged weights where one can be made, else transformers) "
                "| llama.cpp | transformers"})
    gguf_format: str = field(default="f32", metadata={"help": "weight format of the GGUF: f32 | f16 | bf16 | q8_0"})


def cmd_sample(argv: list[str]) -> int:
    """Generate answers from a student: `datagen sample --model PATH [--adapter RUN] --prompts FILE`."""
    from datagen.backends.student_engine import answer, student_teacher
    from datagen.hf import models
    from finetune import sample
    from finetune.data import read_prompts

    a = parse_command(argv, SampleArgs, "datagen sample --prompts FILE [--model PATH] [--adapter RUN] [--compare]")
    if a is None:
        return 0
    require("datagen sample", *HF_MODULES)
    quiet_libraries()
    if not a.prompts:
        raise DatagenError("--prompts FILE is required (.txt: one per line; .jsonl: 'instruction' or 'prompt')")
    if a.out:
        check_output(a.out)  # before the model loads: a bad --out is named at once
    prompts = read_prompts(a.prompts)
    if not a.model and not a.adapter:
        raise DatagenError("no model given: pass --model PATH (and optionally --adapter RUN)")
    for what, p in (("model", a.model), ("adapter", a.adapter)):
        if p and not Path(p).exists():
            raise DatagenError(f"{what} not found: {p}")
    spec, base = (a.adapter, a.model) if a.adapter else (a.model, None)
    answers, info = answer(student_teacher(spec, base, a.engine, a.gguf_format), prompts, a.max_new_tokens)
    print(f"answered by {engine_line(info)}")
    if a.compare and a.adapter:
        base_spec = a.model or models.base_of(a.adapter)
        before, _ = answer(student_teacher(base_spec, None, a.engine, a.gguf_format), prompts, a.max_new_tokens)
        print(sample.table(prompts, before, answers))
    else:
        for msgs, ans in zip(prompts, answers):
            print(f"### {msgs[-1]['content']}\n{ans}\n")
    if a.out:
        with output_file(a.out) as f:
            for msgs, ans in zip(prompts, answers):
                f.write(json.dumps({"prompt": msgs, "answer": ans}, ensure_ascii=False) + "\n")
        print(f"wrote {len(answers)} answers to {a.out}")
    return 0


def engine_line(info: dict) -> str:
    """"llama.cpp (f16; 2 workers x 1 thread, 16 sequences each)" or "transformers (bfloat16, batch 8; why)"."""
    if info.get("engine") == "llama.cpp":
        return (f"llama.cpp ({info.get('format')}; {info.get('workers')} worker(s) x {info.get('threads')} thread, "
                f"{info.get('batch_size')} sequences each)")
    why = f"; {info['fallback']}" if info.get("fallback") else ""
    return f"transformers ({info.get('dtype')}, batch {info.get('batch_size')}{why})"
