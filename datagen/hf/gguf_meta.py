"""The metadata of a student's GGUF: hyper-parameters and tokenizer, either copied from the GGUF the base
came from (SmolLM2's shipped file: its own tokenizer, pre-tokenizer and template, unchanged) or written
from the Hugging Face config and tokenizer (a base that never was a GGUF, such as the tests' tiny model).
Then a check that llama.cpp tokenizes like the student's own tokenizer, so answers differ only in weights.

    add_metadata(writer, model.config, tok, source_gguf=Path(".../SmolLM2-135M-Instruct.Q4_1.gguf"))
    tokenizer_mismatch(Path("student.gguf"), tok) -> None  (or "llama.cpp tokenizes 'x' as [..], the student as [..]")
"""
from __future__ import annotations

import json
from pathlib import Path

# Keys a copy must not carry over: the reader's own header fields and the source's weight format.
NOT_COPIED = ("GGUF.", "general.file_type", "general.quantization_version")
TEMPLATE_KEY = "tokenizer.chat_template"
# Texts whose tokenization must agree (chat markers, digits, spaces, punctuation, non-ASCII).
PROBES = ("Hello, world! It's 2024: 3.14159 + 42 = 45.14159.", "  two  spaces\nnew line\ttab",
          "naïve café — 東京 🙂", "Write **bold** text, then a list:\n- a\n- b")


class NotExportable(Exception):
    """This student cannot be answered by llama.cpp; the message says why (the fallback records it)."""


def add_metadata(w, config, tok, source_gguf: Path | None) -> str:
    """Hyper-parameters and tokenizer into GGUFWriter `w`; -> where they came from ("gguf" or "hf")."""
    check_architecture(config)
    if source_gguf is not None and _copy_from_gguf(w, source_gguf, config, tok):
        return "gguf"
    _hparams_from_config(w, config)
    _tokenizer_from_hf(w, tok, config.vocab_size)
    return "hf"


def _copy_from_gguf(w, source: Path, config, tok) -> bool:
    """Every key of the source GGUF but its weight format; False (nothing written) when the student's
    vocabulary is not the source's (tokens added at training time)."""
    import gguf

    fields = gguf.GGUFReader(str(source)).fields
    tokens = fields.get("tokenizer.ggml.tokens")
    if tokens is None or len(tokens.data) != len(tok) or len(tok) != config.vocab_size:
        return False
    template = tok.chat_template if isinstance(tok.chat_template, str) and tok.chat_template else None
    for key, f in fields.items():
        if key.startswith(NOT_COPIED) or key == "general.architecture" or (template and key == TEMPLATE_KEY):
            continue
        sub = f.types[-1] if f.types[0] == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, f.contents(), f.types[0], sub)
    if template:  # the student's own template (the same text for SmolLM2; set at training time otherwise)
        w.add_chat_template(template)
    return True


def check_architecture(c) -> None:
    """Llama without rope scaling or biases: what llama.cpp's llama graph computes as transformers does."""
    if getattr(c, "model_type", None) != "llama":
        raise NotExportable(f"architecture {getattr(c, 'model_type', '?')!r} is not written as GGUF here (llama only)")
    rope = dict(getattr(c, "rope_parameters", None) or {})
    if rope.get("rope_type", "default") != "default" or getattr(c, "attention_bias", False) \
            or getattr(c, "mlp_bias", False):
        raise NotExportable("rope scaling or bias terms are not written as GGUF here")


def _hparams_from_config(w, c) -> None:
    rope = dict(getattr(c, "rope_parameters", None) or {})
    theta = rope.get("rope_theta", getattr(c, "rope_theta", 10000.0))
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads or c.num_attention_heads)
    w.add_rope_freq_base(float(theta))
    w.add_layer_norm_rms_eps(float(c.rms_norm_eps))
    w.add_rope_dimension_count(head_dim)
    w.add_vocab_size(c.vocab_size)


def _tokenizer_from_hf(w, tok, vocab_size: int) -> None:
    """A byte-level BPE tokenizer as llama.cpp's "gpt2" model: tokens in id order, merges, token types."""
    import gguf

    spec = json.loads(tok.backend_tokenizer.to_str())
    model, pre = spec.get("model") or {}, spec.get("pre_tokenizer") or {}
    if model.get("type") != "BPE" or pre.get("type") != "ByteLevel" or not pre.get("use_regex", True):
        raise NotExportable("only byte-level BPE tokenizers with GPT-2 splitting are written as GGUF here")
    vocab = tok.get_vocab()
    if len(vocab) > vocab_size:
        raise NotExportable(f"tokenizer has {len(vocab)} tokens, the embedding {vocab_size} rows")
    by_id = {i: t for t, i in vocab.items()}
    special = {t.content for t in tok.added_tokens_decoder.values() if t.special}
    added = {t.content for t in tok.added_tokens_decoder.values()}
    tokens, types = [], []
    for i in range(vocab_size):
        t = by_id.get(i)
        tokens.append(t if t is not None else f"[PAD{i}]")
        types.append(gguf.TokenType.UNUSED if t is None else gguf.TokenType.CONTROL if t in special
                     else gguf.TokenType.USER_DEFINED if t in added else gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")  # llama.cpp's name for the GPT-2 split
    w.add_token_list(tokens)
    w.add_token_types([int(t) for t in types])
    w.add_token_merges(merges)
    for add, token_id in ((w.add_bos_token_id, tok.bos_token_id), (w.add_eos_token_id, tok.eos_token_id),
                          (w.add_pad_token_id, tok.pad_token_id), (w.add_unk_token_id, tok.unk_token_id)):
        if token_id is not None:
            add(int(token_id))
    ids = tok("a")["input_ids"]
    w.add_add_bos_token(bool(ids) and tok.bos_token_id is not None and ids[0] == tok.bos_token_id)
    if isinstance(tok.chat_template, str) and tok.chat_template:
        w.add_chat_template(tok.chat_template)


def tokenizer_mismatch(path: Path, tok) -> str | None:
    """None when llama.cpp (vocabulary only) tokenizes the probes and a rendered chat prompt as `tok`
    does (both without a BOS: a chat template writes its own); else one line naming the first text that differs."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    texts = list(PROBES)
    if tok.chat_template:
        texts.append(tok.apply_chat_template([{"role": "user", "content": PROBES[0]}], tokenize=False,
                                             add_generation_prompt=True))
    try:
        for text in texts:
            ours = list(tok(text, add_special_tokens=False)["input_ids"])
            theirs = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            if ours != theirs:
                return f"llama.cpp tokenizes {text[:40]!r} as {theirs[:12]}..., the student as {ours[:12]}..."
    finally:
        llm.close()
    return None
