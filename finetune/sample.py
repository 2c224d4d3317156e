"""Generate answers from a student (loaded by datagen.hf.models.load_student) for a before/after look.

    generate(model, tok, [[{"role": "user", "content": "Name a color."}]], 16) -> ["Blue."]
    table(prompts, before, after) -> "### prompt / before: ... / after: ..." blocks, answers whole
"""
from __future__ import annotations

from datagen.hf import prefix_generate


def generate(model, tok, prompts: list[list[dict]], max_new_tokens: int = 64) -> list[str]:
    """Greedy answers, one prompt at a time (no padding questions on a CPU)."""
    import torch

    out = []
    prefix_generate.install(model)  # a prefix-tuned student (e.g. just trained) answers with its prefix
    device = next(model.parameters()).device
    for messages in prompts:
        enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        enc = {k: v.to(device) for k, v in enc.items()}
        with torch.no_grad():
            ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        out.append(tok.decode(ids[0][enc["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    return out


def table(prompts: list[list[dict]], before: list[str], after: list[str], width: int = 100) -> str:
    """Each prompt with its whole before and after answers, wrapped at `width` (never cut), so a
    change is visible even late in a long answer."""
    import textwrap

    def block(label: str, text: str) -> list[str]:
        body = textwrap.wrap(" ".join(text.split()), width - 4) or ["(empty)"]
        return [f"  {label}:"] + [f"    {ln}" for ln in body]

    lines = []
    for msgs, b, a in zip(prompts, before, after):
        lines += [f"### {' '.join(msgs[-1]['content'].split())}"] + block("before", b) + block("after", a) + [""]
    return "\n".join(lines).rstrip()
