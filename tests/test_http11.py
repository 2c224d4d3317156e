"""datagen.backends.http11 against scripted raw servers: framing, keep-alive, failures, proxies."""
import asyncio
import gzip
import shutil
import socket
import ssl
import subprocess

import pytest

from datagen.backends.http11 import Pool, ProtocolError, ServerClosed, proxy_for, ssl_context
from datagen.backends.openai_errors import status_failure, transport_failure


class Scripted:
    """A raw TCP server: each request (head + Content-Length body) gets the next scripted bytes;
    None closes the connection instead of answering. Records request heads and connections."""

    def __init__(self, *answers, close_each=False):
        self.answers, self.heads, self.connections, self.close_each = list(answers), [], 0, close_each

    tls = None  # an ssl.SSLContext makes it an https server

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0, ssl=self.tls)
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def handle(self, reader, writer):
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
                await reader.readexactly(length[0] if length else 0)
                self.heads.append(head.decode())
                answer = self.answers.pop(0)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_each or b"connection: close" in answer.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def ok(body: bytes, *headers: str) -> bytes:
    extra = "".join(h + "\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def run(coro):
    return asyncio.run(coro)


def test_keep_alive_reuses_one_connection_and_sends_fixed_headers():
    async def go():
        async with Scripted(ok(b"one"), ok(b"two")) as srv:
            pool = Pool(srv.url, headers={"Authorization": "Bearer k"})
            a = await pool.request("POST", "/chat/completions", b'{"x": 1}')
            b = await pool.request("GET", "/models")
            await pool.close()
        return srv, a, b

    srv, a, b = run(go())
    assert (a.status, a.body, b.body) == (200, b"one", b"two") and srv.connections == 1
    assert srv.heads[0].startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert "Authorization: Bearer k\r\n" in srv.heads[0] and "Content-Length: 8\r\n" in srv.heads[0]
    assert "Host: 127.0.0.1:" in srv.heads[0]


def test_chunked_gzip_and_read_to_close_bodies():
    packed = gzip.compress(b'{"choices": []}')
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
               + b"%x;ext=1\r\n%s\r\n" % (5, packed[:5]) + b"%x\r\n%s\r\n" % (len(packed) - 5, packed[5:])
               + b"0\r\nX-Trailer: t\r\n\r\n")
    to_close = b"HTTP/1.1 200 OK\r\n\r\nuntil the end"

    async def go():
        async with Scripted(b"HTTP/1.1 100 Continue\r\n\r\n" + chunked, to_close) as srv:
            pool = Pool(srv.url, headers={})
            a = await pool.request("POST", "/x", b"{}")
            b = await pool.request("POST", "/x", b"{}")
            await pool.close()
        return a, b

    a, b = run(go())
    assert a.body == b'{"choices": []}' and a.headers["content-encoding"] == "gzip"
    assert b.body == b"until the end"


def test_connection_close_and_server_idle_close_open_a_fresh_connection():
    async def go():
        async with Scripted(ok(b"1", "Connection: close"), ok(b"2"), ok(b"3", "Connection: close"), ok(b"4")) as srv:
            pool = Pool(srv.url, headers={})
            bodies = [(await pool.request("GET", "/a")).body for _ in range(2)]
            await asyncio.sleep(0.05)
            bodies.append((await pool.request("GET", "/a")).body)  # closed by the server while idle
            await asyncio.sleep(0.05)
            bodies.append((await pool.request("GET", "/a")).body)
            await pool.close()
        return srv, bodies

    srv, bodies = run(go())
    assert bodies == [b"1", b"2", b"3", b"4"] and srv.connections == 3


@pytest.mark.parametrize("answer, error, words", [
    (None, ServerClosed, "before answering"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", ServerClosed, "mid-response"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", ProtocolError, "not an HTTP/1.1 status line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", ProtocolError, "bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\nxx", ProtocolError, "unsupported"),
])
def test_broken_answers_raise_plain_errors(answer, error, words):
    async def go():
        async with Scripted(answer, ok(b"after"), close_each=True) as srv:
            pool = Pool(srv.url, headers={})
            with pytest.raises(error, match=words) as exc:
                await pool.request("POST", "/x", b"{}")
            after = await pool.request("POST", "/x", b"{}")  # a fresh connection serves the next one
            await pool.close()
        return exc.value, after

    exc, after = run(go())
    assert after.body == b"after"
    failure = transport_failure(exc, 60)
    assert failure.kind == "connection" and failure.retryable and words in failure.message


def test_refused_connection_is_said_plainly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go():
        with pytest.raises(OSError) as exc:
            await Pool(f"http://127.0.0.1:{port}/v1", headers={}).request("GET", "/models")
        return exc.value

    assert transport_failure(run(go()), 60).message == "connection refused"


def test_proxy_from_the_environment(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://u:p%40ss@proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,.example.org")
    assert proxy_for("http://vllm:8000/v1") == "http://u:p%40ss@proxy.internal:3128"
    assert proxy_for("http://api.example.org/v1") is None and proxy_for("http://localhost:1/v1") is None

    async def go():
        async with Scripted(ok(b"via proxy"), b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n") as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url.removesuffix("/v1").replace("//", "//u:p%40ss@"))
            monkeypatch.setenv("HTTPS_PROXY", proxy.url.removesuffix("/v1"))
            monkeypatch.setenv("NO_PROXY", "")
            plain = await Pool("http://vllm:8000/v1", headers={}).request("GET", "/models")
            with pytest.raises(ConnectionRefusedError) as exc:
                await Pool("https://api.example.com/v1", headers={}).request("GET", "/models")
        return proxy.heads, plain, exc.value

    heads, plain, refused = run(go())
    assert plain.body == b"via proxy" and heads[0].startswith("GET http://vllm:8000/v1/models HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic dTpwQHNz\r\n" in heads[0]  # base64 of "u:p@ss"
    assert heads[1].startswith("CONNECT api.example.com:443 HTTP/1.1\r\n")
    assert transport_failure(refused, 60).message.endswith("refused the tunnel (HTTP 407)")


def test_status_failure_uses_the_servers_words():
    f = status_failure(429, {"retry-after": "2"}, b'{"error": {"message": "slow  down", "type": "rate"}}')
    assert (f.kind, f.message, f.retryable, f.retry_after) == ("rate_limited", "HTTP 429: slow down", True, 2.0)
    assert status_failure(502, {}, b"<html>Bad gateway</html>").message == "HTTP 502: <html>Bad gateway</html>"
    assert status_failure(400, {}, b'{"error": "no such model"}').message == "HTTP 400: no such model"
    bad = status_failure(401, {}, b"")
    assert (bad.kind, bad.retryable, bad.message) == ("auth", False, "HTTP 401: (empty body)")


def test_the_host_name_is_looked_up_once_per_pool(monkeypatch):
    calls = []
    real = asyncio.base_events.BaseEventLoop.getaddrinfo

    async def counting(self, host, *args, **kw):
        calls.append(host)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 0, 0, 0))] + await real(self, "127.0.0.1", *args, **kw)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", counting)

    async def go():
        async with Scripted(*[ok(b"x")] * 5) as srv:  # listens on 127.0.0.1 only: ::1 is tried, then skipped
            pool = Pool(srv.url.replace("127.0.0.1", "localhost"), headers={})
            out = await asyncio.gather(*(pool.request("GET", "/models") for _ in range(5)))
            await pool.close()
        return srv, out

    srv, out = run(go())
    assert [r.body for r in out] == [b"x"] * 5 and srv.connections == 5 and calls == ["localhost"]
    assert "Host: localhost:" in srv.heads[0]


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (openssl's command line)."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def test_https_with_a_trusted_certificate_and_a_refused_one(certificate):
    cert, key = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))

    async def go():
        srv = Scripted(ok(b"secret"), ok(b"again"))
        srv.tls = server_tls
        async with srv:
            pool = Pool(srv.url, headers={}, tls=trusting)
            bodies = [(await pool.request("GET", "/models")).body for _ in range(2)]
            await pool.close()
            with pytest.raises(ssl.SSLCertVerificationError) as exc:
                await Pool(srv.url, headers={}, tls=ssl_context()).request("GET", "/models")
        return srv, bodies, exc.value

    srv, bodies, refused = run(go())
    assert bodies == [b"secret", b"again"] and srv.connections == 1  # kept alive; the refused one never got in
    assert transport_failure(refused, 60).message.startswith("TLS certificate not accepted: ")
