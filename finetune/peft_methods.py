"""Which parameter-efficient method `datagen train --peft` trains: LoRA (TRL's own ModelConfig options, the
default, unchanged), prefix tuning or IA3, each through PEFT.

- lora: low-rank updates to the attention/MLP weights (Hu et al. 2021); `--lora_r`, `--lora_alpha`, ...
- prefix: trained key/value vectors prepended at every layer, the model frozen (Li & Liang 2021, prefix
  tuning; LLaMA-Adapter, Zhang et al. 2023, learns such prefixes for the top layers with a zero-init gate).
  `--num_virtual_tokens` of them. A prefix cannot be folded into the weights: no `--merge`.
- ia3: learned vectors that rescale keys, values and the MLP's activations (Liu et al. 2022, (IA)^3);
  PEFT's own per-architecture defaults choose the modules. Mergeable.

    peft_config("prefix", model_args, num_virtual_tokens=8) -> PrefixTuningConfig(num_virtual_tokens=8, ...)
    peft_config("lora", model_args) -> trl.get_peft_config(model_args)   # exactly what it was before
"""
from __future__ import annotations

import json
from pathlib import Path

from datagen.errors import DatagenError

METHODS = ("lora", "prefix", "ia3")
PEFT_TYPE = {"lora": "LORA", "prefix": "PREFIX_TUNING", "ia3": "IA3"}
MERGEABLE = ("lora", "ia3")


# Trainers a prefix cannot serve: PEFT's sequence classifier rejects a prefix on Llama-type models ("does not
# support past key values"), and GRPO samples through TRL's own generate, which drops the prefix under
# transformers 5 (datagen/hf/prefix_generate.py): the student would be trained on answers it did not give.
NO_PREFIX = {"reward": "a reward model (sequence classifier) cannot take a prefix in PEFT",
             "grpo": "GRPO samples through generate, which ignores a prefix under transformers 5"}


def check(method: str, use_peft: bool, merge: bool, kind: str = "sft") -> None:
    """Bad combinations fail in one line before a model loads."""
    if method not in METHODS:
        raise DatagenError(f"--peft must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "prefix" and kind in NO_PREFIX:
        raise DatagenError(f"--peft prefix is not available for `train {kind}`: {NO_PREFIX[kind]}; "
                           "use --peft lora or ia3")
    if method != "lora" and not use_peft:
        raise DatagenError(f"--peft {method} trains an adapter; it cannot be combined with --full")
    if merge and method not in MERGEABLE:
        raise DatagenError(f"--merge: a {method} adapter cannot be folded into the weights (it adds virtual "
                           "tokens, not weight updates); train without --merge and load the adapter")


def adapter_method(adapter: str | Path) -> str | None:
    """The --peft name of a saved adapter folder, from its adapter_config.json ("lora", "prefix", ...)."""
    p = Path(adapter) / "adapter_config.json"
    if not p.is_file():
        return None
    kind = json.loads(p.read_text(encoding="utf-8")).get("peft_type", "")
    return next((m for m, t in PEFT_TYPE.items() if t == kind), str(kind).lower() or None)


def peft_config(method: str, model_args, num_virtual_tokens: int = 16):
    """The PEFT config the trainer wraps the model with, or None for a full fine-tune."""
    from trl import get_peft_config

    if method == "lora" or not model_args.use_peft:
        return get_peft_config(model_args)
    task = model_args.lora_task_type or "CAUSAL_LM"
    if method == "prefix":
        from peft import PrefixTuningConfig

        if num_virtual_tokens < 1:
            raise DatagenError("--num_virtual_tokens must be >= 1")
        return PrefixTuningConfig(task_type=task, num_virtual_tokens=num_virtual_tokens)
    from peft import IA3Config

    return IA3Config(task_type=task)


def describe(config) -> dict:
    """The adapter's method and PEFT settings for provenance.json (None: full weights)."""
    if config is None:
        return {"method": "full"}
    kind = str(getattr(config.peft_type, "value", config.peft_type))
    method = next((m for m, t in PEFT_TYPE.items() if t == kind), kind.lower())
    settings = {k: sorted(v) if isinstance(v, (set, frozenset)) else v for k, v in config.to_dict().items()
                if isinstance(v, (int, float, str, bool, list, set, frozenset))
                and k not in ("base_model_name_or_path", "revision")}
    return {"method": method, "peft_type": kind, "settings": settings}
