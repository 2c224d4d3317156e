"""Where the openai teacher's requests go and what they carry: the base URL, the provider's way of
sending the key (OpenAI's `Authorization: Bearer`, Azure's `api-key`), Azure's deployment URLs and
api-version, and the user's extra headers (values from the environment, never written anywhere).

    endpoint_of(cfg) -> Endpoint(base_url="https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21",
                                 provider="azure", headers={"api-key": "...", ...}, secrets=("...",))
"""
from __future__ import annotations

import base64
import ipaddress
import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from datagen import __version__
from datagen.backends import safe_url
from datagen.errors import DatagenError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "sk-no-key"  # local servers without auth still want some bearer token
PROVIDERS = ("auto", "openai", "azure")
AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token
ENV_VALUE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


@dataclass(frozen=True)
class Endpoint:
    base_url: str       # with its query string (never logged: safe_url() it)
    provider: str       # "openai" (any OpenAI-compatible server) or "azure"
    headers: dict       # every request's headers, the key included
    secrets: tuple      # values scrubbed from every message: the key, the extra headers' values


def is_local(url: str) -> bool:
    """Loopback, private, link-local addresses and single-label or .local/.internal names."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or "." not in host or host.endswith((".local", ".internal", ".localhost")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def header_safe(value: str) -> bool:
    """An HTTP header can carry it: printable ASCII (a newline would end the header and start another)."""
    return value.isascii() and value.isprintable()


def provider_of(cfg, base_url: str) -> str:
    if cfg.provider not in PROVIDERS:
        raise DatagenError(f"teacher.provider must be one of {', '.join(PROVIDERS)}, got {cfg.provider!r}")
    if cfg.provider != "auto":
        return cfg.provider
    host = (urlsplit(base_url).hostname or "").lower()
    return "azure" if host.endswith(AZURE_HOSTS) else "openai"


def azure_url(base_url: str, model: str) -> str:
    """https://R.openai.azure.com -> .../openai/deployments/<model>?api-version=<OPENAI_API_VERSION>;
    a deployment URL without api-version gets it from OPENAI_API_VERSION too (as the openai package's
    AzureOpenAI client does). The v1 API (/openai/v1) needs none."""
    u = urlsplit(base_url)
    path = u.path.rstrip("/") or f"/openai/deployments/{model}"
    query = u.query
    if "/deployments/" in path and "api-version" not in dict(parse_qsl(query)):
        version = os.environ.get("OPENAI_API_VERSION", "")
        if not version:
            raise DatagenError(f"Azure OpenAI deployment {safe_url(base_url)} needs an api-version: end --base-url "
                               "with ?api-version=2024-10-21 (or the version you use) or set OPENAI_API_VERSION")
        query = "&".join(q for q in (query, f"api-version={version}") if q)
    return f"{u.scheme}://{u.netloc}{path}" + (f"?{query}" if query else "")


def extra_headers(text: str) -> dict:
    """--teacher.headers "X-Title: datagen; Helicone-Auth: $HELICONE_KEY" -> {"X-Title": "datagen",
    "Helicone-Auth": <the variable's value>}. A value `$NAME` or `${NAME}` is read from the environment."""
    out = {}
    for part in re.split(r"[;\n]", text or ""):
        if not part.strip():
            continue
        name, colon, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not HEADER_NAME.match(name):
            raise DatagenError(f"teacher.headers: {name or part.strip()[:40]!r} is not 'Name: value' "
                               "(headers are separated by ';')")
        env = ENV_VALUE.match(value)
        if env:
            if env.group(1) not in os.environ:
                raise DatagenError(f"teacher.headers: {name} reads ${env.group(1)}, which is not set")
            value = os.environ[env.group(1)]
        if not header_safe(value):
            raise DatagenError(f"teacher.headers: the value of {name} has characters an HTTP header cannot carry")
        out[name] = value
    return out


def api_key(cfg, base_url: str, provider: str) -> str:
    env_names = [cfg.api_key_env] if cfg.api_key_env else []
    if provider == "azure" and cfg.api_key_env == "OPENAI_API_KEY":
        env_names.append("AZURE_OPENAI_API_KEY")  # the AzureOpenAI client's variable
    key = next((os.environ[n] for n in env_names if os.environ.get(n)), "")
    if not key:
        if not is_local(base_url):
            raise DatagenError(f"the openai teacher needs an API key for {safe_url(base_url)}: set the "
                               f"environment variable {cfg.api_key_env or 'OPENAI_API_KEY'} "
                               "(or name another with --api-key-env)")
        return NO_KEY
    if not header_safe(key):
        raise DatagenError(f"the API key in ${cfg.api_key_env} has characters an HTTP header cannot carry "
                           "(a newline or non-ASCII text?)")
    return key


def endpoint_of(cfg) -> Endpoint:
    base_url = (cfg.base_url or os.environ.get("OPENAI_BASE_URL")
                or (os.environ.get("AZURE_OPENAI_ENDPOINT") if cfg.provider == "azure" else "")
                or DEFAULT_BASE_URL).rstrip("/")
    u = urlsplit(base_url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise DatagenError(f"--base-url must be an http:// or https:// URL, got {safe_url(base_url)!r}")
    try:
        u.port
    except ValueError:
        raise DatagenError(f"--base-url {safe_url(base_url)}: the port must be a number from 1 to 65535") from None
    login = (unquote(u.username or ""), unquote(u.password or ""))
    if u.username is not None:  # user:password@ travels as a header, never in a URL that may be shown
        base_url = urlunsplit(u._replace(netloc=u.netloc.rpartition("@")[2]))
    provider = provider_of(cfg, base_url)
    if provider == "azure":
        base_url = azure_url(base_url, cfg.model)
    key = api_key(cfg, base_url, provider)
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "User-Agent": f"datagen/{__version__}"}
    if provider == "azure":
        headers["api-key"] = key
    elif key == NO_KEY and u.username is not None:  # no key: the URL's user:password as Basic auth
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(login).encode()).decode()
    else:
        headers["Authorization"] = f"Bearer {key}"
    for name, env in (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID")):
        value = os.environ.get(env, "")
        if header_safe(value) and value.strip():  # as the openai SDK sends them
            headers[name] = value.strip()
    extra = extra_headers(cfg.headers)
    headers.update(extra)
    secrets = tuple(v for v in [key if key != NO_KEY else "", *extra.values(), login[1]] if len(v) >= 8)  # short words stay readable
    return Endpoint(base_url, provider, headers, secrets)
