"""The review app's routes (aiohttp.web): the page and its files, and a small JSON API over one Review.
Every answer goes through the guard of datagen.review.security.

    GET  /?token=T                       the page          GET /static/<file>?token=T   its script and style
    GET  /api/info                       target, modes     GET /api/summary/<mode>      agreement (win rates)
    GET  /api/records?method=&q=...      filtered list     GET/POST /api/records/<i>    one record / an action
    GET  /api/pairs/<mode>               queue state       GET/POST /api/pairs/<mode>/<n> one item / a label
    POST /api/reveal/<mode>              blind: names      POST /api/commit/<mode>      a new version
"""
from __future__ import annotations

import re
from importlib.resources import files

from aiohttp import web

from datagen.errors import DatagenError
from datagen.review.security import make_guard
from datagen.review.state import BadRequest, Review

STATIC = {"app.js": "text/javascript", "common.js": "text/javascript", "records.js": "text/javascript",
          "pairs.js": "text/javascript", "app.css": "text/css", "favicon.svg": "image/svg+xml"}
MAX_BODY = 8 * 1024 * 1024  # an edited output can be long


def static_text(name: str) -> str:
    return files("datagen.review").joinpath("static", name).read_text(encoding="utf-8")


def make_app(review: Review, token: str, hosts: set[str]) -> web.Application:
    if not re.fullmatch(r"[0-9a-f]{16,}", token):
        raise ValueError("the token must be hex")  # it is put into the page's URLs as it is
    page = static_text("index.html").replace("__TOKEN__", token)
    app = web.Application(middlewares=[make_guard(token, hosts)], client_max_size=MAX_BODY)

    def answer(fn):
        async def handler(request: web.Request) -> web.Response:
            try:
                body = await request.json() if request.method == "POST" else None
                if body is not None and not isinstance(body, dict):
                    raise BadRequest("the body must be a JSON object")
                return web.json_response(fn(request, body or {}))
            except (BadRequest, ValueError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
            except DatagenError as exc:
                return web.json_response({"error": str(exc)}, status=409)
        return handler

    async def index(_request):
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def static(request):
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(text=static_text(name), content_type=STATIC[name], charset="utf-8")

    def num(request, key="n") -> int:
        try:
            return int(request.match_info[key])
        except ValueError:
            raise BadRequest(f"{key} must be a number") from None

    def commit(request, _body):
        v = review.commit(request.match_info["mode"])
        return {"ref": v.ref, "path": str(v.path), "unchanged": v.unchanged,
                "counts": v.manifest().get("counts", {})}

    r = app.router
    r.add_get("/", index)
    r.add_get("/static/{name}", static)
    r.add_get("/api/info", answer(lambda q, b: review.info()))
    r.add_get("/api/summary/{mode}", answer(lambda q, b: review.summary(q.match_info["mode"])))
    r.add_get("/api/records", answer(lambda q, b: review.record_list(dict(q.query))))
    r.add_get("/api/records/{n}", answer(lambda q, b: review.record_item(num(q))))
    r.add_post("/api/records/{n}", answer(lambda q, b: review.record_action(num(q), b)))
    r.add_get("/api/pairs/{mode}", answer(lambda q, b: {**review.pair_state(q.match_info["mode"]),
                                                         "guidelines": review.guidelines}))
    r.add_get("/api/pairs/{mode}/{n}", answer(lambda q, b: review.pair(q.match_info["mode"], num(q))))
    r.add_post("/api/pairs/{mode}/{n}", answer(lambda q, b: review.label(q.match_info["mode"], num(q), b)))
    r.add_post("/api/reveal/{mode}", answer(lambda q, b: review.reveal(q.match_info["mode"])))
    r.add_post("/api/commit/{mode}", answer(commit))
    return app
