"""Teacher over any OpenAI-compatible HTTP server (OpenAI, vLLM's server, llama.cpp's server, ...).
The only place in datagen that knows HTTP: async inside, sync `complete()` outside.

    OpenAICompatTeacher(TeacherConfig(backend="openai", model="m", base_url="http://127.0.0.1:8080/v1"))
        .complete([req]) -> [Completion(choices=(Choice("Hello!", "stop"),), usage={...})]

- aiohttp (datagen/backends/http_client.py): one session, so one connection pool, for the whole run
  on the teacher's own event loop; redirects, proxies, TLS and Azure's URLs are handled there, the
  provider's headers in datagen/backends/providers.py. Not the openai SDK: it costs ~0.8-1 ms of
  CPU per request, which caps one event loop near 1,000 requests per second.
- Bounded: at most `concurrency` requests in flight, fewer while the server answers 429
  (datagen/backends/adaptive.py), each attempt cut off after `timeout` seconds (up to a twentieth,
  at most 1 s, later: the requests in flight share timers, datagen/backends/deadlines.py).
- Retried (tenacity, exponential backoff with full jitter, `Retry-After` honoured): 408, 429, 500,
  502, 503, 504, timeouts, dropped connections and malformed bodies, up to `max_retries` times.
- Never raises for one bad request: it comes back as Completion(error="<kind>: <message>").
  An unreachable server (or a rejected key) is checked once with GET /models before the first
  request and ends the run with one DatagenError line instead of N failed requests.
- n > 1 is asked for; servers that return fewer choices (llama.cpp ignores n) get the rest as
  single requests with seeds seed+1, seed+2, ...
- The API key and the extra headers' values are scrubbed from every message; the key is read
  from the environment only.
"""
from __future__ import annotations

import asyncio
import json
import random
import weakref
from typing import Sequence

import aiohttp

from datagen.backends import safe_url  # noqa: F401 - re-exported
from datagen.backends.adaptive import AdaptiveLimit
from datagen.backends.deadlines import Deadlines
from datagen.backends.http_client import BodyTooLarge, EventLoop, HttpClient, RedirectFailure
from datagen.backends.openai_errors import Failure, parse_body, status_failure, transport_failure
from datagen.backends.openai_options import options_of
from datagen.backends.providers import endpoint_of, header_safe, is_local  # noqa: F401 - re-exported
from datagen.backends.ratelimit import RateLimits
from datagen.errors import DatagenError
from datagen.redact import scrub_text
from datagen.teacher import Choice, Completion, OnResult, Request, TeacherStats
from datagen.teacher_input import sane_usage

RETRY_AFTER_CAP = 120.0  # seconds; a longer Retry-After is clipped (the openai client uses the same cap)
TRANSPORT_ERRORS = (OSError, TimeoutError, aiohttp.ClientError)  # what HttpClient.request raises
REFUSED = {"auth", "not_found", "redirect", "too_large"}  # a run where every request failed so: one line, not N errors


class OpenAICompatTeacher:
    # Raw prompts go to POST /completions (llama.cpp's server and vLLM's serve it); a chat-only API
    # answers 404 there, and _batch turns that into one line naming the endpoint.
    supports_raw = True

    def __init__(self, cfg) -> None:
        if not cfg.model:
            raise DatagenError("the openai teacher needs --model (the name the server serves; "
                               "GET <base-url>/models lists them)")
        if cfg.endpoint not in ("chat", "completions"):
            raise DatagenError(f"teacher.endpoint must be chat or completions, got {cfg.endpoint!r}")
        self.cfg = cfg
        self.endpoint = cfg.endpoint
        self.opts = options_of(cfg.options)
        self.model = cfg.model
        self.name = f"openai:{cfg.model}"
        where = endpoint_of(cfg)
        self.base_url, self.provider, self._headers = where.base_url, where.provider, where.headers
        self._secrets = where.secrets
        self.stats = TeacherStats()
        self._limits = RateLimits(cfg.requests_per_second, cfg.requests_per_minute, cfg.tokens_per_second,
                                  cfg.tokens_per_minute)
        self._slots = AdaptiveLimit(cfg.concurrency, adaptive=self.opts["adaptive"],
                                    recover_after=self.opts["recover_after"])
        self.stats.concurrency_trace = self._slots.trace  # the same list: it grows as the limit moves
        self._http = HttpClient(self.base_url, headers=self._headers, ca_bundle=cfg.ca_bundle,
                                connect_timeout=min(10.0, cfg.timeout))
        self._deadlines = Deadlines(cfg.timeout)
        self._checked = not self.opts["preflight"]
        self._jitter = random.Random()  # backoff jitter only: it never touches the data
        self._loop = EventLoop()
        weakref.finalize(self, self._loop.close, self._http)
        self._batch_mode = None
        if getattr(cfg, "batch", False):
            from datagen.backends.batch_mode import BatchMode

            self._batch_mode = BatchMode(self)

    def attach_cache(self, cache) -> None:
        """The run's response cache, where batch mode keeps its job ids (called by CachedTeacher)."""
        if self._batch_mode is not None:
            self._batch_mode.store = cache

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatTeacher(model={self.model!r}, base_url={safe_url(self.base_url)!r})"

    def chat_template(self) -> str | None:
        """The served model's chat template where the server tells it: llama.cpp's GET /props
        ("chat_template"). vLLM and hosted APIs do not: None (give Magpie the template instead)."""
        async def props():  # through the one client: its body cap, its proxy, its TLS; bounded in time
            async with asyncio.timeout(min(10.0, self.cfg.timeout)):
                return await self._http.request("GET", f"{self._http.root}{self._http.prefix.removesuffix('/v1')}/props")

        try:
            resp = self._loop.run(props())
            data = json.loads(resp.body) if resp.status == 200 else None
        except (*TRANSPORT_ERRORS, RedirectFailure, BodyTooLarge, ValueError, RecursionError):
            return None
        template = data.get("chat_template") if isinstance(data, dict) else None
        return template if isinstance(template, str) and template.strip() else None

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return scrub_text(text)  # and any URL's user:password@

    def close(self) -> None:
        """Close the connections; a later complete() opens new ones."""
        self._loop.close(self._http)

    # ---- sync surface ----------------------------------------------------------------------
    def complete(self, requests: Sequence[Request], on_result: OnResult | None = None) -> list[Completion]:
        if not requests:
            return []
        if self._batch_mode is not None:
            return self._loop.run(self._batch_mode.complete(list(requests), on_result))
        return self._loop.run(self._batch(list(requests), on_result))

    # ---- async core ------------------------------------------------------------------------
    async def _batch(self, requests: list[Request], on_result: OnResult | None) -> list[Completion]:
        """One batch on the teacher's loop; connections and rate-limit buckets outlive it."""
        for _ in range(2):  # let the loop see connections the server closed while it was stopped
            await asyncio.sleep(0)
        out: list[Completion | None] = [None] * len(requests)
        todo = iter(range(len(requests)))

        async def worker() -> None:  # `concurrency` workers rather than one task per request: 10,000
            for i in todo:           # tasks started at once delay the first replies by a burst of CPU
                out[i] = await self._one(requests[i])
                if on_result:
                    on_result(i, out[i])

        if not self._checked:
            await self._preflight()
        await asyncio.gather(*(worker() for _ in range(min(self._slots.ceiling, len(requests)))))
        kinds = {(c.error or "").split(":")[0] for c in out}
        if kinds == {"not_found"} and all(r.prompt is not None for r in requests):
            raise DatagenError(f"{safe_url(self.base_url)}/completions answered HTTP 404 to every raw prompt: this "
                               "server is chat-only (raw completions: the embedded teacher, a llama.cpp server "
                               "or vLLM)")
        if not self.stats.succeeded and kinds <= REFUSED:  # a wrong --model or path: all will fail
            if kinds == {"too_large"}:
                raise DatagenError(f"{safe_url(self.base_url)} sent an answer too large to every request: "
                                   f"{out[0].error} (is it an OpenAI-compatible server?)")
            raise DatagenError(f"{safe_url(self.base_url)} refused every request: {out[0].error} "
                               "(check --model and --base-url)")
        return out  # type: ignore[return-value]

    async def _preflight(self) -> None:
        """GET /models once: an unreachable server or a refused key ends the run with one line."""
        url, timeout = safe_url(self.base_url), min(10.0, self.cfg.timeout)
        for attempt in range(3):  # a server that is still starting gets a moment
            try:
                async with asyncio.timeout(timeout):
                    resp = await self._http.request("GET", "/models")
            except (RedirectFailure, BodyTooLarge):
                break  # the requests themselves will say where it points, or what they got
            except TRANSPORT_ERRORS as exc:
                if attempt == 2:
                    why = transport_failure(exc, timeout).message
                    via = f" through the proxy {safe_url(self._http.proxy)} that the environment names" \
                        if self._http.proxy else ""
                    raise DatagenError(f"cannot reach {url}{via}: {self.scrub(why)} "
                                       "(is the server running? check --base-url)") from None
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            if resp.status in (401, 403):
                raise DatagenError(f"{url} refused the API key from ${self.cfg.api_key_env} "
                                   f"(HTTP {resp.status})") from None
            break  # reachable; some servers have no /models
        self._checked = True

    async def _one(self, req: Request) -> Completion:
        """One Request -> one Completion, fanning out if the server returned fewer than n choices."""
        self.stats.requests += 1
        s = req.sampling
        try:
            choices, usage = await self._call(req, s.n, s.seed)
            missing = range(len(choices), s.n)
            if missing:
                extra = await asyncio.gather(*(self._call(req, 1, None if s.seed is None else s.seed + k)
                                               for k in missing))
                for ch, u in extra:
                    choices += ch[:1]
                    usage = {k: usage.get(k, 0) + u.get(k, 0) for k in ("prompt_tokens", "completion_tokens")}
            choices = choices[: s.n]
        except Failure as f:
            self.stats.failed += 1
            self.stats.count_error(f.kind)
            return Completion(key=req.key, error=self.scrub(f"{f.kind}: {f.message}")[:500])
        self.stats.succeeded += 1
        self.stats.add_usage(usage)
        return Completion(choices=tuple(choices), usage=usage, key=req.key)

    async def _call(self, req: Request, n: int, seed: int | None) -> tuple[list[Choice], dict]:
        """One HTTP exchange with retries; raises Failure once they are spent. The first attempt
        runs bare: most succeed, and tenacity's loop costs ~10% of a request's CPU."""
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        try:
            return await self._attempt(req, n, seed)
        except Failure as failure:
            if not failure.retryable or int(self.cfg.max_retries) < 1:
                raise
            self.stats.retries += 1
            await asyncio.sleep(self._delay(failure, 1))

        def count(state) -> None:
            self.stats.retries += 1

        retrying = AsyncRetrying(stop=stop_after_attempt(int(self.cfg.max_retries)), reraise=True,
                                 wait=lambda st: self._delay(st.outcome.exception(), st.attempt_number + 1),
                                 retry=retry_if_exception(lambda e: isinstance(e, Failure) and e.retryable),
                                 before_sleep=count)
        async for attempt in retrying:
            with attempt:
                return await self._attempt(req, n, seed)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, failure: Failure, failed: int) -> float:
        """Seconds before the next attempt after `failed` failed ones: the server's Retry-After if
        it sent one, else "full jitter" backoff, uniform(0, min(max, initial * 2^failed)) (Brooker,
        "Exponential Backoff And Jitter", AWS Architecture Blog, 2015)."""
        if failure.retry_after is not None:
            return min(failure.retry_after, RETRY_AFTER_CAP)
        return self._jitter.uniform(0, min(self.opts["retry_max"], self.opts["retry_initial"] * 2 ** failed))

    def body_of(self, req: Request, n: int, seed: int | None) -> tuple[bool, str, dict]:
        """(chat?, path under the base URL, JSON body) of one request; the batch API's lines too."""
        s = req.sampling
        chat = req.prompt is None and self.cfg.endpoint == "chat"
        params = dict(model=self.model, max_tokens=s.max_tokens, temperature=s.temperature, top_p=s.top_p)
        if n > 1:
            params["n"] = n
        if seed is not None:
            params["seed"] = seed
        if s.stop:
            params["stop"] = list(s.stop)
        if chat:
            params["messages"] = list(req.messages)
        else:
            params["prompt"] = req.prompt if req.prompt is not None else "\n\n".join(m["content"] for m in req.messages)
        return chat, "/chat/completions" if chat else "/completions", params

    async def _attempt(self, req: Request, n: int, seed: int | None) -> tuple[list[Choice], dict]:
        chat, path, params = self.body_of(req, n, seed)
        body = json.dumps(params).encode()
        epoch = self._slots.take()  # a free slot without a coroutine, else wait for one
        epoch, outcome = (await self._slots.acquire() if epoch is None else epoch), "failed"
        try:
            if self._limits:
                prompt = params.get("prompt") or "\n\n".join(m["content"] for m in req.messages)
                await self._limits.acquire(len(prompt) / 4 + req.sampling.max_tokens * n)  # ~4 characters per token
            try:
                with self._deadlines.deadline():  # a timer per slot, not per request (deadlines.py)
                    resp = await self._http.request("POST", path, body)
            except RedirectFailure as exc:
                raise Failure("redirect", str(exc), False) from None
            except BodyTooLarge as exc:  # the same server would send it again: not retried
                raise Failure("too_large", str(exc), False) from None
            except TRANSPORT_ERRORS as exc:
                raise transport_failure(exc, self.cfg.timeout) from None
            outcome = "ok" if 200 <= resp.status < 300 else "rate_limited" if resp.status == 429 else "failed"
        finally:
            self._slots.release(epoch, outcome)
        if not 200 <= resp.status < 300:
            raise status_failure(resp.status, resp.headers, resp.body)
        choices, usage = parse_body(resp.body, chat)
        return choices, sane_usage(usage, req, choices)  # a negative or absurd count becomes an estimate
