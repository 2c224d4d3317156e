"""Shared pytest fixtures (keep this file small; add fixtures additively)."""
import pytest


@pytest.fixture
def fake_openai():
    """A fault-free fake OpenAI-compatible server on 127.0.0.1; tweak its attributes (fault_rate,
    latency, ignore_n, retry_after, ...) or call .inject(kind, ...) inside the test."""
    from fake_openai_server import FakeOpenAIServer

    with FakeOpenAIServer(stall_seconds=5.0) as server:
        yield server


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray of 2 CPUs for one test module (skipped without the ray extra)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             _node_ip_address="127.0.0.1")
    yield ray
    ray.shutdown()
