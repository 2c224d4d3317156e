"""Generation for a prefix-tuned student that uses its prefix.

With transformers 5.x and PEFT 0.21, `PeftModel.generate` on a prefix-tuning adapter answers as the base model:
PEFT hands the trained prefix to the model as `past_key_values`, transformers' generate passes its own empty
`cache` as well, and the model keeps the cache and drops the prefix (measured here: the first token's scores
equal the base model's to 6e-8, while a forward pass with the prefix differs by 0.47). Training is not
affected (its forward passes take the prefix). This loop decodes through the same forward pass as training,
without a KV cache: each step re-reads the whole sequence, O(n^2) in the answer length, fine for a
135M student and short answers.

    generate_with_prefix(model, ids, max_new_tokens=8, do_sample=False) -> ids with up to 8 tokens appended
"""
from __future__ import annotations

import types


def uses_prefix(model) -> bool:
    """True for a PeftModel whose active adapter is prompt learning (prefix tuning, prompt tuning, p-tuning)."""
    cfg = getattr(model, "active_peft_config", None)
    return bool(getattr(cfg, "is_prompt_learning", False))


def generate_with_prefix(model, input_ids, attention_mask=None, max_new_tokens: int = 64, do_sample: bool = False,
                         temperature: float | None = None, top_p: float | None = None, top_k: int | None = None,
                         eos_token_id=None, pad_token_id=None, **_unused):
    """Greedy or sampled decoding, one sequence (batch of 1), stopping at eos or after max_new_tokens.
    Sampling keeps OpenAI's semantics the student backend asks for: temperature, then top_p (top_k ignored)."""
    import torch

    ids = input_ids
    eos = set(eos_token_id if isinstance(eos_token_id, (list, tuple)) else [eos_token_id])
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[:, -1, :].float()
            if do_sample and temperature:
                nxt = _sample(logits / temperature, top_p)
            else:
                nxt = logits.argmax(dim=-1, keepdim=True)
            ids = torch.cat([ids, nxt.to(ids.device)], dim=1)
            if int(nxt[0, 0]) in eos:
                break
    return ids


def _sample(logits, top_p: float | None):
    """One token from softmax(logits), restricted to the smallest set whose mass reaches top_p."""
    import torch

    probs = torch.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        keep = sorted_p.cumsum(dim=-1) - sorted_p < top_p  # always keeps the most likely token
        sorted_p = sorted_p * keep
        choice = torch.multinomial(sorted_p / sorted_p.sum(dim=-1, keepdim=True), 1)
        return order.gather(-1, choice)
    return torch.multinomial(probs, 1)


def install(model):
    """Give a prefix-tuned PeftModel the generate above (every caller, e.g. the student backend, then gets
    answers that use the prefix); other models are returned unchanged."""
    if uses_prefix(model):
        model.generate = types.MethodType(lambda self, input_ids=None, **kw: generate_with_prefix(self, input_ids, **kw),
                                          model)
    return model
