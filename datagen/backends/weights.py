"""The shipped GGUF re-encoded once into the format llama.cpp computes fastest on CPU, cached under
~/.cache/datagen/gguf/ (XDG_CACHE_HOME honoured) and reused. llama.cpp has no fast CPU kernel for the
shipped Q4_1; it has them for Q8_0 (every x86-64 build) and BF16 (AVX512_BF16 builds). Measured here
(benchmarks/README.md, "Embedded teacher"), Q8_0 is the fastest on both the AVX2 and the AVX-512 build,
BF16 included; every re-encoding keeps the model's quality (perplexity on a fixed text,
benchmarks/embedded_ppl.py).

    fast_weights(Path(".../SmolLM2-135M-Instruct.Q4_1.gguf"))
    -> Path("~/.cache/datagen/gguf/3f2a.../SmolLM2-135M-Instruct.Q8_0.gguf")
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
from pathlib import Path

FORMATS = {"BF16": "LLAMA_FTYPE_MOSTLY_BF16", "Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "F16": "LLAMA_FTYPE_MOSTLY_F16"}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "datagen" / "gguf"


def build_features() -> str:
    """What this llama.cpp build uses: "AVX2 FMA F16C ..." from llama_print_system_info()."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    return " ".join(kv.split("=")[0].strip() for kv in info.replace("CPU :", "").split("|")
                    if kv.strip().endswith("= 1"))


def best_format() -> str:
    """Q8_0: on the AVX-512 build (AVX512_BF16 included) it decodes 148 tokens a CPU-second against BF16's 125
    and reads prompts at 308 against 286; on the AVX2 build 132 against 109 (16 sequences, 1 thread)."""
    return "Q8_0"


def fast_weights(src: Path, fmt: str | None = None) -> Path:
    """`src` re-encoded to `fmt` (default best_format()), made once and cached; never half-written."""
    import logging

    import llama_cpp

    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # no line per tensor on stderr
    fmt = fmt or best_format()
    st = src.stat()
    key = hashlib.sha256(f"{src.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{llama_cpp.__version__}".encode())
    stem = src.name[:-len(".gguf")].rsplit(".", 1)[0] if src.name.count(".") >= 2 else src.stem
    target = cache_root() / key.hexdigest()[:24] / f"{stem}.{fmt}.gguf"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".gguf", dir=target.parent)
    os.close(fd)
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = getattr(llama_cpp, FORMATS[fmt])
        params.allow_requantize = True  # the source is quantized already (Q4_1)
        params.nthread = 1
        rc = llama_cpp.llama_model_quantize(str(src).encode(), tmp.encode(), ctypes.byref(params))
        if rc != 0:
            raise RuntimeError(f"llama_model_quantize failed ({rc}) for {src} -> {fmt}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
