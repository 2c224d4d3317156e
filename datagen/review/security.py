"""What keeps the review app safe on a shared machine: a random token on every request (in the page's
URL for the page and its files, in an X-Review-Token header for the API), a Host check (a DNS-rebinding
page cannot talk to it under another name), an Origin check and a JSON body on every state-changing
request (a cross-site form or fetch is refused; the custom header itself forces a CORS preflight, which
is never answered), and a strict Content-Security-Policy with no inline script or style on any answer.

    guard = make_guard(token, allowed_hosts("127.0.0.1", 8765))
    web.Application(middlewares=[guard])
"""
from __future__ import annotations

import hmac
import secrets

from aiohttp import web

TOKEN_HEADER = "X-Review-Token"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store", "Cross-Origin-Opener-Policy": "same-origin",
           "Cross-Origin-Resource-Policy": "same-origin"}
SAFE_METHODS = ("GET", "HEAD")


def new_token() -> str:
    return secrets.token_hex(24)


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host headers the app answers: the address it is bound to, and localhost for a loopback bind."""
    name = f"[{host}]" if ":" in host else host
    hosts = {f"{name}:{port}"}
    if host in ("127.0.0.1", "::1", "localhost"):
        hosts |= {f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}
    return hosts


def refuse(status: int, why: str) -> web.Response:
    return web.json_response({"error": why}, status=status, headers=HEADERS)


def make_guard(token: str, hosts: set[str]):
    origins = {f"http://{h}" for h in hosts}

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.host not in hosts:
            return refuse(403, "unknown Host")
        given = request.headers.get(TOKEN_HEADER, "") if request.path.startswith("/api/") \
            else request.query.get("token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return refuse(403, "a valid token is required (the URL `datagen review` printed)")
        if request.method not in SAFE_METHODS:
            if request.headers.get("Origin") not in origins:
                return refuse(403, "cross-site request refused (Origin)")
            if request.content_type != "application/json":
                return refuse(415, "requests that change state send JSON")
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            return refuse(exc.status, exc.reason)
        resp.headers.update(HEADERS)
        return resp

    return guard
