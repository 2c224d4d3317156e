"""The README and docs/ as a script: every line of their ```bash blocks, in order, with the few changes
a test machine needs listed here by name (issue 18: the README is a contract; issue 26: so are the docs).

    steps(open("README.md").read()) -> [Step(line=24, text="datagen versions", action="run"), ...]
    script(root) -> the steps of every page of pages(root), each Step naming its page

Order: README.md, then the docs pages of ORDER (later pages may use the versions, adapters and shell
variables earlier ones made), then any other docs/**/*.md by path. A page that needs something no earlier
page made sets it up in its own bash block.

A step is run as written, unless its text starts with a key of SKIP (not run, with the reason) or
of STAND_IN (run as the command given instead). SMALLER appends flags that shrink a run or point it at
the fake OpenAI server; a later flag wins over an earlier one, so the command as written still
decides everything else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ORDER = [
    "README.md",
    "docs/teachers.md",
    "docs/recipes.md",
    "docs/methods/self_instruct.md",
    "docs/methods/answer.md",
    "docs/methods/evol_instruct.md",
    "docs/methods/self_align.md",
    "docs/methods/self_chat.md",
    "docs/methods/magpie.md",
    "docs/personas.md",
    "docs/filters.md",
    "docs/versions.md",
    "docs/training.md",
    "docs/evaluation.md",
    "docs/scale.md",
    "docs/contributing.md",
]

# Lines not run, and why. Each key must match a README line (test_readme_commands checks it).
SKIP = {
    "make test": "this test is part of make test",
    "python -m llama_cpp.server": "the fake OpenAI server listens in its place (see SERVER_URL)",
    "OPENAI_API_KEY=... datagen generate --teacher openai --model gpt-4o-mini": "paid API",
    "pip install 'datagen[ray]'": "make test installs the ray extra",
}

# Lines run as another command: (command, why).
STAND_IN = {
    "make run": ("datagen generate", "make run is `.venv/bin/datagen generate` after the set-up make test did"),
    "GGUF=$(": ("GGUF={tiny_model}", "the student is the tiny model built in the test, not SmolLM2 (CPU time)"),
}

# The server the README starts on port 8080 is the fake one at this URL in the test.
SERVER_URL = "http://127.0.0.1:8080/v1"

FAKE_TEACHER = "--teacher openai --base-url {url} --model fake-model"
# Appended flags by command: the teacher becomes the fake server; eval, train and sample get smaller.
SMALLER = {
    "generate": FAKE_TEACHER,
    "run": FAKE_TEACHER,
    "filter": FAKE_TEACHER,
    "select": FAKE_TEACHER,  # without --model unless --scorer teacher: select refuses a model it would not use
    "eval": FAKE_TEACHER + " --limit 3 --answer_max_tokens 8 --heldout_max 4 --resamples 200",
    "train": "--max_steps 2 --num_eval 1",
    "sample": "--max_new_tokens 8",
}


@dataclass
class Step:
    line: int      # line number of the command's first line in its page
    text: str      # the command with continuations joined and a trailing comment removed
    action: str    # run | skip | stand_in
    why: str = ""
    page: str = "README.md"


def bash_blocks(readme: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of every ```bash block."""
    blocks, current, start = [], None, 0
    for n, line in enumerate(readme.splitlines(), 1):
        if current is None and line.strip() in ("```bash", "```sh", "```shell"):
            current, start = [], n + 1
        elif current is not None and line.strip() == "```":
            blocks.append((start, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


_COMMENT = re.compile(r"\s+#.*$")


def strip_comment(line: str) -> str:
    """`datagen versions   # what has been made` -> `datagen versions` (no README command quotes a #)."""
    return "" if line.lstrip().startswith("#") else _COMMENT.sub("", line).rstrip()


def logical_lines(start: int, lines: list[str]) -> list[tuple[int, str]]:
    """Join `\\` continuations; drop comments and blank lines."""
    out, buf, first = [], "", 0
    for n, raw in enumerate(lines, start):
        text = strip_comment(raw)
        if not text and not buf:
            continue
        if not buf:
            first = n
        if text.endswith("\\"):
            buf += text[:-1].rstrip() + " "
            continue
        out.append((first, (buf + text.strip()).strip()))
        buf = ""
    return out


def classify(line: int, text: str) -> Step:
    for key, why in SKIP.items():
        if text.startswith(key):
            return Step(line, text, "skip", why)
    for key, (_, why) in STAND_IN.items():
        if text.startswith(key):
            return Step(line, text, "stand_in", why)
    return Step(line, text, "run")


def steps(readme: str, page: str = "README.md") -> list[Step]:
    out = [classify(n, t) for start, lines in bash_blocks(readme) for n, t in logical_lines(start, lines)]
    for s in out:
        s.page = page
    return out


def pages(root: Path) -> list[str]:
    """README.md, the pages of ORDER that exist, then every other docs/**/*.md, by path."""
    listed = [p for p in ORDER if (root / p).is_file()]
    rest = sorted(p.relative_to(root).as_posix() for p in (root / "docs").rglob("*.md"))
    return listed + [p for p in rest if p not in listed]


def script(root: Path) -> list[Step]:
    return [s for page in pages(root) for s in steps((root / page).read_text(encoding="utf-8"), page)]


def command_of(step: Step, url: str, tiny_model: str) -> str:
    """The shell command the test runs for a step."""
    text = step.text
    if step.action == "stand_in":
        text = next(cmd for key, (cmd, _) in STAND_IN.items() if step.text.startswith(key))
        text = text.format(tiny_model=tiny_model)
    text = text.replace(SERVER_URL, url)
    words = text.split()
    if len(words) >= 2 and words[0] == "datagen" and words[1] in SMALLER and "--help" not in words:
        extra = SMALLER[words[1]]
        if words[1] == "select" and "teacher" not in words:
            extra = extra.replace(" --model fake-model", "")
        text += " " + extra.format(url=url)
    return text
