"""Pure prompt building for self-chat: one request per conversation and turn. A request depends only
on the conversation so far (and the template, persona and sampling), so a rerun after a crash
builds exactly the same request for turn k and the response cache answers it.

    build_assistant_request([{"role": "user", "content": "Hi"}], tpl, sampling, "c3:a1")
    -> Request(messages=({system}, {"role": "user", "content": "Hi"}), key="c3:a1")
"""
from __future__ import annotations

from datagen.teacher import Request


def build_user_request(turns: list[dict], template, end_marker: str, sampling, key: str,
                       persona: str | None = None) -> Request:
    """The user simulator reads the chat so far as a transcript (one message) and writes the next line."""
    messages = template.render(turns=[dict(m) for m in turns], end_marker=end_marker, persona=persona)
    return Request(messages=messages, sampling=sampling, key=key)


def build_assistant_request(turns: list[dict], template, sampling, key: str,
                            persona: str | None = None) -> Request:
    """The assistant sees its system message, then the real conversation as chat messages."""
    head = template.render(persona=persona)
    return Request(messages=tuple(head) + tuple(dict(m) for m in turns), sampling=sampling, key=key)


def build_opening_request(topic: str, template, sampling, key: str, persona: str | None = None) -> Request:
    return Request(messages=template.render(topic=topic, persona=persona), sampling=sampling, key=key)
