"""A student as a GGUF for llama.cpp: the adapter merged into its base (PEFT merge_and_unload), the
weights written with llama.cpp's tensor names, metadata and tokenizer copied from the base's own GGUF where
it came from one. A base is written through the same path (its de-quantized weights), so a paired
comparison of base and student differs only in the weights, never in the engine or format.

Cached under <model cache>/gguf/<key>/ with key = sha256(weights identity, format, EXPORT_VERSION); the
identity is the caller's (the student backend's student_sha: adapter and base weights).

    export_student("m.gguf", "adapters/qa/sft-0001", "3f2a...", "f16") -> Path(".../gguf/1c9e.../model.gguf")
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from datagen.hf import models
from datagen.hf.gguf_meta import NotExportable, add_metadata, tokenizer_mismatch

EXPORT_VERSION = 1  # bump when the written file changes for the same weights
FORMATS = ("f16", "q8_0", "bf16", "f32")
# f32 by default: the merged LoRA delta survives exactly (f16 rounds it at ~5e-4 of each weight); measured on
# SmolLM2 (benchmarks/README.md, "Student answers"), about as fast as f16 in the batched engine, and the
# closest to transformers' float32 greedy answers (q8_0 also rounds activations to 8 bits and drifts).
DEFAULT_FORMAT = "f32"
FILE_TYPES = {"f16": "MOSTLY_F16", "q8_0": "MOSTLY_Q8_0", "bf16": "MOSTLY_BF16", "f32": "ALL_F32"}  # gguf.LlamaFileType


def export_student(model: str, adapter: str | None, identity: str, fmt: str = DEFAULT_FORMAT) -> Path:
    """The GGUF of `model` with `adapter` merged in, written once (atomically) and reused under `identity`
    (a hash of both weights); NotExportable when it cannot be written."""
    if fmt not in FORMATS:
        raise NotExportable(f"unknown GGUF format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    key = hashlib.sha256(f"{identity}\0{fmt}\0{EXPORT_VERSION}".encode()).hexdigest()[:24]
    target = models.cache_root() / "gguf" / key
    if not (target / "source.json").is_file():
        models.publish_cached(target, lambda tmp: write_student_gguf(model, adapter, tmp / "model.gguf", fmt)
                              | {"identity": identity})
    return target / "model.gguf"


def export_info(gguf_path: Path) -> dict:
    """What export_student recorded beside the file (student, format, metadata source, sha256)."""
    return json.loads((Path(gguf_path).parent / "source.json").read_text(encoding="utf-8"))


def merged_model(model_spec: str, adapter: str | None):
    """-> (model with the adapter merged in, float32, eval mode; tokenizer)."""
    model, tok = models.load_student(model_spec, adapter, "float32")
    if adapter:
        try:
            model = model.merge_and_unload()
        except (AttributeError, ValueError, TypeError, NotImplementedError) as exc:
            kind = getattr(next(iter(getattr(model, "peft_config", {}).values()), None), "peft_type", "?")
            raise NotExportable(f"adapter type {getattr(kind, 'value', kind)} cannot be merged: {exc}") from None
    return model.eval(), tok


def source_gguf(model_spec: str) -> Path | None:
    """The GGUF the base's weights came from (its metadata and tokenizer are copied), if any."""
    model_dir, _ = models.resolve_model(model_spec)
    src = models.read_source(model_dir).get("gguf")
    return Path(src) if src and Path(src).is_file() else None


def write_student_gguf(model_spec: str, adapter: str | None, out: Path, fmt: str) -> dict:
    import gguf

    model, tok = merged_model(model_spec, adapter)
    src = source_gguf(model_spec)
    w = gguf.GGUFWriter(str(out), "llama")
    meta_from = add_metadata(w, model.config, tok, src)
    w.add_file_type(int(getattr(gguf.LlamaFileType, FILE_TYPES[fmt])))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for name, data, qtype in gguf_tensors(model, fmt):
        w.add_tensor(name, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    bad = tokenizer_mismatch(out, tok)
    if bad:
        raise NotExportable(bad)
    return {"model": model_spec, "adapter": adapter, "format": fmt, "metadata_from": str(src) if meta_from == "gguf" else "hf config and tokenizer",
            "export_version": EXPORT_VERSION, "sha256": _sha(out), "size": out.stat().st_size}


def gguf_tensors(model, fmt: str):
    """(llama.cpp name, data, ggml type) for every weight: Q/K rows re-permuted for llama.cpp's rotary
    layout, 1-D tensors (norms) in F32, the tied output matrix left out (llama.cpp reuses token_embd)."""
    import gguf

    c = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, c.num_hidden_layers)
    tied = bool(getattr(c, "tie_word_embeddings", False))
    for hf_name, t in model.state_dict().items():
        if tied and hf_name == "lm_head.weight":
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise NotExportable(f"no llama.cpp name for weight {hf_name}")
        data = t.detach().float().cpu().numpy()
        if hf_name.endswith("q_proj.weight"):
            data = rotary_permute(data, c.num_attention_heads)
        elif hf_name.endswith("k_proj.weight"):
            data = rotary_permute(data, c.num_key_value_heads or c.num_attention_heads)
        yield (name, *_encode(data, fmt))


def rotary_permute(w, n_head: int):
    """Rows of a Q or K projection from transformers' rotary layout (each head's first half of dims
    paired with its second half) to llama.cpp's (neighbouring dims paired): within each head, row
    order 0, d/2, 1, d/2+1, ... . transformers' GGUF loader applies the inverse on load."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _encode(data, fmt: str):
    """-> (array, ggml type) in the format; 1-D tensors and rows not a multiple of 32 (Q8_0 blocks) stay wider."""
    import gguf
    import numpy as np

    Q = gguf.GGMLQuantizationType
    if data.ndim == 1 or fmt == "f32":
        return data.astype(np.float32), Q.F32
    if fmt == "f16" or (fmt == "q8_0" and data.shape[-1] % 32):
        return data.astype(np.float16), Q.F16
    qtype = Q.Q8_0 if fmt == "q8_0" else Q.BF16
    return gguf.quants.quantize(data, qtype), qtype


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
