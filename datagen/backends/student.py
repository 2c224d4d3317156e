"""A trained student as a teacher backend, so students answer through the same teacher layer and response
cache as teachers do (`datagen eval` asks a student and its base model the same way it asks any teacher).

The student is a `datagen train` adapter folder (its base read from provenance.json), a merged or full
Hugging Face model folder, or a .gguf file (converted once by datagen.hf.models.resolve_model). torch and
transformers are imported only when such a teacher is made.

    StudentTeacher(TeacherConfig(backend="student", model="adapters/qa/sft-0001")).name
    -> "student:adapter:qa/sft-0001@3f2a9c01b7e4"
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from datagen.errors import DatagenError
from datagen.hf import models
from datagen.teacher import Choice, Completion, OnResult, Request, TeacherStats, one_by_one
from datagen.versions.hashing import file_sha

WEIGHT_SUFFIXES = (".safetensors", ".bin")


@dataclass(frozen=True)
class StudentSpec:
    """What a student argument points at. `model` is what load_student loads (the base, for an adapter)."""
    kind: str  # "adapter" | "hf" | "gguf"
    path: Path
    model: str
    adapter: str | None = None


def resolve_student(spec: str, base: str | None = None) -> StudentSpec:
    """A student argument -> StudentSpec; DatagenError (one line) when it or an adapter's base is missing.

    resolve_student("adapters/qa/sft-0001") -> StudentSpec("adapter", ..., model="/m/tiny", adapter="adapters/...")
    """
    if not spec:
        raise DatagenError("the student backend needs teacher.model: an adapter folder, a model folder or a .gguf file")
    path = Path(spec).expanduser()
    if not path.exists():
        raise DatagenError(f"student not found: {spec}")
    if path.is_dir() and (path / "adapter_config.json").is_file():
        base = base or models.base_of(path)
        if not base:
            raise DatagenError(f"student adapter {spec} names no base model (no provenance.json with "
                               "base_model.source); set teacher.options.base")
        if not Path(base).expanduser().exists():
            raise DatagenError(f"base model of student adapter {spec} not found: {base}")
        return StudentSpec("adapter", path, str(base), str(path))
    if path.is_dir() and (path / "config.json").is_file():
        return StudentSpec("hf", path, str(path))
    if path.is_file() and path.suffix.lower() == ".gguf":
        return StudentSpec("gguf", path, str(path))
    raise DatagenError(f"student {spec} is neither an adapter folder (adapter_config.json), a model folder "
                       "(config.json) nor a .gguf file")


def weights_sha(model_spec: str) -> str:
    """sha256 of a model's weights: the GGUF's (stored once at conversion, so a big file is read once), or
    of a folder's weight files in name order.

    weights_sha("m/tiny") -> "9c0e..."  (64 hex)
    """
    model_dir, _ = models.resolve_model(model_spec)
    stored = models.read_source(model_dir).get("sha256")
    return stored or _folder_sha(model_dir)


def _folder_sha(folder: Path) -> str:
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise DatagenError(f"student {folder} holds no weight files (*.safetensors, *.bin)")
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}\0{file_sha(p)}\n".encode())
    return h.hexdigest()


def student_sha(s: StudentSpec) -> str:
    """Identity of the weights that answer. An adapter's includes its base's: the same adapter on another
    base (teacher.options.base) answers differently and must not share cache entries."""
    if s.kind != "adapter":
        return weights_sha(s.model)
    return hashlib.sha256(f"{_folder_sha(s.path)}\0{weights_sha(s.model)}".encode()).hexdigest()


def short_name(path: Path) -> str:
    """The folder and its parent for folders ("qa/sft-0001", "sft-0001/merged"), the file name for a GGUF."""
    return path.name if path.is_file() else f"{path.resolve().parent.name}/{path.resolve().name}"


class StudentTeacher:
    """Answers with a student model in process, one request at a time. Options (teacher.options):
    base (an adapter's base model, overriding its provenance), device (default cuda when available),
    dtype (default float32)."""

    supports_raw = True  # Request.prompt is tokenized as raw text

    def __init__(self, cfg) -> None:
        opts = dict(cfg.options or {})
        self.spec = resolve_student(cfg.model, opts.get("base"))
        self.name = f"student:{self.spec.kind}:{short_name(self.spec.path)}@{student_sha(self.spec)[:12]}"
        self.endpoint = cfg.endpoint
        self.device = opts.get("device")
        self.dtype = opts.get("dtype", "float32")
        self.stats = TeacherStats()
        self._model = self._tok = None  # loaded on the first miss: a fully cached run never loads weights

    def base(self) -> str | None:
        """The base model of an adapter student (to evaluate it for comparison); None for a full model."""
        return self.spec.model if self.spec.kind == "adapter" else None

    def chat_template(self) -> str | None:
        """The student tokenizer's chat template (loads the model on first use)."""
        if self._tok is None:
            self._load()
        return getattr(self._tok, "chat_template", None) or None

    def _load(self) -> None:
        import torch

        try:
            model, tok = models.load_student(self.spec.model, self.spec.adapter, self.dtype)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise DatagenError(f"cannot load student {self.spec.path}: {str(exc).splitlines()[0]}") from None
        self._model = model.to(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self._tok = tok

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        if self._model is None and requests:
            self._load()
        return one_by_one(self._one, requests, on_result)

    def _one(self, req: Request) -> Completion:
        self.stats.requests += 1
        try:
            ids = self._encode(req)
            answers = [self._generate(ids, req, k) for k in range(req.sampling.n)]
        except (ValueError, RuntimeError, IndexError) as exc:  # e.g. a prompt longer than the model takes
            self.stats.failed += 1
            self.stats.count_error("generation_error")
            return Completion(key=req.key, error=f"generation_error: {str(exc).splitlines()[0]}")
        usage = {"prompt_tokens": int(ids.shape[1]), "completion_tokens": sum(n for _, _, n in answers)}
        self.stats.succeeded += 1
        self.stats.add_usage(usage)
        return Completion(choices=tuple(Choice(t, f) for t, f, _ in answers), usage=usage, key=req.key)

    def _encode(self, req: Request):
        """Token ids (1 x n) of the prompt: the chat template for messages, raw text for a prompt."""
        tok = self._tok
        if req.prompt is not None or self.endpoint == "completions":
            text = req.prompt if req.prompt is not None else "\n\n".join(m["content"] for m in req.messages)
            ids = tok(text, return_tensors="pt")["input_ids"]
        else:
            ids = tok.apply_chat_template(list(req.messages), add_generation_prompt=True, return_tensors="pt",
                                          return_dict=True)["input_ids"]
        return ids.to(self._model.device)

    def _generate(self, ids, req: Request, k: int) -> tuple[str, str, int]:
        """-> (text, finish_reason, completion tokens) for choice k (seed + k, as the embedded backend)."""
        import torch

        s, tok = req.sampling, self._tok
        kwargs = dict(max_new_tokens=s.max_tokens, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        if s.temperature == 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:  # OpenAI semantics: temperature and top_p only (transformers would add top_k=50)
            kwargs.update(do_sample=True, temperature=s.temperature, top_p=s.top_p, top_k=0)
            if s.seed is not None:
                torch.manual_seed(s.seed + k)
        if s.stop:
            kwargs.update(stop_strings=list(s.stop), tokenizer=tok)
        with torch.no_grad():
            out = self._model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs)
        new = out[0][ids.shape[1]:].tolist()
        text = tok.decode(new, skip_special_tokens=True)
        return (*_finish(text, new, s, tok.eos_token_id), len(new))


def _finish(text: str, new: list[int], s, eos_id) -> tuple[str, str]:
    """Cut at the first stop string (OpenAI leaves it out); "length" only when max_tokens ran out first."""
    cuts = [text.find(x) for x in s.stop if x and x in text]
    if cuts:
        return text[:min(cuts)].strip(), "stop"
    stopped = bool(new) and new[-1] == eos_id
    return text.strip(), "length" if len(new) >= s.max_tokens and not stopped else "stop"
