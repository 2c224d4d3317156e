"""A deterministic scripted teacher for the fake OpenAI server: it answers every prompt kind of the
presets plausibly (Self-Instruct lists, yes/no classification, instances, Evol rewrites and equality
verdicts, self-align red-team questions, judge scores, thought/answer replies), so whole runs keep records.

    FakeOpenAIServer(reply=scripted_reply)
"""
from __future__ import annotations

import hashlib

from scripted_documents import documents_reply

WORDS = ("river", "lamp", "orange", "winter", "garden", "violin", "pocket", "ladder", "harbor", "pepper",
         "copper", "meadow", "candle", "tunnel", "basket", "falcon", "marble", "engine", "forest", "silver",
         "bridge", "cotton", "planet", "mirror", "thunder", "wallet", "desert", "button", "lemon", "anchor")
VERBS = ("Describe", "Explain", "List", "Compare", "Summarize", "Write", "Classify", "Suggest", "Rewrite", "Name")


def scripted_reply(content: str, seed, index: int, model=None) -> str:
    """A deterministic teacher that answers every prompt kind of the presets plausibly."""
    grounded = documents_reply(content)  # --method documents and its grounding filters
    if grounded is not None:
        return grounded
    h = hashlib.sha256(f"{content}|{seed}|{index}".encode()).digest()

    def w(k: int) -> str:
        return WORDS[h[k % len(h)] % len(WORDS)]

    def task(k: int) -> str:
        return f"{VERBS[h[k % len(h)] % len(VERBS)]} the {w(k + 1)} of a {w(k + 2)} near the {w(k + 3)} {w(k + 4)}."

    tail = content.rstrip().splitlines()[-1].strip().lower() if content.strip() else ""
    if tail.startswith("is it classification"):
        return "Yes" if h[0] % 3 == 0 else "No"
    if tail == "class label:":
        return f" {w(1).title()}\nInput: The {w(2)} {w(3)} was {w(4)}.\n\nTask:"
    if tail == "input:":
        return f" The {w(2)} and the {w(3)}.\nOutput: A {w(4)} {w(5)} with {w(6)} {w(7)}.\n\nTask:"
    if tail.startswith("task ") and tail.endswith(":"):
        return "\n".join([f" {task(0)}"] + [f"Task {n}: {task(n * 3)}" for n in range(10, 13)])
    if "equal" in content.lower() and "yes" in content.lower():
        return "Not Equal" if h[0] % 4 else "Equal"
    if "question" in content.lower() and "new" in content.lower() and "topic" in content.lower():
        return f"Question: How can a {w(1)} help a {w(2)} with the {w(3)} {w(4)}?"
    if "score" in content.lower() or "rate" in content.lower():
        return f"Score: {1 + h[0] % 10}"
    # The i-th of n candidates says i sentences more, so best-of-n scorers (e.g. `shorter`) see no ties.
    more = "".join(f" Then the {w(9 + k)} stays {w(10 + k)}." for k in range(index))
    return (f"Internal thought: the {w(1)} matters here.\nAnswer: The {w(2)} {w(3)} uses a {w(4)} and a {w(5)}; "
            f"then the {w(6)} turns {w(7)} near the {w(8)}.{more}")
