"""The pre-query part of a chat template (Magpie, Xu et al. 2024, sec. 2.1): everything the model
would see before a user's words, read by rendering the template around a sentinel user message.

    pre_query(FORMATS["chatml"]) -> PreQuery(text="<|im_start|>user\\n", end_of_turn="<|im_end|>")
    pre_query(FORMATS["llama3"]) -> PreQuery(text="<|start_header_id|>user<|end_header_id|>\\n\\n",
                                             end_of_turn="<|eot_id|>")

The BOS token is left out (rendered as ""): every backend adds it itself when the model asks for it,
and a second one would be a different prompt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2

from datagen.errors import DatagenError
from datagen.record import sha256_text
from datagen.template_limits import LimitedSandbox, RenderLimit, render_limited

SENTINEL = "\x00MAGPIE-QUERY\x00"

# Chat formats written out for teachers that cannot tell their own template (a vLLM server, a hosted
# API) and for tests. Each renders `messages` as the model family's template does, without a default
# system prompt. Names as in the model families' documentation.
FORMATS = {
    "chatml": (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"),
    "llama3": (
        "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
        "{{ m.content | trim }}<|eot_id|>{% endfor %}"
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"),
    # Gemma has no system role: a system message is put before the first user message's text.
    "gemma": (
        "{{ bos_token }}{% set sys = messages[0].content + '\n\n' if messages[0].role == 'system' else '' %}"
        "{% for m in messages if m.role != 'system' %}<start_of_turn>"
        "{{ 'model' if m.role == 'assistant' else 'user' }}\n{{ sys if loop.first else '' }}{{ m.content | trim }}"
        "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"),
    "phi3": (
        "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"),
}

# Text that belongs to a chat template and never to a user's query: special tokens such as
# <|im_start|>, <|eot_id|>, <start_of_turn>, [INST], and a role name alone on the first line.
SPECIAL_TOKEN = re.compile(r"<\|[A-Za-z0-9_]+\|>|<(?:start|end)_of_turn>|</?s>|\[/?INST\]|<\|?(?:bos|eos)\|?>")
ROLE_HEADER = re.compile(r"^\s*(?:system|user|assistant|model)\s*(?:\n|:|$)", re.IGNORECASE)


@dataclass(frozen=True)
class PreQuery:
    """What the teacher is sent (`text`), where its query ends (`end_of_turn`), and where it came from."""
    text: str
    end_of_turn: str
    source: str = ""
    name: str = "magpie/pre_query"

    @property
    def sha(self) -> str:
        return sha256_text(self.text + "\x00" + self.end_of_turn)[:16]


def _raise(message: str):
    raise jinja2.TemplateError(message)


_ENV = LimitedSandbox(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
_ENV.globals["raise_exception"] = _raise


def render(template: str, messages: list[dict], add_generation_prompt: bool = False, eos_token: str = "") -> str:
    """A Hugging Face style chat template rendered as transformers renders it (messages, bos_token,
    eos_token, add_generation_prompt, raise_exception)."""
    try:
        return render_limited(_ENV.from_string(template), dict(
            messages=messages, add_generation_prompt=add_generation_prompt, bos_token="", eos_token=eos_token, tools=None))
    except RenderLimit as exc:  # a server's template too: datagen/template_limits.py
        raise DatagenError(f"the chat template does not render: stopped: {exc}") from None
    except jinja2.TemplateError as exc:
        raise DatagenError(f"the chat template does not render: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a template is input, e.g. one that indexes a missing key
        raise DatagenError(f"the chat template does not render: {exc or 'an error'}") from None


def pre_query(template: str, history: list[dict] | None = None, system: str | None = None,
              source: str = "", eos_token: str = "") -> PreQuery:
    """The template's text before the next user message (after `history`, with `system` first),
    and the end-of-turn text after it. A template that does not show the sentinel is an error."""
    messages = ([{"role": "system", "content": system}] if system else []) + list(history or [])
    text = render(template, messages + [{"role": "user", "content": SENTINEL}], eos_token=eos_token)
    if text.count(SENTINEL) != 1:
        raise DatagenError("the chat template does not show a user message's text: cannot read its pre-query part")
    before, after = text.split(SENTINEL)
    end = after.strip().split("\n")[0].strip() or eos_token
    if not end:
        raise DatagenError("the chat template shows nothing after a user message: set method_cfg.end_of_turn")
    return PreQuery(before, end, source)


def resolve_template(spec: str, teacher_template: str | None) -> tuple[str, str]:
    """(Jinja chat template, where it came from): a FORMATS name, a file, or the teacher's own."""
    if spec in FORMATS:
        return FORMATS[spec], f"format {spec}"
    if spec:
        from pathlib import Path

        path = Path(spec)
        if not path.is_file():
            raise DatagenError(f"method_cfg.chat_template: {spec!r} is neither a format ({', '.join(FORMATS)}) "
                               "nor a file")
        return path.read_text(encoding="utf-8"), f"file {spec}"
    if not teacher_template:
        raise DatagenError("this teacher does not tell its chat template: set method_cfg.chat_template to one of "
                           f"{', '.join(FORMATS)} or a Jinja file, or method_cfg.pre_query to the text itself")
    return teacher_template, "the teacher's chat template"


def markers(pq: PreQuery, template: str | None) -> tuple[str, ...]:
    """Template text a query must not contain: the end of turn and the pre-query's own special tokens."""
    found = set(SPECIAL_TOKEN.findall(pq.text)) | set(SPECIAL_TOKEN.findall(template or ""))
    return tuple(sorted({pq.end_of_turn, *found} - {""}))


def leaks_template(query: str, extra: tuple[str, ...] = ()) -> str | None:
    """The template text a query contains (a special token, a role header), or None.

        leaks_template("<|im_start|>assistant\\nSure") -> "<|im_start|>"
        leaks_template("How do tides work?") -> None
    """
    for m in extra:
        if m and m in query:
            return m
    hit = SPECIAL_TOKEN.search(query)
    if hit:
        return hit.group(0)
    head = ROLE_HEADER.match(query)
    return head.group(0).strip() if head else None
