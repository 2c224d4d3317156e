"""A fault-injecting fake OpenAI-compatible server on 127.0.0.1, for tests and benchmarks.

A raw asyncio HTTP/1.1 server (keep-alive, Content-Length bodies) in a background thread, so it
costs well under a millisecond of CPU per request. Answers are derived from the prompt, so tests
can assert them:

    with FakeOpenAIServer(fault_rate=0.3, seed=0) as srv:   # srv.url == "http://127.0.0.1:PORT/v1"
        ...POST /v1/chat/completions {"messages": [{"role": "user", "content": "hi"}], "seed": 3}
        -> choices[0].message.content == reply_text("hi", 3, 0) == "Re: hi (s=3, i=0)"
        srv.counts -> Counter({"ok": 141, "429": 12, "drop": 9, ...})

Fault kinds (FAULTS): "429" (with Retry-After), "500", "503" (with Retry-After), "drop" (the socket
is closed without a response), "stall" (no reply for `stall_seconds`), "malformed" (HTTP 200 with a
cut-off JSON body), "truncated" (half the answer, finish_reason "length"). Faults come from a seeded
schedule (`fault_rate`, `fault_kinds`, `seed`) or are forced for the next requests with inject().
`ignore_n=True` answers one choice whatever n asks, as llama.cpp's server does; with `api_key` set,
any other bearer token gets HTTP 401. `chat_only=True` answers 404 on /v1/completions, as a chat-only
API does; GET /props serves `chat_template` (by default a ChatML template, CHATML) as llama.cpp's
server does; chat_template=None answers 404 there, as vLLM's server does.

Also runnable on its own (prints the base URL): python tests/fake_openai_server.py --latency 0.1
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
from collections import Counter, deque

FAULTS = ("429", "500", "503", "drop", "stall", "malformed", "truncated")
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}


# A ChatML chat template (Jinja, as a llama.cpp server reports at GET /props), our own text.
CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def route(path: str) -> str:
    """The path without its query; Azure's /openai/deployments/<name>/... served as /v1/... ."""
    path = path.split("?")[0]
    if path.startswith("/openai/deployments/"):
        return "/v1/" + path.split("/", 4)[4] if path.count("/") >= 4 else path
    return path


def reply_text(content: str, seed: int | None, index: int) -> str:
    """The deterministic answer: reply_text("hi", 3, 1) -> "Re: hi (s=3, i=1)"."""
    return f"Re: {content} (s={seed}, i={index})"


class FakeOpenAIServer:
    def __init__(self, *, latency: float = 0.0, fault_rate: float = 0.0, fault_kinds=FAULTS, seed: int = 0,
                 ignore_n: bool = False, retry_after: str = "0.05", stall_seconds: float = 30.0,
                 model: str = "fake-model", api_key: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, reply=None, chat_only: bool = False, chat_template: str | None = CHATML) -> None:
        unknown = set(fault_kinds) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.latency, self.fault_rate, self.fault_kinds = latency, fault_rate, tuple(fault_kinds)
        self.ignore_n, self.retry_after, self.stall_seconds = ignore_n, retry_after, stall_seconds
        self.model, self.api_key, self.host, self.port = model, api_key, host, port
        # reply(content, seed, index, model) -> text, kept as written (newlines too) unless cut by max_tokens
        self.reply = reply
        self.chat_only, self.chat_template = chat_only, chat_template
        self.rng = random.Random(seed)
        self.counts: Counter = Counter()       # outcome kind ("ok" or a fault) -> requests
        self.paths: Counter = Counter()        # path -> requests
        self.bodies: list[dict] = []           # every JSON body received, in arrival order
        self.times: list[float] = []           # monotonic arrival time of every POST
        self.auth: set[str] = set()            # Authorization header values seen
        self.seen: list[tuple[str, str, dict]] = []  # (method, path with query, headers) of every request
        self._forced: deque[str] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "FakeOpenAIServer":
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-openai", daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, self.host, self.port, backlog=1024), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown():
            self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def inject(self, *kinds: str) -> None:
        """Force these outcomes, in order, for the next POST requests (then the schedule resumes)."""
        for k in kinds:
            if k not in FAULTS + ("ok",):
                raise ValueError(f"unknown fault kind {k!r}")
            self._forced.append(k)

    @property
    def posts(self) -> int:
        return sum(self.counts.values())

    # ---- HTTP ------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                if "://" in path:  # absolute form, as a client sends it to its HTTP proxy
                    path = "/" + path.split("://", 1)[1].partition("/")[2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", 0) or 0))
                if "authorization" in headers:
                    self.auth.add(headers["authorization"])
                self.seen.append((method, path, headers))
                if self.api_key and self.api_key not in (headers.get("authorization", "")[7:], headers.get("api-key")):
                    self._send(writer, 401, {"error": {"message": "invalid API key", "type": "invalid_request_error"}})
                    continue
                if not await self._respond(method, route(path), body, writer):
                    return
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    def _send(self, writer, status: int, payload, extra: dict | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", "Content-Type: application/json",
                f"Content-Length: {len(data)}", "Connection: keep-alive"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)

    async def _respond(self, method: str, path: str, raw: bytes, writer) -> bool:
        """Write one response; False closes the connection."""
        self.paths[path] += 1
        if method == "GET" and path == "/v1/models":
            self._send(writer, 200, {"object": "list", "data": [{"id": self.model, "object": "model"}]})
            return True
        if method == "GET" and path == "/props" and self.chat_template is not None:
            self._send(writer, 200, {"chat_template": self.chat_template})
            return True
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/completions") or (
                self.chat_only and path == "/v1/completions"):
            self._send(writer, 404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}})
            return True
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(writer, 400, {"error": {"message": "invalid JSON body", "type": "invalid_request_error"}})
            return True
        self.bodies.append(body)
        self.times.append(time.monotonic())
        kind = self._forced.popleft() if self._forced else (
            self.rng.choice(self.fault_kinds) if self.fault_kinds and self.rng.random() < self.fault_rate else "ok")
        self.counts[kind] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if kind == "drop":
            writer.transport.abort()
            return False
        if kind == "stall":
            await asyncio.sleep(self.stall_seconds)
            return False
        if kind in ("429", "500", "503"):
            extra = {"Retry-After": self.retry_after} if kind in ("429", "503") else None
            self._send(writer, int(kind), {"error": {"message": f"injected {kind}", "type": "server_error"}}, extra)
            return True
        if kind == "malformed":
            self._send(writer, 200, b'{"id": "cmpl-1", "object": "chat.completion", "choices": [{"index": 0, "mess')
            return True
        self._send(writer, 200, self._completion(path, body, truncate=kind == "truncated"))
        return True

    def _completion(self, path: str, body: dict, truncate: bool) -> dict:
        chat = path.endswith("/chat/completions")
        content = body["messages"][-1]["content"] if chat else body.get("prompt", "")
        seed, max_tokens = body.get("seed"), int(body.get("max_tokens") or 16)
        n = 1 if self.ignore_n else int(body.get("n") or 1)
        choices, used = [], 0
        for i in range(n):
            raw = self.reply(content, seed, i, body.get("model")) if self.reply else reply_text(content, seed, i)
            words = raw.split()
            finish = "stop"
            if truncate or len(words) > max_tokens:  # a "token" is a word here
                words, finish = words[: max(1, min(max_tokens, len(words) // 2 if truncate else max_tokens))], "length"
            text = raw if self.reply and finish == "stop" else " ".join(words)
            used += len(words)
            choice = {"index": i, "finish_reason": finish}
            choice.update({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
            choices.append(choice)
        prompt_tokens = len(str(content).split())
        return {"id": f"cmpl-{len(self.bodies)}", "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()), "model": body.get("model", self.model), "choices": choices,
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": used,
                          "total_tokens": prompt_tokens + used}}


def main() -> None:
    ap = argparse.ArgumentParser(description="fake OpenAI-compatible server (prints its base URL)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ignore-n", action="store_true")
    a = ap.parse_args()
    srv = FakeOpenAIServer(latency=a.latency, fault_rate=a.fault_rate, seed=a.seed, ignore_n=a.ignore_n,
                           port=a.port).start()
    print(srv.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
