"""datagen.backends.http_client against scripted raw servers: framing, keep-alive, failures in
plain words, redirects, the base URL's query (what tests/test_http11.py checked of the
hand-written client it replaces, and what that client could not do)."""
import asyncio
import gzip
import socket

import pytest
from raw_servers import Scripted, ok

from datagen.backends.http_client import HttpClient, RedirectFailure
from datagen.backends.openai_errors import status_failure, transport_failure


def run(coro):
    return asyncio.run(coro)


async def ask(client, *calls):
    try:
        return [await client.request(*c) for c in calls]
    finally:
        await client.close()


def test_keep_alive_reuses_one_connection_and_sends_the_headers():
    async def go():
        async with Scripted(ok(b"one"), ok(b"two")) as srv:
            a, b = await ask(HttpClient(srv.url, headers={"Authorization": "Bearer k"}),
                             ("POST", "/chat/completions", b'{"x": 1}'), ("GET", "/models"))
        return srv, a, b

    srv, a, b = run(go())
    assert (a.status, a.body, b.body) == (200, b"one", b"two") and srv.connections == 1
    assert srv.heads[0].startswith("POST /v1/chat/completions HTTP/1.1\r\n") and srv.bodies[0] == b'{"x": 1}'
    assert "Authorization: Bearer k\r\n" in srv.heads[0] and "Content-Length: 8\r\n" in srv.heads[0]
    assert f"Host: 127.0.0.1:{srv.port}\r\n" in srv.heads[0] and "Accept-Encoding: gzip" in srv.heads[0]


def test_chunked_gzip_and_read_to_close_bodies():
    packed = gzip.compress(b'{"choices": []}')
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
               + b"%x;ext=1\r\n%s\r\n" % (5, packed[:5]) + b"%x\r\n%s\r\n" % (len(packed) - 5, packed[5:])
               + b"0\r\nX-Trailer: t\r\n\r\n")
    to_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"

    async def go():
        async with Scripted(b"HTTP/1.1 100 Continue\r\n\r\n" + chunked, to_close) as srv:
            return await ask(HttpClient(srv.url, headers={}), ("POST", "/x", b"{}"), ("POST", "/x", b"{}"))

    a, b = run(go())
    assert a.body == b'{"choices": []}' and a.headers["content-encoding"] == "gzip"
    assert b.body == b"until the end"


def test_connection_close_and_server_idle_close_open_a_fresh_connection():
    async def go():
        async with Scripted(ok(b"1", "Connection: close"), ok(b"2"), ok(b"3", "Connection: close"), ok(b"4")) as srv:
            client = HttpClient(srv.url, headers={})
            bodies = [(await client.request("GET", "/a")).body for _ in range(2)]
            await asyncio.sleep(0.05)
            bodies.append((await client.request("GET", "/a")).body)  # closed by the server while idle
            await asyncio.sleep(0.05)
            bodies.append((await client.request("GET", "/a")).body)
            await client.close()
        return srv, bodies

    srv, bodies = run(go())
    assert bodies == [b"1", b"2", b"3", b"4"] and srv.connections == 3


@pytest.mark.parametrize("answer, words", [
    (None, "the server closed the connection before answering"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", "the server closed the connection mid-response"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response datagen can read"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", "not an HTTP response datagen can read"),
    (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nxx", "bad response body"),
])
def test_broken_answers_fail_in_plain_words_and_the_next_request_works(answer, words):
    async def go():
        async with Scripted(answer, ok(b"after"), close_each=True) as srv:
            client = HttpClient(srv.url, headers={})
            with pytest.raises(Exception) as exc:
                await client.request("POST", "/x", b"{}")
            after = await client.request("POST", "/x", b"{}")  # a fresh connection serves the next one
            await client.close()
        return exc.value, after

    exc, after = run(go())
    assert after.body == b"after"
    failure = transport_failure(exc, 60)
    assert failure.kind == "connection" and failure.retryable and failure.message.startswith(words)


def test_refused_connection_is_said_plainly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go():
        with pytest.raises(OSError) as exc:
            await ask(HttpClient(f"http://127.0.0.1:{port}/v1", headers={}), ("GET", "/models"))
        return exc.value

    assert transport_failure(run(go()), 60).message == "connection refused"


def test_status_failure_uses_the_servers_words():
    f = status_failure(429, {"retry-after": "2"}, b'{"error": {"message": "slow  down", "type": "rate"}}')
    assert (f.kind, f.message, f.retryable, f.retry_after) == ("rate_limited", "HTTP 429: slow down", True, 2.0)
    assert status_failure(502, {}, b"<html>Bad gateway</html>").message == "HTTP 502: <html>Bad gateway</html>"
    bad = status_failure(401, {}, b"")
    assert (bad.kind, bad.retryable, bad.message) == ("auth", False, "HTTP 401: (empty body)")


def test_the_base_urls_query_goes_with_every_request():
    async def go():
        async with Scripted(ok(b"a"), ok(b"b")) as srv:
            client = HttpClient(srv.url.replace("/v1", "/openai/deployments/gpt4o?api-version=2024-10-21"),
                                headers={"api-key": "k"})
            await ask(client, ("POST", "/chat/completions", b"{}"), ("GET", "/models"))
        return srv.heads

    heads = run(go())
    assert heads[0].startswith("POST /openai/deployments/gpt4o/chat/completions?api-version=2024-10-21 HTTP/1.1")
    assert heads[1].startswith("GET /openai/deployments/gpt4o/models?api-version=2024-10-21 HTTP/1.1")
    assert "api-key: k\r\n" in heads[0]


@pytest.mark.parametrize("status", ["307 Temporary Redirect", "308 Permanent Redirect"])
def test_307_and_308_are_followed_with_the_same_method_and_body(status):
    async def go():
        async with Scripted(ok(b"", "Location: /v2/chat/completions", status=status), ok(b"moved")) as srv:
            [resp] = await ask(HttpClient(srv.url, headers={}), ("POST", "/chat/completions", b'{"q": 1}'))
        return srv, resp

    srv, resp = run(go())
    assert resp.body == b"moved" and srv.heads[1].startswith("POST /v2/chat/completions HTTP/1.1")
    assert srv.bodies == [b'{"q": 1}', b'{"q": 1}']


def test_301_is_followed_for_a_get_and_refused_for_a_post():
    async def go():
        async with Scripted(ok(b"", "Location: /v2/models", status="301 Moved Permanently"), ok(b"list"),
                            ok(b"", "Location: /v2/chat/completions", status="301 Moved Permanently")) as srv:
            client = HttpClient(srv.url, headers={})
            [listed] = await ask(client, ("GET", "/models"))
            with pytest.raises(RedirectFailure) as exc:
                await ask(client, ("POST", "/chat/completions", b"{}"))
        return srv, listed, str(exc.value)

    srv, listed, why = run(go())
    assert listed.body == b"list" and srv.heads[1].startswith("GET /v2/models HTTP/1.1")
    assert why == f"HTTP 301 redirect of a POST to http://127.0.0.1:{srv.port}/v2/chat/completions: " \
                  "set --base-url to the new address"
    assert len(srv.heads) == 3  # the POST was not sent again as a GET


def test_a_redirect_to_another_host_is_not_followed():
    async def go():
        async with Scripted(ok(b"", "Location: http://localhost:1/v1/chat/completions", status="308 x")) as srv:
            with pytest.raises(RedirectFailure, match="another host, http://localhost:1/v1/chat/completions"):
                await ask(HttpClient(srv.url, headers={"Authorization": "Bearer k"}), ("POST", "/chat/completions", b"{}"))

    run(go())
