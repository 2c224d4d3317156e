"""Bind and run the review app: 127.0.0.1 and a free port unless told otherwise, the URL with its token
printed (and opened in a browser with --open) once the socket listens, so nothing the browser sends
before the loop starts is refused.

    serve(review, host="127.0.0.1", port=0) -> blocks; prints "review: http://127.0.0.1:41234/?token=..."
"""
from __future__ import annotations

import socket

from aiohttp import web

from datagen.errors import DatagenError
from datagen.review.app import make_app
from datagen.review.security import allowed_hosts, new_token

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DatagenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def serve(review, host: str = "127.0.0.1", port: int = 0, open_browser: bool = False, out=print) -> None:
    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = new_token()
    name = f"[{host}]" if ":" in host else host
    url = f"http://{name}:{port}/?token={token}"
    app = make_app(review, token, allowed_hosts(host, port))
    if host not in LOOPBACK:
        out(f"review: warning: listening on {host}, reachable from other machines; the token is the only lock")
    out(f"review: {review.target.ref} ({review.mode} mode, annotator {review.annotator}), journal "
        f"{review.journal.path}")
    out(f"review: {url}")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    web.run_app(app, sock=sock, print=None, handle_signals=True, access_log=None)
