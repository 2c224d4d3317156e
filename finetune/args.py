"""Options of `datagen train sft|dpo|reward|grpo`: TRL's own SFTConfig/DPOConfig/RewardConfig/GRPOConfig
and ModelConfig plus DataArgs and StudentArgs (grpo: and RewardArgs, finetune/rewards.py), parsed by TRL's
TrlParser (YAML via --config, flags override it), so `--lora_r 16`,
`--max_steps 20` and `--learning_rate 1e-4` mean what they mean in `trl sft`.

    parse(["--data", "base", "--model", "m.gguf", "--max_steps", "20"], "sft")
    -> (DataArgs(data="base"), StudentArgs(), SFTConfig(max_steps=20, ...), ModelConfig(use_peft=True, ...))
"""
from __future__ import annotations

from dataclasses import dataclass, field

from datagen.errors import DatagenError
from datagen.extras import MissingExtra, require
from datagen.names import check_name
from finetune.data import DataArgs

# What every trainer imports; checked before any parsing, so a missing extra is one line.
TRAIN_MODULES = ("torch", "transformers", "peft", "trl", "datasets")
# Short flags of the datagen CLI -> TRL's names.
ALIASES = {"--model": ["--model_name_or_path"], "--lora": ["--use_peft", "true"], "--full": ["--use_peft", "false"]}

# LoRA wants a higher rate than full fine-tuning: 2e-4 is the QLoRA paper's rate for its small
# models (Dettmers et al. 2023, Table 9); TRL's own default 2e-5 (full SFT) is kept for --full.
LORA_LEARNING_RATE = 2e-4
# IA3 learns only rescaling vectors and wants a much higher rate: 3e-3 is T-Few's (Liu et al. 2022, sec. 3.3).
# Prefix tuning keeps LoRA's rate (not from a source: the tiny-model tests and a SmolLM2 smoke run train with it).
PEFT_LEARNING_RATE = {"lora": LORA_LEARNING_RATE, "prefix": LORA_LEARNING_RATE, "ia3": 3e-3}


@dataclass
class StudentArgs:
    """Where the trained student goes and what else is written."""
    out: str = field(default="adapters", metadata={"help": "Root folder: runs go to OUT/NAME/<trainer>-NNNN/."})
    name: str | None = field(default=None, metadata={"help": "Run folder name (default: the dataset's name)."})
    merge: bool = field(default=False, metadata={"help": "Also write LoRA-merged full weights to RUN/merged/."})
    peft: str = field(default="lora", metadata={
        "help": "Adapter method (finetune/peft_methods.py): lora | prefix (prefix tuning, --num_virtual_tokens) | "
                "ia3. With --adapter the adapter's own method is trained on."})
    num_virtual_tokens: int = field(default=16, metadata={"help": "--peft prefix: trained virtual tokens per layer."})
    adapter: str | None = field(default=None, metadata={
        "help": "Start from this LoRA adapter (e.g. an SFT run) and keep training it (DPO: the reference "
                "is the adapter as loaded)."})
    eval_max_new_tokens: int = field(default=64, metadata={
        "help": "Tokens generated per prompt in the before/after table (greedy)."})
    train_set_loss: bool = field(default=True, metadata={
        "help": "Also measure the mean loss over all training rows before and after training (one forward "
                "pass each): unlike per-step losses, it does not depend on which rows a step drew."})


def _parser_class():
    from trl import TrlParser

    class Parser(TrlParser):
        """TrlParser whose errors are DatagenError (one line, exit 2) instead of argparse's exit."""

        def __init__(self, *args, **kwargs):
            # argparse would take `--max_step 2` as `--max_steps 2`: a typo must be an error
            super().__init__(*args, allow_abbrev=False, **kwargs)

        def error(self, message):  # argparse hook
            raise DatagenError(message)

    return Parser


# Per trainer: defaults that differ from TRL's, for a few CPU steps. reward: a LoRA on a sequence classifier
# (its score head trained in full) and 4 held-out pairs for the accuracy; grpo: 4 answers per prompt of at
# most 48 tokens, one prompt per step (TRL's 8 x 512 take minutes per step on a CPU).
KIND_DEFAULTS = {
    "reward": {"lora_task_type": "SEQ_CLS", "num_eval": 4},
    "grpo": {"num_generations": 4, "per_device_train_batch_size": 4, "max_completion_length": 48,
             "num_eval": 2},
}


def make_parser(kind: str):
    """TrlParser over (DataArgs, StudentArgs, <kind>Config, ModelConfig[, RewardArgs]) with CPU-friendly
    defaults: LoRA on, log every step, no checkpoints, no trackers, bf16 and gradient checkpointing only
    on a GPU. A YAML --config and flags override all of these."""
    import torch
    from trl import DPOConfig, GRPOConfig, ModelConfig, RewardConfig, SFTConfig

    config_cls = {"sft": SFTConfig, "dpo": DPOConfig, "reward": RewardConfig, "grpo": GRPOConfig}[kind]
    types = [DataArgs, StudentArgs, config_cls, ModelConfig]
    if kind == "grpo":
        from finetune.rewards import RewardArgs

        types.append(RewardArgs)
    parser = _parser_class()(tuple(types), prog=f"datagen train {kind}")
    gpu = torch.cuda.is_available()
    parser.set_defaults(use_peft=True, logging_steps=1, save_strategy="no", report_to="none",
                        bf16=gpu, activation_checkpointing=gpu or None, gradient_checkpointing=None,
                        output_dir="adapters/.trainer", **KIND_DEFAULTS.get(kind, {}))
    return parser


def parse(argv: list[str], kind: str):
    """argv -> (DataArgs, StudentArgs, <kind>Config, ModelConfig[, RewardArgs]); bad input -> DatagenError."""
    argv = expand_aliases(argv)
    parser = make_parser(kind)
    from datagen.config import load_yaml, split_config

    recipe, _ = split_config(argv)  # TrlParser reads the file itself; we only look for learning_rate
    config_lr = recipe is not None and "learning_rate" in load_yaml(recipe)  # DatagenError on a missing/bad file
    try:
        parsed = parser.parse_args_and_config(argv)
    except ValueError as exc:  # unknown keys, bad values in the dataclasses' __post_init__
        raise DatagenError(unknown_flag_message(str(exc), parser, kind)) from None
    explicit_lr = config_lr or any(a == "--learning_rate" or a.startswith("--learning_rate=") for a in argv)
    student_args, train_args, model_args = parsed[1], parsed[2], parsed[3]
    if student_args.name is not None:  # before the model loads: a bad --name is named at once
        check_name(student_args.name, "run name")
    if model_args.use_peft and not explicit_lr:
        train_args.learning_rate = PEFT_LEARNING_RATE.get(student_args.peft, LORA_LEARNING_RATE)
    return tuple(parsed)


def unknown_flag_message(message: str, parser, kind: str) -> str:
    """HfArgumentParser's "not used" list -> one line naming the nearest valid option."""
    import difflib
    import re

    first = message.splitlines()[0]
    unknown = re.findall(r"'(--[A-Za-z0-9_.-]+)", first) if "not used" in first else []
    if not unknown:
        return first
    valid = sorted({o for a in parser._actions for o in a.option_strings if o.startswith("--")})
    near = difflib.get_close_matches(unknown[0], valid, n=3)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return f"unknown option {unknown[0]}{hint} (`datagen train {kind} --help` lists all {len(valid)})"


def expand_aliases(argv: list[str]) -> list[str]:
    """["--model", "m", "--full"] -> ["--model_name_or_path", "m", "--use_peft", "false"]."""
    out: list[str] = []
    for a in argv:
        key, eq, value = a.partition("=")
        if key in ALIASES:
            out.extend(ALIASES[key][:1] + [value] if eq else ALIASES[key])
        else:
            out.append(a)
    return out


def help_text(kind: str) -> str:
    """TrlParser's help over every option; without the train extra, the options datagen owns and a line
    saying where TRL's are."""
    try:
        require(f"datagen train {kind}", *TRAIN_MODULES)
    except MissingExtra as exc:
        return own_help(kind, str(exc))
    return make_parser(kind).format_help()


def own_help(kind: str, missing: str) -> str:
    """The options of DataArgs, StudentArgs (grpo: RewardArgs) with this trainer's defaults; no torch, no TRL."""
    from datagen.config import help_lines
    from finetune.rewards import RewardArgs

    config = {"sft": "SFTConfig", "dpo": "DPOConfig", "reward": "RewardConfig", "grpo": "GRPOConfig"}[kind]
    lines = help_lines(DataArgs) + help_lines(StudentArgs) + (help_lines(RewardArgs) if kind == "grpo" else [])
    for key, value in KIND_DEFAULTS.get(kind, {}).items():
        lines = [f"  --{key} (default {value!r}): " + ln.split("): ", 1)[1] if ln.startswith(f"  --{key} (") else ln
                 for ln in lines]
    return "\n".join([
        f"usage: datagen train {kind} --data VERSION --model PATH_OR_GGUF [--lora | --full] [--config RECIPE.yaml] "
        "[TRL options]", "",
        f"{missing}: the options below are datagen's own; TRL's {config} and ModelConfig options (--max_steps, "
        "--learning_rate, --lora_r, ...) are listed here once it is installed.", "",
        "options:", *lines,
        "short flags: --model = --model_name_or_path, --lora = --use_peft true, --full = --use_peft false"])
