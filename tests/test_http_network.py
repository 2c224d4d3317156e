"""datagen.backends.http_client on the networks users have: proxies from the environment, TLS with
a CA bundle, a CONNECT tunnel to a self-signed HTTPS server, a host whose first address is dead."""
import asyncio
import importlib.util
import socket
import time

import pytest
from raw_servers import ConnectProxy, Scripted, dead_listener, ok, self_signed, server_tls

from datagen.backends.http_client import HttpClient, proxy_for
from datagen.backends.openai_errors import transport_failure
from datagen.errors import DatagenError


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_proxy_from_the_environment(no_proxy_env):
    env = no_proxy_env
    env.setenv("HTTP_PROXY", "http://u:p%40ss@proxy.internal:3128")
    env.setenv("NO_PROXY", "localhost,.example.org")
    assert proxy_for("http://vllm:8000/v1") == "http://u:p%40ss@proxy.internal:3128"
    assert proxy_for("http://api.example.org/v1") is None and proxy_for("http://localhost:1/v1") is None

    async def go():
        async with Scripted(ok(b"via proxy"), b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n") as proxy:
            env.setenv("HTTP_PROXY", proxy.url.removesuffix("/v1").replace("//", "//u:p%40ss@"))
            env.setenv("HTTPS_PROXY", proxy.url.removesuffix("/v1"))
            env.setenv("NO_PROXY", "")
            plain = HttpClient("http://vllm:8000/v1", headers={})
            resp = await plain.request("GET", "/models")
            await plain.close()
            tunnel = HttpClient("https://api.example.com/v1", headers={})
            with pytest.raises(Exception) as exc:
                await tunnel.request("GET", "/models")
            await tunnel.close()
        return proxy.heads, resp, exc.value

    heads, resp, refused = run(go())
    assert resp.body == b"via proxy" and heads[0].startswith("GET http://vllm:8000/v1/models HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic dTpwQHNz\r\n" in heads[0]  # base64 of "u:p@ss"
    assert heads[1].startswith("CONNECT api.example.com:443 HTTP/1.1\r\n")
    assert transport_failure(refused, 60).message == "the proxy refused the tunnel (HTTP 407)"


def test_https_with_a_ca_bundle_and_a_refused_certificate(tmp_path, no_proxy_env):
    cert, key = self_signed(tmp_path)

    async def go():
        async with Scripted(ok(b"secret"), ok(b"again"), tls=server_tls(cert, key)) as srv:
            client = HttpClient(srv.url, headers={}, ca_bundle=cert)
            bodies = [(await client.request("GET", "/models")).body for _ in range(2)]
            await client.close()
            stranger = HttpClient(srv.url, headers={})
            with pytest.raises(Exception) as exc:
                await stranger.request("GET", "/models")
            await stranger.close()
        return srv, bodies, exc.value

    srv, bodies, refused = run(go())
    assert bodies == [b"secret", b"again"] and srv.connections == 1  # kept alive; the refused one never got in
    assert transport_failure(refused, 60).message.startswith("TLS certificate not accepted: ")


def test_https_through_a_connect_proxy_to_a_self_signed_server(tmp_path, no_proxy_env):
    cert, key = self_signed(tmp_path)

    async def go():
        async with Scripted(ok(b'{"data": []}'), ok(b"answer"), tls=server_tls(cert, key)) as srv, \
                ConnectProxy() as proxy:
            no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
            client = HttpClient(srv.url, headers={"Authorization": "Bearer k"}, ca_bundle=cert)
            listed = await client.request("GET", "/models")
            answer = await client.request("POST", "/chat/completions", b"{}")
            await client.close()
        return srv, proxy, listed, answer

    srv, proxy, listed, answer = run(go())
    assert (listed.body, answer.body) == (b'{"data": []}', b"answer")
    assert proxy.connects == [f"CONNECT 127.0.0.1:{srv.port} HTTP/1.1"]  # one tunnel, kept alive
    assert "Authorization: Bearer k" in srv.heads[1]  # inside the tunnel, never seen by the proxy


def test_a_ca_bundle_that_is_not_a_file_is_one_line(no_proxy_env):
    with pytest.raises(DatagenError, match="teacher.ca_bundle: no such file"):
        HttpClient("https://127.0.0.1:1/v1", headers={}, ca_bundle="/nonexistent/ca.pem")


@pytest.mark.skipif(importlib.util.find_spec("aiohttp_socks") is not None, reason="aiohttp-socks is installed")
def test_a_socks_proxy_without_aiohttp_socks_is_one_line(no_proxy_env):
    no_proxy_env.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(DatagenError, match=r"SOCKS proxy the environment names \(socks5://127.0.0.1:1080\) needs the socks extra"):
        HttpClient("http://vllm:8000/v1", headers={})


def test_a_dead_first_address_costs_a_quarter_second_not_the_connect_timeout(no_proxy_env):
    """The name resolves to 127.0.0.2 (a listener that never accepts: the connection hangs, as over a
    broken IPv6 route) and then 127.0.0.1 (the server): happy eyeballs tries the second after 0.25 s."""
    real = asyncio.base_events.BaseEventLoop.getaddrinfo

    async def resolve(self, host, port, *args, **kw):
        if host != "dual.test":
            return await real(self, host, port, *args, **kw)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("127.0.0.2", "127.0.0.1")]

    no_proxy_env.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", resolve)

    async def go():
        async with Scripted(ok(b"alive")) as srv:
            dead, fill = dead_listener("127.0.0.2", srv.port)
            try:
                client = HttpClient(f"http://dual.test:{srv.port}/v1", headers={}, connect_timeout=10.0)
                t0 = time.monotonic()
                resp = await client.request("GET", "/models")
                elapsed = time.monotonic() - t0
                await client.close()
            finally:
                for s in [dead, *fill]:
                    s.close()
        return resp, elapsed, srv

    resp, elapsed, srv = run(go())
    assert resp.body == b"alive" and elapsed < 1.0, elapsed
    assert f"Host: dual.test:{srv.port}" in srv.heads[0]
