"""`liveguard web`: the operators' read-only page over the centre's store, and the JSON API behind it.

Every page and API path needs a login (pages redirect to /login, the API and images answer 401). Query
parameters are validated by :class:`edge.centre.web.filters.ResultFilter`; what boxes send (OCR text,
speech) is untrusted and reaches the page only through autoescaped templates and ``textContent``.

API (JSON; the same filters as the page's list):
- ``GET /api/results?site=&device=&stream=&engine=&q=&since=&until=&low=&flagged=&after=&limit=``: newest first
- ``GET /api/results/<evidence_id>``: a result with its evidence, as the result page shows it
- ``GET /api/keyframes/<evidence_id>/<n>``: ``{"available": true}`` or ``{"available": false, "reason", "detail"}``
  (asks the box when the keyframe is not cached yet); the JPEG itself at ``/keyframes/<evidence_id>/<n>.jpg``
- ``GET /api/devices``: each box's status (online/offline), its streams' states and outbox depth from its last stats
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from edge.centre.store import Store
from edge.centre.web.auth import Sessions
from edge.centre.web.filters import BadParameter, ResultFilter
from edge.centre.web.keyframes import KeyframeFetcher, Unavailable
from edge.centre.web.views import detail, summary, when
from edge.config.models import WebConfig

log = logging.getLogger("liveguard.web")

COOKIE = "liveguard_session"
_EVIDENCE_ID = re.compile(r"^[0-9a-f]{32}$")
_OPEN = ("/login", "/static/app.css")  # the login page's style holds no data
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(store: Store, config: WebConfig, sessions: Sessions, fetcher: KeyframeFetcher | None) -> Starlette:
    """The page and its API over ``store``; ``fetcher`` asks boxes for keyframes (None: keyframes unavailable)."""
    folder = resources.files("edge.centre.web")
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder.joinpath("templates"))), autoescape=True)
    environment.filters["when"] = when
    templates = Jinja2Templates(env=environment)

    def page(request: Request, name: str, **context: Any) -> Response:
        return templates.TemplateResponse(request, name, {"user": request.state.user, **context})

    def results_page(request: Request) -> Response:
        filters = ResultFilter.of(request.query_params)
        rows = [summary(row) for row in store.results(filters.query(config.page_size))]
        return page(request, "results.html", rows=rows, form=filters.form_values(), newest=rows[0]["received"] if rows else 0)

    def result_page(request: Request) -> Response:
        view = detail(_row(store, request.path_params["evidence_id"]))
        return page(request, "result.html", r=view)

    def devices_page(request: Request) -> Response:
        return page(request, "devices.html", devices=_devices(store))

    def api_results(request: Request) -> Response:
        filters = ResultFilter.of(request.query_params)
        return JSONResponse({"results": [summary(row) for row in store.results(filters.query(config.page_size))]})

    def api_result(request: Request) -> Response:
        return JSONResponse(detail(_row(store, request.path_params["evidence_id"])))

    def api_devices(request: Request) -> Response:
        return JSONResponse({"devices": _devices(store)})

    def keyframe(request: Request) -> tuple[dict[str, Any], bytes | None]:
        row = _row(store, request.path_params["evidence_id"])
        index = request.path_params["index"]
        frames = (row["evidence"] or {}).get("keyframes") or []
        if row["evidence"] is None or not 0 <= index < len(frames):
            raise _NotFound(f"no keyframe {index} in the evidence of {row['result']['evidence_id']}")
        sha256 = frames[index]["jpeg_sha256"]
        try:
            if fetcher is None:
                raise Unavailable("error", "this page was started without a broker (centre.mqtt)")
            cached = fetcher.cache.get(sha256)
            if cached is None and _offline(store, row["site"], row["device"]):
                raise Unavailable("offline", f"{row['site']}/{row['device']} is offline")
            return {"available": True, "sha256": sha256}, cached or fetcher.fetch(row["site"], row["device"], sha256)
        except Unavailable as why:
            return {"available": False, "reason": why.reason, "detail": why.detail, "sha256": sha256}, None

    def api_keyframe(request: Request) -> Response:
        state, _ = keyframe(request)
        return JSONResponse(state)

    def keyframe_jpeg(request: Request) -> Response:
        state, data = keyframe(request)
        if data is None:
            return PlainTextResponse(f"{state['reason']}: {state['detail']}", status_code=404 if state["reason"] == "rotated" else 503)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    def login_page(request: Request) -> Response:
        return templates.TemplateResponse(request, "login.html", {"user": None, "error": None, "next": _next(request)})

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("user", ""))[:64], str(form.get("password", ""))[:256]
        address = request.client.host if request.client else "?"
        token = sessions.login(name, password, address)
        if token is None:
            error = "Too many failed logins: wait a minute." if sessions.paused(name, address) else "Wrong user name or password."
            log.warning("web: failed login for %r from %s", name, address)
            return templates.TemplateResponse(request, "login.html", {"user": None, "error": error, "next": _next(request)},
                                              status_code=401)
        response = RedirectResponse(_next(request, form.get("next")), status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
        log.info("web: %s logged in from %s", name, address)
        return response

    async def logout(request: Request) -> Response:
        sessions.logout(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def home(request: Request) -> Response:
        return RedirectResponse("/results", status_code=303)

    routes = [
        Route("/", home), Route("/login", login_page, methods=["GET"]), Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/results", results_page), Route("/results/{evidence_id}", result_page), Route("/devices", devices_page),
        Route("/keyframes/{evidence_id}/{index:int}.jpg", keyframe_jpeg),
        Route("/api/results", api_results), Route("/api/results/{evidence_id}", api_result), Route("/api/devices", api_devices),
        Route("/api/keyframes/{evidence_id}/{index:int}", api_keyframe),
        Mount("/static", StaticFiles(directory=str(folder.joinpath("static"))), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(_Guard, sessions=sessions)],
                    exception_handlers={BadParameter: _bad_parameter, _NotFound: _not_found, 404: _not_found, 405: _not_found})
    return app


class _NotFound(Exception):
    """No such result or keyframe in the store: a 404 naming it."""


class _Guard(BaseHTTPMiddleware):
    """No answer without a login: pages redirect to /login, the API and images answer 401; security headers on all."""

    def __init__(self, app: Any, sessions: Sessions) -> None:
        super().__init__(app)
        self.sessions = sessions

    async def dispatch(self, request: Request, call_next: Callable) -> Response:
        user = self.sessions.user(request.cookies.get(COOKIE))
        request.state.user = user
        if user is None and request.url.path not in _OPEN:
            if request.url.path.startswith(("/api/", "/keyframes/", "/static/")) or request.method != "GET":
                response: Response = JSONResponse({"error": "login required"}, status_code=401)
            else:
                response = RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        else:
            response = await call_next(request)
        response.headers.update({k: v for k, v in _HEADERS.items() if k not in response.headers})
        return response


def _row(store: Store, evidence_id: str) -> dict[str, Any]:
    if not _EVIDENCE_ID.match(evidence_id):
        raise BadParameter("evidence id: 32 lowercase hex digits")
    row = store.result(evidence_id)
    if row is None:
        raise _NotFound(f"no result {evidence_id} in the store")
    return row


def _offline(store: Store, site: str, device: str) -> bool:
    return any(d["site"] == site and d["device"] == device and d["state"] != "online" for d in store.devices())


def _devices(store: Store) -> list[dict[str, Any]]:
    stats = store.latest_stats()
    out = []
    for device in store.devices():
        last = stats.get((device["site"], device["device"]))
        doc = (last or {}).get("stats") or {}
        streams = [{"id": sid, "state": s.get("state"), "reason": s.get("reason", ""), "fps": s.get("fps"),
                    "windows_done": (s.get("windows") or {}).get("done"), "windows_failed": (s.get("windows") or {}).get("failed")}
                   for sid, s in sorted((doc.get("streams") or {}).items())]
        out.append({"site": device["site"], "device": device["device"], "state": device["state"], "since": when(device["received"]),
                    "stats_at": when(last["received"]) if last else "", "streams": streams,
                    "outbox_depth": (doc.get("outbox") or {}).get("depth"), "uptime_s": doc.get("uptime_s"), "version": doc.get("version")})
    return out


def _next(request: Request, given: Any = None) -> str:
    """Where to go after login: a local path only (never another site)."""
    target = str(given if given is not None else request.query_params.get("next", "/results"))
    return target if re.fullmatch(r"/[A-Za-z0-9/_-]*", target) and not target.startswith("//") else "/results"


async def _bad_parameter(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    detail = str(exc) if isinstance(exc, _NotFound) else "no such page"
    status = getattr(exc, "status_code", 404)
    return _error(request, status, detail)


def _error(request: Request, status: int, detail: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail}, status_code=status)
    return PlainTextResponse(detail, status_code=status)
