"""Prompt templates: Jinja2 files under prompts/, rendered in a sandbox with strict undefined
variables and limits on time and size (datagen/template_limits.py). A user's --templates DIR
overrides any file by the same relative name.

A template renders to chat messages. Lines `<|system|>`, `<|user|>`, `<|assistant|>` start a
message of that role; text before any marker is one user message.

    load_template("self_instruct/generate").render(tasks=[...], num=8)
    -> [{"role": "user", "content": "..."}]
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from datagen.assets import asset_dir
from datagen.errors import DatagenError
from datagen.jsonl import read_text
from datagen.record import sha256_text
from datagen.template_limits import LimitedSandbox, RenderLimit, render_limited

_ROLE_LINE = re.compile(r"^<\|(system|user|assistant)\|>[ \t]*$", re.MULTILINE)


def _env() -> LimitedSandbox:
    return LimitedSandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
                          trim_blocks=True, lstrip_blocks=True, autoescape=False)


_ENV = _env()


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    """Compile once per source text; rendering thousands of records must not recompile."""
    return _ENV.from_string(source)


@dataclass(frozen=True)
class Template:
    name: str          # "evol_instruct/deepen"
    source: str
    path: str
    sha: str           # sha256 of the source text: goes into lineage and the manifest

    def render(self, **variables) -> list[dict]:
        try:
            text = render_limited(_compiled(self.source), variables)
        except RenderLimit as exc:
            raise DatagenError(f"template {self.name} ({self.path}): stopped: {exc}") from None
        except jinja2.UndefinedError as exc:
            raise DatagenError(f"template {self.name} ({self.path}): undefined variable: {exc.message}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise DatagenError(f"template {self.name} ({self.path}) line {exc.lineno}: {exc.message}") from None
        except jinja2.exceptions.SecurityError as exc:
            raise DatagenError(f"template {self.name} ({self.path}): blocked by the sandbox: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a user's template is input: e.g. {{ 1/0 }}, {{ 'a' + 1 }}
            raise DatagenError(f"template {self.name} ({self.path}): {exc or 'cannot be rendered'}") from None
        return split_messages(text)

    def render_text(self, **variables) -> str:
        """Rendered text of a single-message template."""
        return "\n\n".join(m["content"] for m in self.render(**variables))


def split_messages(text: str) -> list[dict]:
    """'<|system|>\\nBe brief.\\n<|user|>\\nHi' -> [{system: Be brief.}, {user: Hi}]."""
    parts = _ROLE_LINE.split(text)
    messages = []
    head = parts[0].strip()
    if head:
        messages.append({"role": "user", "content": head})
    for role, content in zip(parts[1::2], parts[2::2]):
        messages.append({"role": role, "content": content.strip()})
    if not messages:
        raise DatagenError("template rendered to an empty prompt")
    return messages


class TemplateLoader:
    """Finds `name` (without .j2) in the user's dir first, then the bundled prompts/."""

    def __init__(self, user_dir: str | Path | None = None) -> None:
        self.dirs = [Path(user_dir)] if user_dir else []
        if user_dir and not Path(user_dir).is_dir():
            raise DatagenError(f"templates directory not found: {user_dir}")
        self.dirs.append(asset_dir("prompts"))
        self.used: dict[str, str] = {}  # name -> sha, for the manifest

    def find(self, name: str) -> Path:
        rel = name if name.endswith((".j2", ".md", ".jsonl", ".yaml")) else name + ".j2"
        for d in self.dirs:
            p = d / rel
            if p.is_file():
                return p
        raise DatagenError(f"template not found: {rel} (looked in {', '.join(str(d) for d in self.dirs)})")

    def load(self, name: str) -> Template:
        path = self.find(name)
        source = read_text(path, "template")
        try:
            _ENV.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            raise DatagenError(f"template {name} ({path}) line {exc.lineno}: {exc.message}") from None
        tpl = Template(name=name, source=source, path=str(path), sha=sha256_text(source))
        self.used[name] = tpl.sha
        return tpl

    def read_file(self, name: str) -> tuple[str, str]:
        """A non-template data file under prompts/ (principles, exemplars): (text, sha)."""
        path = self.find(name)
        text = read_text(path, "prompt file")
        sha = sha256_text(text)
        self.used[name] = sha
        return text, sha


def load_template(name: str, user_dir: str | Path | None = None) -> Template:
    return TemplateLoader(user_dir).load(name)
