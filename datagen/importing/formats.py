"""The row formats `datagen import` reads, each the inverse of one `datagen export` format (plus the
public Self-Instruct seed format), and their conversion of one row into Record fields.

    fields_of("alpaca", {"instruction": "Add 2 and 3.", "input": "", "output": "5"})
    -> {"instruction": "Add 2 and 3.", "input": "", "output": "5", "rejected": None, "messages": None, "meta": {}}

A chat format carries instruction and input as one user turn (the export joins them with a blank
line), so after import that turn is the instruction and the input is empty; alpaca keeps them apart.
"""
from __future__ import annotations

import json
import math

FORMATS = ("alpaca", "self-instruct", "sharegpt", "messages", "prompt-completion", "dpo")
# The columns each format reads; the others of a row are kept in the record's meta ("columns").
COLUMNS = {
    "alpaca": ("instruction", "input", "output"),
    "self-instruct": ("instruction", "instances", "id", "name", "is_classification", "kind"),
    "sharegpt": ("conversations",),
    "messages": ("messages",),
    "prompt-completion": ("prompt", "completion"),
    "dpo": ("prompt", "chosen", "rejected"),
}
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "model": "assistant",
                  "system": "system"}
ROLES = ("system", "user", "assistant")


class RowError(ValueError):
    """A row that does not fit its format: the message says why (it becomes a `malformed` rejection)."""


def text(data: dict, key: str, required: bool = True, default: str | None = "") -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise RowError(f"missing {key!r}")
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError(f"{key!r} must be a string, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN: a malformed row, never the text "nan"
        raise RowError(f"{key!r} is {value}, a number where text belongs")
    value = str(value)
    if required and not value.strip():
        raise RowError(f"{key!r} is empty")
    return value


def listed(data: dict, key: str) -> list:
    """A list column; a CSV cell holds it as JSON text."""
    value = data.get(key)
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowError(f"{key!r} is not valid JSON: {exc.msg}") from None
    if value is None:
        raise RowError(f"missing {key!r}")
    if not isinstance(value, list) or not value:
        raise RowError(f"{key!r} must be a non-empty list")
    return value


def turns(items: list, key: str, role_key: str = "role", content_key: str = "content",
          names: dict | None = None) -> list[dict]:
    """[{"from": "human", "value": "hi"}] (names=SHAREGPT_ROLES) -> [{"role": "user", "content": "hi"}]"""
    out = []
    for i, m in enumerate(items):
        if not isinstance(m, dict):
            raise RowError(f"{key!r} turn {i + 1} is not an object")
        role = m.get(role_key)
        role = names.get(str(role).lower()) if names else role
        if role not in ROLES:
            raise RowError(f"{key!r} turn {i + 1} has role {m.get(role_key)!r}; expected one of "
                           f"{', '.join(sorted(names) if names else ROLES)}")
        content = m.get(content_key)
        if not isinstance(content, str):
            raise RowError(f"{key!r} turn {i + 1} has no text {content_key!r}")
        out.append({"role": role, "content": content})
    return out


def from_messages(msgs: list[dict], key: str) -> dict:
    """One user turn and its answer is a single-turn record; a system turn or more turns keep the
    conversation in `messages`, with instruction = the first user turn and output = the answer to
    it (as the self_chat method makes its records)."""
    spoken = [m for m in msgs if m["role"] != "system"]
    if not spoken or spoken[0]["role"] != "user":
        raise RowError(f"{key!r} must start with a user turn (after any system turn)")
    roles = [m["role"] for m in msgs]
    if roles in (["user"], ["user", "assistant"]):
        return _fields(msgs[0]["content"], "", msgs[1]["content"] if len(msgs) == 2 else None)
    answer = spoken[1]["content"] if len(spoken) > 1 and spoken[1]["role"] == "assistant" else None
    return _fields(spoken[0]["content"], "", answer, messages=tuple(msgs))


def _fields(instruction: str, input: str = "", output: str | None = None, rejected: str | None = None,
            messages: tuple | None = None, meta: dict | None = None) -> dict:
    if not instruction.strip():
        raise RowError("the instruction (first user turn) is empty")
    return {"instruction": instruction, "input": input, "output": output, "rejected": rejected,
            "messages": messages, "meta": meta or {}}


def _chat(data: dict, key: str) -> list[dict]:
    """A prompt/completion/chosen/rejected column: text is one turn, a list is turns."""
    value = data.get(key)
    if isinstance(value, str) and not value.lstrip().startswith("["):
        return [{"role": "assistant" if key != "prompt" else "user", "content": value}]
    return turns(listed(data, key), key)


def _alpaca(data: dict) -> dict:
    return _fields(text(data, "instruction"), text(data, "input", False), text(data, "output", False, None))


def _self_instruct(data: dict) -> dict:
    """The public Self-Instruct seed format, as datagen.seeds reads it: one record per task, its
    first instance as input/output, every instance in meta."""
    instances = listed(data, "instances")
    if not all(isinstance(i, dict) for i in instances):
        raise RowError("'instances' must be a list of {input, output}")
    kept = [{"input": text(i, "input", False), "output": text(i, "output")} for i in instances]
    meta = {"seed_name": str(data.get("name", data.get("id", ""))),
            "is_classification": bool(data.get("is_classification", False)), "instances": kept}
    if "kind" in data:
        meta["kind"] = str(data["kind"])
    return _fields(text(data, "instruction"), kept[0]["input"], kept[0]["output"], meta=meta)


def _prompt_completion(data: dict) -> dict:
    prompt, completion = data.get("prompt"), data.get("completion")
    if isinstance(prompt, str) and isinstance(completion, str):
        return _fields(text(data, "prompt"), "", completion)
    return from_messages(_chat(data, "prompt") + _chat(data, "completion"), "prompt")


def _answer(data: dict, key: str) -> str:
    msgs = _chat(data, key)
    if msgs[-1]["role"] != "assistant":
        raise RowError(f"{key!r} must end with an assistant turn")
    return msgs[-1]["content"]


def _dpo(data: dict) -> dict:
    prompt = _chat(data, "prompt")
    chosen, rejected = _answer(data, "chosen"), _answer(data, "rejected")
    users = [m for m in prompt if m["role"] == "user"]
    if not users:
        raise RowError("'prompt' has no user turn")
    history = tuple(prompt) if len(prompt) > 1 else None
    return _fields(users[0]["content"] if history else prompt[0]["content"], "", chosen, rejected, history)


CONVERTERS = {
    "alpaca": _alpaca,
    "self-instruct": _self_instruct,
    "sharegpt": lambda d: from_messages(turns(listed(d, "conversations"), "conversations", "from", "value",
                                              SHAREGPT_ROLES), "conversations"),
    "messages": lambda d: from_messages(turns(listed(d, "messages"), "messages"), "messages"),
    "prompt-completion": _prompt_completion,
    "dpo": _dpo,
}


def fields_of(fmt: str, data: dict) -> dict:
    """Record fields (instruction, input, output, rejected, messages, meta) from one row; the
    row's other columns go to meta["columns"]. Raises RowError."""
    out = CONVERTERS[fmt](data)
    extra = {k: v for k, v in data.items() if k not in COLUMNS[fmt]}
    if extra:
        out["meta"] = {**out["meta"], "columns": json.loads(json.dumps(extra, ensure_ascii=False, default=str))}
    return out
