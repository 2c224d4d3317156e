"""The scripted teacher's answers to --method documents prompts and its grounding filters: it quotes a
real sentence of the passage as evidence, answers with the passage's sentence that best matches the
question, and as the faithfulness judge scores 5 when the answer's numbers and nearly all its content
words are in the passage, 1 otherwise. Deterministic; None for any other prompt.

    documents_reply(<a question prompt whose passage says "Every employee has 27 days of paid leave.">)
      -> "Question: What exactly about every employee days paid?\\nEvidence: Every employee has 27 days of paid leave."
"""
from __future__ import annotations

import hashlib
import re

from datagen.documents.words import content_words, numbers

_PASSAGE = re.compile(r'(?:Passage|### Source passage)[^\n]*\n?[^\n]*\n"""\n(.*?)\n"""', re.DOTALL)
_SENT = re.compile(r"(?<=[.!?])\s+")
_PREFIX = {"factual": "What exactly", "why or how": "Why or how", "two things": "How do these relate",
           "summarize": "Summarize what is said", "list specific": "List what is given"}


def _sentences(passage: str) -> list[str]:
    out = []
    for block in re.split(r"\n\s*\n", passage):
        if block.lstrip().startswith("#"):
            continue
        out += [" ".join(s.split()) for s in _SENT.split(block) if len(s.split()) >= 6]
    return out


def _question(sentence: str, content: str) -> str:
    prefix = next((p for k, p in _PREFIX.items() if k in content), "What")
    words = [w for w in content_words(sentence) if not w.isdigit()][:4]
    return f"{prefix} about {' '.join(words)}?"


def _best(passage: str, question: str) -> str:
    q = set(content_words(question))
    return max(_sentences(passage) or [passage], key=lambda s: len(q & set(content_words(s))))


def _judge(passage: str, answer: str) -> str:
    have = set(content_words(passage))
    words = content_words(answer)
    share = sum(w in have for w in words) / max(1, len(words))
    ok = numbers(answer) <= numbers(passage) and share >= 0.8
    return f"{'Every claim is in the passage.' if ok else 'The answer contradicts the passage.'}\nScore: {5 if ok else 1}"


def documents_reply(content: str) -> str | None:
    m = _PASSAGE.search(content)
    if not m:
        return None
    passage = m.group(1)
    if "### Answer" in content and "Score:" in content:
        return _judge(passage, content.split("### Answer", 1)[1].split("### Your task", 1)[0].strip())
    if "Reply with two lines:" in content:
        options = _sentences(passage)
        if not options:
            return "Question: What is this about?\nEvidence: nothing"
        pick = options[hashlib.sha256(content.encode()).digest()[0] % len(options)]
        return f"Question: {_question(pick, content)}\nEvidence: {pick}"
    if "Reply with one line:" in content:
        given = re.search(r'Ask about this sentence of the passage: "(.*)"', content)
        return f"Question: {_question(given.group(1) if given else passage, content)}"
    if content.startswith("Passage from"):
        question = content.split('\n"""\n', 1)[1].strip().splitlines()[0]
        return _best(passage, question)
    return None
