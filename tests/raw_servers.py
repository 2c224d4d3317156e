"""Scripted raw TCP servers for the HTTP client tests: an HTTP server whose answers are bytes
written in the test, a CONNECT proxy, a self-signed certificate (openssl's command line) and a
listener that never answers (a dead address: its accept queue is full, so connections hang).

    async with Scripted(ok(b"one"), ok(b"two")) as srv:   # srv.url == "http://127.0.0.1:PORT/v1"
        ...; srv.heads -> ["POST /v1/x HTTP/1.1\\r\\nHost: ...", ...]; srv.connections -> 1
"""
from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess


class Scripted:
    """Each request (head + Content-Length body) gets the next scripted answer: bytes, or a
    callable(head) -> bytes, or None (close the connection instead of answering)."""

    def __init__(self, *answers, close_each=False, tls: ssl.SSLContext | None = None, host="127.0.0.1", port=0):
        self.answers, self.heads, self.bodies, self.connections = list(answers), [], [], 0
        self.close_each, self.tls, self.host, self.port = close_each, tls, host, port

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, self.host, self.port, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/v1"
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def handle(self, reader, writer):
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
                self.bodies.append(await reader.readexactly(length[0] if length else 0))
                self.heads.append(head.decode())
                answer = self.answers.pop(0)
                answer = answer(head.decode()) if callable(answer) else answer
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_each or b"connection: close" in answer.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        writer.close()


def ok(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    extra = "".join(h + "\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


class ConnectProxy:
    """An HTTP CONNECT proxy: tunnels to the asked host:port and records each CONNECT line."""

    def __init__(self) -> None:
        self.connects: list[str] = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def handle(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        self.connects.append(head.split("\r\n")[0])
        host, _, port = head.split(" ")[1].rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def self_signed(tmp_path, name: str = "127.0.0.1") -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 that is its own CA: (cert.pem, key.pem)."""
    if not shutil.which("openssl"):
        import pytest

        pytest.skip("no openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=IP:{name}", "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def server_tls(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def dead_listener(host: str = "127.0.0.2", port: int = 0) -> tuple[socket.socket, list[socket.socket]]:
    """A listener on host:port whose accept queue is full: a further connection hangs (its SYNs are
    dropped), as a host whose route is broken does. Keep the returned sockets open while needed."""
    s = socket.socket()
    s.bind((host, port))
    s.listen(0)
    fill = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(s.getsockname())
        except BlockingIOError:
            pass
        fill.append(c)
    return s, fill
