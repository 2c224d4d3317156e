"""Load a model: a local Hugging Face folder, or a GGUF file converted once to a cached safetensors folder;
a student is such a model, optionally with a `datagen train` LoRA adapter on it (its base read from the
run's provenance.json).

transformers reads GGUF through the `gguf` package and de-quantizes it to full precision; that takes
tens of seconds, so the result is saved under ~/.cache/datagen/models/<key>/ and reused.

    resolve_model("SmolLM2-135M-Instruct.Q4_1.gguf") -> (Path("~/.cache/datagen/models/3f2a.../"), {...})
    load_tokenizer(dir) -> (tokenizer, {"source": "model", "sha256": "..."})
    load_student(None, "adapters/qa/sft-0001") -> (model in eval mode, tokenizer)
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from datagen.errors import DatagenError
from datagen.extras import HF_MODULES, require
from datagen.hf import prefix_generate
from datagen.record import sha256_text
from datagen.versions.hashing import file_sha

# ChatML (the `<|im_start|>role ... <|im_end|>` turn format), applied when a tokenizer has no chat
# template of its own. Written for this project; the provenance records that it was used.
CHATML_NAME = "chatml"
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CHATML_TOKENS = ("<|im_start|>", "<|im_end|>")


def cache_root() -> Path:
    """DATAGEN_MODEL_CACHE, else $XDG_CACHE_HOME/datagen/models, else ~/.cache/datagen/models."""
    if os.environ.get("DATAGEN_MODEL_CACHE"):
        return Path(os.environ["DATAGEN_MODEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "datagen" / "models"


def gguf_cache_key(path: Path) -> str:
    """sha256 of (absolute path, size, mtime): a re-installed or replaced file gets a fresh conversion."""
    st = path.stat()
    return sha256_text(f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}")[:24]


def resolve_model(spec: str | None, convert: Callable[[Path, Path], None] | None = None) -> tuple[Path, dict]:
    """A model argument -> (Hugging Face folder, description for provenance). Raises DatagenError on a
    missing path, a folder without config.json, or a file that is not GGUF."""
    if not spec:
        raise DatagenError("no model given: pass --model PATH (a Hugging Face folder or a .gguf file)")
    path = Path(spec).expanduser()
    if not path.exists():
        raise DatagenError(f"model not found: {spec}")
    if path.is_dir():
        if (path / "adapter_config.json").is_file() and not (path / "config.json").is_file():
            raise DatagenError(f"{spec} is a LoRA adapter, not a model; pass it as --adapter with its base --model")
        if not (path / "config.json").is_file():
            raise DatagenError(f"{spec} is not a Hugging Face model folder (no config.json)")
        return path, {"source": str(path.resolve()), "kind": "hf"}
    if path.suffix.lower() != ".gguf":
        raise DatagenError(f"{spec} is neither a model folder nor a .gguf file")
    target = cache_root() / gguf_cache_key(path)
    if not (target / "source.json").is_file():
        if convert is None:  # transformers converts it (through the gguf package)
            require(f"the GGUF model {spec}", "torch", "transformers", "gguf")
        _convert_once(path, target, convert or convert_gguf)
    info = json.loads((target / "source.json").read_text(encoding="utf-8"))
    return target, {"source": str(path.resolve()), "kind": "gguf", "gguf_sha256": info.get("sha256"),
                    "converted": str(target)}


def _convert_once(gguf: Path, target: Path, convert: Callable[[Path, Path], None]) -> None:
    """Convert into a temp folder beside the target and rename it into place (never half-written)."""
    def fill(tmp: Path) -> dict:
        convert(gguf, tmp)
        return {"gguf": str(gguf.resolve()), "size": gguf.stat().st_size, "sha256": file_sha(gguf)}

    publish_cached(target, fill)


def publish_cached(target: Path, fill: Callable[[Path], dict]) -> None:
    """`fill(tmp)` writes a cache folder's files into a temp folder beside `target` and returns what goes
    into its source.json; the folder is then renamed into place in one step. A concurrent process that
    finished first keeps its copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        info = fill(tmp)
        (tmp / "source.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first: keep its copy
            if not (target / "source.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def convert_gguf(gguf: Path, out: Path) -> None:
    """GGUF -> safetensors folder (weights de-quantized to float32) with its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                     quantization_config=GgufConfig(dequantize=True))
    except (ValueError, OSError, KeyError) as exc:
        raise DatagenError(f"cannot load GGUF {gguf}: {exc}") from None
    if getattr(model, "hf_quantizer", None) is not None:  # weights are dense already; drop the marker
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))


def load_tokenizer(model_dir: Path):
    """Tokenizer with a chat template and a pad token. Without a template of its own, ChatML is set
    (its two markers added as special tokens if missing) and recorded.

    load_tokenizer(dir) -> (tok, {"source": "default:chatml", "sha256": "...", "added_tokens": [...]})
    """
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    info: dict = {"source": "model"}
    if not tok.chat_template:
        missing = [t for t in CHATML_TOKENS if t not in tok.get_vocab()]
        if missing:
            tok.add_tokens(missing, special_tokens=True)
        tok.chat_template = CHATML_TEMPLATE
        tok.eos_token = "<|im_end|>"
        info = {"source": f"default:{CHATML_NAME}", "added_tokens": missing}
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    template = tok.chat_template if isinstance(tok.chat_template, str) else json.dumps(tok.chat_template)
    info["sha256"] = sha256_text(template)
    return tok, info


def load_model(model_dir: Path, tok, dtype: str | None = "float32"):
    """AutoModelForCausalLM on the CPU/GPU default device, its vocabulary and stop token matched to `tok`."""
    import torch
    from transformers import AutoModelForCausalLM

    torch_dtype = "auto" if dtype in (None, "auto") else getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch_dtype)
    if len(tok) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tok))
    model.config.eos_token_id = tok.eos_token_id
    model.config.pad_token_id = tok.pad_token_id
    if model.generation_config is not None:
        model.generation_config.eos_token_id = tok.eos_token_id
        model.generation_config.pad_token_id = tok.pad_token_id
    return model


def read_source(model_dir: Path) -> dict:
    """The GGUF a cached folder was converted from ({} for a plain folder)."""
    p = Path(model_dir) / "source.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}


def base_of(adapter: str | Path) -> str | None:
    """The base model an adapter run was trained from, read from its provenance.json."""
    p = Path(adapter) / "provenance.json"
    if not p.is_file():
        return None
    return json.loads(p.read_text(encoding="utf-8")).get("base_model", {}).get("source")


def load_student(model_spec: str | None, adapter: str | None = None, dtype: str = "float32"):
    """-> (model in eval mode, tokenizer). The adapter folder's own tokenizer wins when present, so a
    ChatML default applied at training time is applied again here."""
    if adapter and not (Path(adapter) / "adapter_config.json").is_file():
        raise DatagenError(f"adapter not found: {adapter} (no adapter_config.json)")
    model_spec = model_spec or (base_of(adapter) if adapter else None)
    model_dir, _ = resolve_model(model_spec)
    require(f"the model {model_spec}", *HF_MODULES)
    tok_dir = Path(adapter) if adapter and (Path(adapter) / "tokenizer_config.json").is_file() else model_dir
    tok, _ = load_tokenizer(tok_dir)
    model = load_model(model_dir, tok, dtype)
    if adapter:
        from peft import PeftModel

        model = prefix_generate.install(PeftModel.from_pretrained(model, adapter))
    model.eval()
    return model, tok
