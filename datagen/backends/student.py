"""A trained student as a teacher backend, so students answer through the same teacher layer and response
cache as teachers do (`datagen eval` asks a student and its base model the same way it asks any teacher).

The student is a `datagen train` adapter folder (its base read from provenance.json), a merged or full
Hugging Face model folder, or a .gguf file (converted once by datagen.hf.models.resolve_model). torch and
transformers are imported only when such a teacher is made.

Engine (option `engine`): auto answers through llama.cpp from a GGUF of the merged weights
(datagen.hf.gguf_export, cached) where one can be made, else through transformers; the choice is made
here, so `datagen eval` (students and base), `datagen sample` and a student as the teacher of
`datagen generate` (on-policy candidates) all go the same way.

    StudentTeacher(TeacherConfig(backend="student", model="adapters/qa/sft-0001")).name
    -> "student:adapter:qa/sft-0001@3f2a9c01b7e4+llama.cpp:f32"
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from datagen.errors import DatagenError
from datagen.extras import HF_MODULES, require
from datagen.backends.student_hf import TransformersEngine
from datagen.hf import models
from datagen.hf.gguf_export import DEFAULT_FORMAT, FORMATS, export_student
from datagen.hf.gguf_meta import NotExportable
from datagen.teacher import Completion, OnResult, Request, TeacherStats
from datagen.versions.hashing import file_sha

WEIGHT_SUFFIXES = (".safetensors", ".bin")
ENGINES = ("auto", "llama.cpp", "transformers")
log = logging.getLogger("datagen")


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
    """Answers with a student in process. Options (teacher.options): base (an adapter's base model,
    overriding its provenance); engine (auto | llama.cpp | transformers) and gguf_format (f16 | q8_0 | bf16 |
    f32), workers and n_seq (the embedded engine's) for llama.cpp; device (default cuda when available), dtype (auto | float32 | bfloat16; auto keeps
    bfloat16 where its greedy answers match float32's) and batch_size (greedy requests answered together,
    default 8) for transformers."""

    supports_raw = True  # Request.prompt is tokenized as raw text

    def __init__(self, cfg) -> None:
        opts = dict(cfg.options or {})
        self.spec = resolve_student(cfg.model, opts.get("base"))
        sha = student_sha(self.spec)
        self.gguf_format = opts.get("gguf_format", DEFAULT_FORMAT)
        self.gguf, self._fallback = choose_engine(self.spec, sha, opts.get("engine", "auto"), self.gguf_format)
        engine = f"+llama.cpp:{self.gguf_format}" if self.gguf else ""  # answers differ by engine
        self.name = f"student:{self.spec.kind}:{short_name(self.spec.path)}@{sha[:12]}{engine}"
        self.endpoint = cfg.endpoint
        self.stats = TeacherStats()
        self._cfg = cfg
        self._engine = None  # loaded on the first miss: a fully cached run never loads weights
        self._engine_info: dict | None = None  # kept after close(), for the manifest
        self._hf = None if self.gguf else TransformersEngine(
            self._load, self.stats, cfg.endpoint, opts.get("device"), opts.get("dtype", "auto"),
            opts.get("batch_size", 8))

    def base(self) -> str | None:
        """The base model of an adapter student (to evaluate it for comparison); None for a full model."""
        return self.spec.model if self.spec.kind == "adapter" else None

    def engine_info(self) -> dict:
        """How the answers are made, for the manifest: engine, weight format, threads, batch size."""
        if self._hf is not None:
            return self._hf.info() | ({"fallback": self._fallback} if self._fallback else {})
        info = {"engine": "llama.cpp", "format": self.gguf_format, "gguf": str(self.gguf)}
        if self._engine is not None:
            self._engine_info = dict(self._engine.engine_info)  # the embedded engine's: build, workers, threads
        own = self._engine_info
        if own is None:
            return info | {"loaded": False}  # every answer came from the cache
        return info | {k: v for k, v in own.items() if k != "engine"} | {"batch_size": own.get("n_seq"),
                                                                         "batching": own.get("engine")}

    def chat_template(self) -> str | None:
        """The student tokenizer's chat template (loads the model on first use)."""
        if self._hf is None:
            return self._llama().chat_template()
        if self._hf.tok is None:
            self._hf.load()
        return getattr(self._hf.tok, "chat_template", None) or None

    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        if self._hf is not None:
            return self._hf.complete(requests, on_result)
        done = (lambda i, c: on_result(i, _stripped(c))) if on_result else None
        return [_stripped(c) for c in self._llama().complete(requests, done)]

    def _llama(self):
        if self._engine is None:
            from datagen.backends import TeacherConfig
            from datagen.backends.embedded import EmbeddedTeacher

            c = self._cfg
            opts = {k: v for k, v in (c.options or {}).items() if k in ("workers", "n_seq")}
            self._engine = EmbeddedTeacher(TeacherConfig(backend="embedded", model=str(self.gguf), n_ctx=c.n_ctx,
                                                         n_threads=c.n_threads, endpoint=c.endpoint, options=opts))
            self._engine.stats = self.stats
        return self._engine

    def close(self) -> None:
        """Stop the llama.cpp worker processes, if any were started."""
        if self._engine is not None:
            self._engine_info = dict(self._engine.engine_info)
            self._engine.close()
            self._engine = None

    def _load(self, dtype: str):
        require(f"student {self.spec.path}", *HF_MODULES)
        return models.load_student(self.spec.model, self.spec.adapter, dtype)


def choose_engine(spec: StudentSpec, sha: str, engine: str, fmt: str) -> tuple[Path | None, str | None]:
    """-> (the student's GGUF, None) for llama.cpp, or (None, why not) for transformers."""
    if engine not in ENGINES:
        raise DatagenError(f"unknown student engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if fmt not in FORMATS:
        raise DatagenError(f"unknown student GGUF format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if engine == "transformers":
        return None, None
    reason = next((f"{pip} is not installed" for mod, pip in (("gguf", "gguf"), ("llama_cpp", "llama-cpp-python"))
                   if importlib.util.find_spec(mod) is None), None)
    if reason is None:
        try:
            return export_student(spec.model, spec.adapter, sha, fmt), None
        except NotExportable as exc:
            reason = str(exc)
    if engine == "llama.cpp":
        raise DatagenError(f"student {spec.path} cannot be answered by llama.cpp: {reason}")
    log.warning("student %s answers through transformers: %s", spec.path, reason)
    return None, reason


def _stripped(c: Completion) -> Completion:
    """Answers without surrounding white space, as the transformers engine gives them."""
    if not c.ok:
        return c
    return dataclasses.replace(c, choices=tuple(dataclasses.replace(ch, text=ch.text.strip()) for ch in c.choices))
