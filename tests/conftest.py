"""Shared pytest fixtures (keep this file small; add fixtures additively)."""
import pytest


@pytest.fixture
def fake_openai():
    """A fault-free fake OpenAI-compatible server on 127.0.0.1; tweak its attributes (fault_rate,
    latency, ignore_n, retry_after, ...) or call .inject(kind, ...) inside the test."""
    from fake_openai_server import FakeOpenAIServer

    with FakeOpenAIServer(stall_seconds=5.0) as server:
        yield server
