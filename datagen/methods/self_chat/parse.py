"""Pure parsing for self-chat: a simulated user's reply -> its next message or the end of the
conversation, and an assistant reply -> its text.

    parse_user_turn("User: Thanks, that helps! [END]", "[END]", []) -> UserTurn(text="", end="end_marker")
    parse_user_turn("Person: How long do I bake it?", "[END]", []) -> UserTurn("How long do I bake it?", None)

The stop rule, in order (the first that applies ends the conversation; the message is not kept):
- "end_marker": the reply contains the end marker (default "[END]"), anywhere;
- "empty": nothing is left after cleaning;
- "closing": with `closing` on, the whole message is a short thanks or goodbye ("Thanks, bye!"),
  which is how a small user simulator ends a chat when it forgets the marker;
- "repeat": the message repeats an earlier message of the same conversation, either side (a looping
  simulator, or one that copies the assistant's answer back).
An assistant answer that repeats one of its earlier answers ends the conversation before that turn
("assistant_repeat"; a small teacher loops this way). A conversation that reaches num_turns ends with
"max_turns".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from datagen.record import normalize

# A line that the template loader would read as a new message: never let teacher text carry one.
_ROLE_LINE = re.compile(r"^\s*<\|(?:system|user|assistant)\|>\s*$", re.MULTILINE)
# Speaker labels a simulator writes before its message ("User:", "**Person:**", "Human:").
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:user|person|human|me|you|customer|student)(?:\*\*)?\s*:\s*(?:\*\*)?\s*", re.I)
# A line where the simulator starts writing the assistant's side: everything from there is dropped.
_OTHER_SIDE = re.compile(r"^\s*(?:\*\*)?(?:assistant|ai|bot|chatbot|gpt)(?:\*\*)?\s*:", re.I | re.MULTILINE)
# A whole message that only thanks or says goodbye (at most ~12 words).
_CLOSING = re.compile(
    r"^(?:(?:ok(?:ay)?|great|perfect|awesome|cool|got it|that(?:'s| is) (?:all|it|great|helpful|perfect))[,.!\s]*)?"
    r"(?:thanks?(?: you)?(?: so much| very much| a lot)?|thank you|cheers|bye|goodbye|good bye|see you)"
    r"(?:[ ,.!]+(?:for (?:the|your) (?:help|answer|advice|explanation)s?|that(?:'s| is| was) (?:all|helpful|"
    r"great|perfect)|bye|goodbye|have a (?:nice|good|great) day|again))*[\s.!]*$", re.I)


@dataclass(frozen=True)
class UserTurn:
    text: str
    end: str | None = None  # None: the conversation goes on; else why it ended


def clean(text: str) -> str:
    """Drop role-marker lines and surrounding space: "<|user|>\\nHi " -> "Hi"."""
    return _ROLE_LINE.sub("", text or "").strip()


def parse_user_turn(text: str, end_marker: str, earlier: list[str], closing: bool = True) -> UserTurn:
    """A simulated user's reply -> UserTurn(message, None) or UserTurn("", reason): see the module doc."""
    if end_marker and end_marker.lower() in (text or "").lower():
        return UserTurn("", "end_marker")
    body = clean(text)
    cut = _OTHER_SIDE.search(body)
    if cut:
        body = body[:cut.start()]
    body = _LABEL.sub("", body.strip(), count=1).strip().strip('"“”').strip()
    if not body:
        return UserTurn("", "empty")
    if closing and len(body.split()) <= 12 and _CLOSING.match(body):
        return UserTurn("", "closing")
    if repeats(body, earlier):
        return UserTurn("", "repeat")
    return UserTurn(body)


def repeats(text: str, earlier: list[str]) -> bool:
    """repeats("An apple. ", ["an apple."]) -> True: the same text up to case and whitespace."""
    return normalize(text).lower() in {normalize(e).lower() for e in earlier}


def parse_assistant(text: str) -> str | None:
    """An assistant reply without role-marker lines; None when nothing is left."""
    body = clean(text)
    return body or None


def parse_opening(text: str) -> str | None:
    """The opening message written for a topic: its text without a speaker label or quotes."""
    body = _LABEL.sub("", clean(text), count=1).strip().strip('"“”').strip()
    return body or None
