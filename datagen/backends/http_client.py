"""The teacher's HTTP: one aiohttp session (one connection pool) for a whole run, on the teacher's
own event loop, with the network's and the providers' ways handled here.

    client = HttpClient("https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21",
                        headers={"api-key": "..."})
    resp = await client.request("POST", "/chat/completions", b'{...}')   # -> Response(200, headers, b'{...}')
    # POST https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21
    await client.close()

- Keep-alive connections, gzip and deflate bodies, TLS (the system's CA store, certifi's, or a
  CA bundle file), happy eyeballs (a host whose first address is dead is tried at the next one
  after 0.25 s, not after the connect timeout).
- The base URL's query string is sent with every request (Azure's api-version).
- The proxy the environment names (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY): http:// and
  https:// proxies (CONNECT for https targets); socks4/socks5 proxies through the aiohttp-socks
  package (the socks extra: `pip install 'datagen[socks]'`), else one DatagenError line that says so.
- Capped: a body (after gzip/deflate) larger than `max_body` bytes (MAX_BODY unless the caller
  says) ends the exchange with BodyTooLarge as soon as it passes the cap; aiohttp inflates a
  compressed body a chunk at a time, so a gzip bomb never sits in memory whole. The caller's
  timeout bounds a body that never ends.
- Redirects: 307 and 308 are followed with the same method and body, 301/302/303 for GET; a POST
  answered 301/302/303 and a redirect to another host are failures that name the new address (the
  request is not turned into a GET, and the API key is not sent to another host).
"""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
import ssl
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

import aiohttp
from yarl import URL

from datagen.backends import safe_url
from datagen.errors import DatagenError
from datagen.extras import require
from datagen.redact import scrub_text as safe_text

MAX_REDIRECTS = 5
MAX_BODY = 8 << 20  # bytes of one answer, decompressed: an answer of n choices of thousands of tokens is ~100 KB
SOCKS = ("socks4", "socks4a", "socks5", "socks5h")


class Response(NamedTuple):
    status: int
    headers: object  # case-insensitive mapping
    body: bytes


class RedirectFailure(Exception):
    """A redirect this client does not follow; the message names where it pointed."""


class BodyTooLarge(Exception):
    """The server sent more than the cap allows; the message says how much."""


async def read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, decompressed, or BodyTooLarge as soon as it passes `limit` bytes."""
    if resp.content_length is not None and not resp.headers.get("Content-Encoding"):
        if resp.content_length > limit:
            raise BodyTooLarge(f"the answer is {resp.content_length} bytes, over the {limit >> 20} MB cap")
        return await resp.read()  # the parser stops at Content-Length: one read, no chunk loop
    buf = bytearray()
    async for chunk in resp.content.iter_chunked(1 << 16):
        buf += chunk
        if len(buf) > limit:
            raise BodyTooLarge(f"the answer passed the {limit >> 20} MB cap (decompressed) and was cut off")
    return bytes(buf)


def ssl_context(ca_bundle: str = "") -> ssl.SSLContext:
    """A CA bundle file if given; else the system's CA store where SSL_CERT_FILE / SSL_CERT_DIR
    name one, else certifi's where installed, else the system default."""
    if ca_bundle:
        if not os.path.isfile(ca_bundle):
            raise DatagenError(f"teacher.ca_bundle: no such file {ca_bundle!r}")
        try:
            return ssl.create_default_context(cafile=ca_bundle)
        except (ssl.SSLError, OSError) as exc:
            raise DatagenError(f"teacher.ca_bundle {ca_bundle!r} is not a PEM CA bundle ({exc})") from None
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def proxy_for(url: str) -> str | None:
    """The proxy URL the environment names for `url`, or None (NO_PROXY, or no proxy set); one
    DatagenError line when that value is not a URL (a bad port, a broken [IPv6] host, no host)."""
    parts = urlsplit(url)
    proxies = getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    proxy = proxy if "://" in proxy else f"http://{proxy}"
    try:
        p = urlsplit(proxy)
        ok = bool(p.hostname) and (p.port is None or 0 < p.port)
    except ValueError:
        ok = False
    if not ok:
        raise DatagenError(f"the environment's proxy for {parts.scheme} URLs ({parts.scheme.upper()}_PROXY or "
                           f"ALL_PROXY) is not a usable URL: {safe_text(proxy)!r}; fix or unset it")
    return proxy


class HttpClient:
    def __init__(self, base_url: str, *, headers: dict, ca_bundle: str = "", connect_timeout: float = 10.0) -> None:
        u = urlsplit(base_url)
        self.root = f"{u.scheme}://{u.netloc}"
        self.prefix = u.path.rstrip("/")
        self.query = u.query  # sent with every request (Azure's api-version)
        self.headers = headers
        self.connect_timeout = connect_timeout
        self.proxy = proxy_for(base_url)
        scheme = urlsplit(self.proxy).scheme if self.proxy else ""
        if scheme not in ("", "http", "https") + SOCKS:
            raise DatagenError(f"the proxy {safe_url(self.proxy)} has scheme {scheme}://: datagen speaks to "
                               "http://, https:// and socks5:// proxies")
        if scheme in SOCKS:
            require(f"the SOCKS proxy the environment names ({safe_url(self.proxy)})", "aiohttp_socks")
        needs_tls = u.scheme == "https" or scheme == "https"
        self.tls = ssl_context(ca_bundle) if needs_tls else None
        self._http_proxy = self.proxy if scheme in ("http", "https") else None  # socks: the connector's
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}  # path -> parsed URL: yarl parses a string on every request

    def url(self, path: str) -> str:
        """A path under the base URL (or a full URL), with the base URL's query where it has none."""
        url = path if "://" in path else self.root + self.prefix + path
        return f"{url}?{self.query}" if self.query and "?" not in url else url

    def _open(self) -> aiohttp.ClientSession:
        """The session is made inside the event loop it will run on (aiohttp binds it there)."""
        ssl_arg = self.tls if self.tls is not None else True
        if self.proxy and urlsplit(self.proxy).scheme in SOCKS:
            from aiohttp_socks import ProxyConnector

            connector = ProxyConnector.from_url(self.proxy, limit=0, ssl=ssl_arg)
        else:  # limit=0: the teacher bounds requests in flight itself
            connector = aiohttp.TCPConnector(limit=0, ssl=ssl_arg, happy_eyeballs_delay=0.25, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout)
        return aiohttp.ClientSession(connector=connector, headers=self.headers, timeout=timeout, trust_env=False,
                                     cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True)

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
                      max_body: int = MAX_BODY) -> Response:
        if self._session is None or self._session.closed:
            self._session = self._open()
        url = self._urls.get(path) or self._urls.setdefault(path, URL(self.url(path), encoded=True))
        for _ in range(MAX_REDIRECTS + 1):
            # awaited, not `async with`: the context manager's exit is one more coroutine a request
            resp = await self._session.request(method, url, data=body or None, headers=headers,
                                               proxy=self._http_proxy, allow_redirects=False)
            try:
                data = await read_capped(resp, max_body)
            finally:
                resp.release()
            location = resp.headers.get("Location")
            if resp.status not in (301, 302, 303, 307, 308) or not location:
                return Response(resp.status, resp.headers, data)
            url = self._follow(method, url, resp.status, location)
        raise RedirectFailure(f"more than {MAX_REDIRECTS} redirects from {safe_url(self.url(path))}")

    def _follow(self, method: str, url: URL, status: int, location: str) -> URL:
        url = str(url)
        target = urljoin(url, location)
        where = safe_url(target)
        if status not in (307, 308) and method != "GET":
            raise RedirectFailure(f"HTTP {status} redirect of a {method} to {where}: set --base-url to the new address")
        if urlsplit(target)[:2] != urlsplit(url)[:2]:
            raise RedirectFailure(f"HTTP {status} redirect to another host, {where}: set --base-url to it "
                                  "(the API key is not sent there)")
        return URL(self.url(target))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def heap_for_socket_reads() -> None:
    """asyncio reads a socket into a new 256 KiB buffer and then shrinks it; glibc serves a block that
    large with its own mmap, mremap and munmap, three system calls and a page fault a response (0.2 s
    of system CPU in 10,000 requests). Freeing one 1 MiB block raises glibc's mmap threshold to 1 MiB
    for the process (its dynamic threshold, mallopt(3)), so those buffers come from the heap. Other
    allocators: one allocation, nothing else."""
    bytearray(1 << 20)  # allocated and freed at once


class EventLoop:
    """The teacher's own event loop, kept between complete() calls so that its connections are
    kept too (one pool for the run); closed by close() or when the teacher is collected."""

    def __init__(self) -> None:
        self.runner: asyncio.Runner | None = None

    def run(self, coro):
        if self.runner is None:
            heap_for_socket_reads()
            self.runner = asyncio.Runner()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.runner.run(coro)
        with ThreadPoolExecutor(1) as pool:  # called from inside a running loop (e.g. a notebook)
            return pool.submit(self.runner.run, coro).result()

    def close(self, client: HttpClient) -> None:
        if self.runner is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._close(client)
        with ThreadPoolExecutor(1) as pool:  # closing needs a thread without a running loop
            pool.submit(self._close, client).result()

    def _close(self, client: HttpClient) -> None:
        try:
            self.runner.run(client.close())
        finally:
            self.runner.close()
            self.runner = None
