"""Parsing what a teacher wrote for Self-Instruct: new instructions, the classification verdict and
instances. Pure functions over literal strings, forgiving on purpose: small teachers (the embedded
135M model) number things twice, add markdown, quotes, preambles and trailing chatter.

    parse_instructions(" Name a fruit.\\nTask 9: **Write a poem.**\\nHope this helps!")
    -> ["Name a fruit.", "Write a poem."]
"""
from __future__ import annotations

import re

# One list prefix: "Task 9:", "Instruction:", "9.", "9)", "-", "*", "•", "#", "Q:" ... (applied repeatedly,
# so "1. 1. Task 3: x" -> "x").
_PREFIX = re.compile(
    r"^\s*(?:(?:new\s+)?(?:task|instruction|prompt|question|sentence|example|q)\s*#?\s*\d*(?:\.\d+)*\s*[:.)\-]"
    r"|\d+(?:\.\d+)*\s*[.):\-]|\(\d+\)|[-*\u2022+>#]+)\s*", re.IGNORECASE)
# Lines that belong to an instance, not to an instruction list.
_INSTANCE_LINE = re.compile(r"^\s*(?:input|output|answer|response|class\s+label|label)\s*\d*\s*:", re.IGNORECASE)
_INLINE_INSTANCE = re.compile(r"\s+(?:input|output)\s*:.*$", re.IGNORECASE)
_MARKDOWN = re.compile(r"(\*\*|__|`+)")
_QUOTES = "\"'\u201c\u201d\u2018\u2019"
_WS = re.compile(r"\s+")


def clean_instruction(line: str) -> str:
    """Markdown, list prefixes, wrapping quotes and extra spaces off one line:
    '**2. "Name a fruit."**' -> 'Name a fruit.'"""
    text = _MARKDOWN.sub("", line)
    for _ in range(6):
        new = _PREFIX.sub("", text, count=1)
        if new == text:
            break
        text = new
    text = _INLINE_INSTANCE.sub("", text)
    text = _WS.sub(" ", text).strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES + ".":
        text = text.strip(_QUOTES + " ")
        if text and text[-1] not in ".?!":
            text = text.strip()
    return text.strip(_QUOTES + " ") if text.count('"') == 1 else text


def _is_listed(line: str) -> bool:
    return bool(_PREFIX.match(_MARKDOWN.sub("", line)))


def parse_instructions(text: str, limit: int | None = None) -> list[str]:
    """Instructions from a continued numbered list, in order, duplicates removed.

    The text continues the prompt's last "Task N:", so its first line is an instruction even without
    a prefix (unless it is a preamble ending in ':'). Later lines count only when they carry a list
    prefix; unprefixed chatter, instance lines ("Input: ...") and empty items are dropped.
    " Say hi.\\n2. Count to 3.\\nThanks!" -> ["Say hi.", "Count to 3."]
    """
    out: list[str] = []
    seen: set[str] = set()
    lines = (text or "").replace("\r", "\n").split("\n")
    first = True
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if _INSTANCE_LINE.match(_MARKDOWN.sub("", line)):
            first = False
            continue
        if not (first or _is_listed(line)):
            continue
        first_line, first = first, False
        item = clean_instruction(line)
        if not item or (first_line and item.endswith(":") and not _is_listed(line)):
            continue
        if item.endswith(":") and len(item.split()) <= 3:  # a bare heading such as "Tasks:"
            continue
        key = item.lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(item)
        if limit is not None and len(out) >= limit:
            break
    return out


_YES = {"yes", "y", "true", "classification"}
_NO = {"no", "n", "false", "not"}


def parse_is_classification(text: str) -> bool | None:
    """The first yes/no word of the answer: " Yes." -> True, "no, it is open" -> False, "maybe" -> None."""
    for word in re.findall(r"[a-z]+", (text or "").lower())[:4]:
        if word in _YES:
            return True
        if word in _NO:
            return False
    return None


_LABEL = re.compile(
    r"^[ \t]*(?:\*\*)?[ \t]*(instruction|input|output|answer|response|class[ \t]+label|label|example|task)"
    r"[ \t]*\d*[ \t]*(?:\*\*)?[ \t]*:(?:\*\*)?", re.IGNORECASE | re.MULTILINE)
_EXAMPLE_HEADER = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?[ \t]*(?:example|task)[ \t]*#?\d+[ \t]*(?:\*\*)?[ \t]*:?[ \t]*$",
                             re.IGNORECASE | re.MULTILINE)
NO_INPUT = {"", "<noinput>", "noinput", "none", "none.", "n/a", "na", "(none)", "no input", "no input.",
            "nothing", "-", "null", "<no input>", "[none]", "(no input)"}


def _segments(text: str) -> list[tuple[str, str]]:
    """'Input: a\\nOutput: b' -> [("input", "a"), ("output", "b")]; unlabelled lead text is dropped."""
    text = _EXAMPLE_HEADER.sub("", text)
    marks = list(_LABEL.finditer(text))
    out = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        label = _WS.sub(" ", m.group(1).lower())
        label = {"answer": "output", "response": "output", "label": "class label"}.get(label, label)
        out.append((label, text[m.end():end].strip()))
    return out


def _continue(label: str, text: str) -> str:
    """The prompt ended with `label`; the answer may repeat it: ("Input:", " **Input:** x") -> "**Input:** x"."""
    body = (text or "").lstrip(" \t")
    return body if _LABEL.match(body) else label + body


def _clean_value(value: str) -> str:
    value = value.strip().strip("`").strip()
    return "" if value.lower().strip(" .") in NO_INPUT or value.lower() in NO_INPUT else value


def parse_instances_input_first(text: str) -> list[tuple[str, str]]:
    """(input, output) pairs from text that continues "Input:"; stops at the next "Task:".
    " a cat\\nOutput: un chat\\n\\nInput: a dog\\nOutput: un chien" -> [("a cat", "un chat"), ("a dog", "un chien")]
    " <noinput>\\nOutput: Hello" -> [("", "Hello")]"""
    pairs, current = [], None
    for label, value in _segments(_continue("Input:", text)):
        if label == "task":
            break
        if label == "input":
            current = _clean_value(value)
        elif label == "output":
            out = value.strip()
            if out.lower().strip("<>[]() ").replace(" ", "") == "noinput":  # the marker echoed as an answer
                out = ""
            if out:
                pairs.append(("" if current is None else current, out))
            current = None
    return pairs


def parse_instances_output_first(text: str) -> list[tuple[str, str]]:
    """(input, class label) pairs from text that continues "Class label:" (output-first, Wang et al.
    2022 §2.2). " positive\\nInput: I loved it." -> [("I loved it.", "positive")]"""
    pairs, label_value = [], None
    for label, value in _segments(_continue("Class label:", text)):
        if label == "task":
            break
        if label in ("class label", "output"):
            label_value = value.strip().split("\n")[0].strip().strip(".").strip() or None
        elif label == "input" and label_value:
            pairs.append((_clean_value(value), label_value))
            label_value = None
    if label_value and not pairs:  # a label and no input: a task that needs no input
        pairs.append(("", label_value))
    return pairs


def dedupe_instances(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Exact repeats (after whitespace folding) collapse to one: [(a, b), (a, b)] -> [(a, b)]."""
    seen, out = set(), []
    for inp, outp in pairs:
        key = (_WS.sub(" ", inp).strip().lower(), _WS.sub(" ", outp).strip().lower())
        if key not in seen:
            seen.add(key)
            out.append((inp, outp))
    return out


def parse_alpaca_tasks(text: str, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(instruction, input, output) triples from text that continues "Instruction:" (the Alpaca
    simplification: whole tasks in one answer). Headers such as "Task 3" are skipped.
    " Name a color.\nInput: <noinput>\nOutput: Blue.\n\nTask 5\nInstruction: Add 2 and 3.\nInput:\nOutput: 5"
    -> [("Name a color.", "", "Blue."), ("Add 2 and 3.", "", "5")]"""
    out, cur = [], None
    for label, value in _segments(_continue("Instruction:", text)) + [("instruction", "")]:
        if label == "instruction":
            if cur and cur[0] and cur[2]:
                out.append((cur[0], cur[1], cur[2]))
            cur = [clean_instruction(value.split("\n")[0]) if value else "", "", ""]
        elif cur is not None and label == "input":
            cur[1] = _clean_value(value)
        elif cur is not None and label == "output" and not cur[2]:
            cur[2] = value.strip()
    return out[:limit] if limit is not None else out


def parse_instances(text: str, is_classification: bool) -> list[tuple[str, str]]:
    """Instances of one task, output-first for classification tasks, input-first otherwise."""
    parse = parse_instances_output_first if is_classification else parse_instances_input_first
    return dedupe_instances(parse(text))
