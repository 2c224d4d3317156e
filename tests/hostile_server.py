"""A hostile OpenAI-compatible server for the teacher-input tests (issue 30): GET /models answers
normally, every POST gets the answer of the current `mode`:

    bomb      a gzip body that inflates to 1 GB of zeros (about 1 MB on the wire)
    endless   a chunked body that never ends, sent as fast as the client reads
    trickle   a chunked body that never ends, 1 KB every 50 ms
    negative  a good answer whose usage counts are -1,000,000
    parts     `content` as a list of image parts (a shape datagen cannot read as text)
    good      a good answer

    with HostileServer("bomb") as srv: ... srv.url, srv.posts; srv.mode = "good"
"""
from __future__ import annotations

import asyncio
import json
import threading
import zlib

MODES = ("bomb", "endless", "trickle", "negative", "parts", "good")


def gzip_bomb(megabytes: int = 1024) -> bytes:
    """A gzip stream of `megabytes` MB of zeros: one full-flushed 1 MB block repeated (each block is
    self-contained after a full flush), so it takes milliseconds to build."""
    zeros = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    return first + block * (megabytes - 2) + c.compress(zeros) + c.flush()


def answer(content, usage: dict) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "model": "m",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                    "finish_reason": "stop"}], "usage": usage}).encode()


class HostileServer:
    def __init__(self, mode: str) -> None:
        assert mode in MODES
        self.mode, self.posts, self.port = mode, 0, 0
        self._bomb = gzip_bomb()
        self._loop = asyncio.new_event_loop()
        self._tasks: set = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "HostileServer":
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        async def shutdown():
            self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _handle(self, reader, writer) -> None:
        self._tasks.add(asyncio.current_task())
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                length = [int(h.split(":")[1]) for h in head.split("\r\n") if h.lower().startswith("content-length")]
                await reader.readexactly(length[0] if length else 0)
                if head.startswith("GET"):
                    self._send(writer, b'{"data": [{"id": "m"}]}')
                else:
                    self.posts += 1
                    await self._post(writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(asyncio.current_task())

    def _send(self, writer, body: bytes, *headers: str) -> None:
        extra = "".join(h + "\r\n" for h in headers)
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     f"{extra}\r\n".encode() + body)

    async def _post(self, writer) -> None:
        if self.mode == "bomb":
            self._send(writer, self._bomb, "Content-Encoding: gzip")
        elif self.mode in ("endless", "trickle"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b" " * (1 << 16 if self.mode == "endless" else 1 << 10)
            while True:
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                await writer.drain()
                if self.mode == "trickle":
                    await asyncio.sleep(0.05)
        elif self.mode == "negative":
            self._send(writer, answer("A fine answer.", {"prompt_tokens": -1_000_000, "completion_tokens": -5}))
        elif self.mode == "parts":
            self._send(writer, answer([{"type": "image_url", "image_url": {"url": "x"}}], {}))
        else:
            self._send(writer, answer("A fine answer.", {"prompt_tokens": 10, "completion_tokens": 4}))
