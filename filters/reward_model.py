"""Load and apply a reward model: a `datagen train reward` run (a LoRA adapter on a sequence classifier, its
base read from provenance.json, or full weights) or any local Hugging Face sequence-classification folder
with one output. It lives beside the scorers (filters/scorers.py) that apply it for best-of-n and for
`train grpo --reward reward_model`; `train reward` (finetune/reward.py) loads and measures through it too.

    model, tok = load_reward_model("adapters/pairs/reward-0001")
    reward_scores(model, tok, [[{"role": "user", "content": "Hi"}]], ["Hello!"]) -> [0.83]
"""
from __future__ import annotations

import json
from pathlib import Path

from datagen.errors import DatagenError
from datagen.extras import HF_MODULES, require
from datagen.hf import models


def _is_classifier(config) -> bool:
    return any(a.endswith("ForSequenceClassification") for a in (config.architectures or []))


def load_reward_model(path: str | Path, dtype: str = "float32"):
    """A `datagen train reward` run (adapter + base from its provenance, or full weights) or any local
    Hugging Face sequence-classification folder -> (model in eval mode, tokenizer). Anything else is a
    one-line DatagenError, raised before the weights load."""
    p = Path(path).expanduser()
    if not p.is_dir():
        raise DatagenError(f"reward model not found: {path} (a `datagen train reward` run or a model folder)")
    require(f"reward model {path}", *HF_MODULES)
    from transformers import AutoConfig

    adapter = p / "adapter_config.json"
    if adapter.is_file():
        task = json.loads(adapter.read_text(encoding="utf-8")).get("task_type")
        if task != "SEQ_CLS":
            raise DatagenError(f"{path} is a LoRA adapter for {task or 'an unknown task'}, not a reward model "
                               "(a sequence classifier): train one with `datagen train reward`")
        base_dir, _ = models.resolve_model(models.base_of(p))
        return load_classifier(base_dir, p, p, dtype)
    if not (p / "config.json").is_file():
        raise DatagenError(f"{path} is not a model folder (no config.json)")
    config = AutoConfig.from_pretrained(str(p))
    if not _is_classifier(config):
        raise DatagenError(f"{path} is not a sequence classifier (architectures: "
                           f"{', '.join(config.architectures or ['none'])}); a reward model has one")
    if getattr(config, "num_labels", 1) != 1:
        raise DatagenError(f"{path} has {config.num_labels} labels; a reward model has one output")
    return load_classifier(p, None, p, dtype)


def load_classifier(model_dir: Path, adapter: Path | None, tok_dir: Path, dtype: str):
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
