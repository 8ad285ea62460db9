"""The web application: ``create_web_app(engine=..., home=...)``.

Headers on every answer (OWASP Secure Headers):

=============================  ============================================================
``Content-Security-Policy``    :data:`CSP`: scripts, styles, fonts and requests from this
                               site only; no inline script or style (page scripts are files
                               under ``static/``), no framing, forms post here only
``X-Frame-Options``            ``DENY`` (older browsers; the CSP's ``frame-ancestors``)
``X-Content-Type-Options``     ``nosniff``
``Referrer-Policy``            ``same-origin``
``Cross-Origin-Opener-Policy`` ``same-origin``
``Permissions-Policy``         camera, microphone, geolocation, payment off
``Strict-Transport-Security``  ``max-age=31536000`` when served over TLS (``secure_cookies``)
``Cache-Control``              ``no-store`` on pages (they show an organisation's data);
                               ``public, max-age=3600`` on ``/static/``
=============================  ============================================================

Errors become pages in the user's language (``error.html.j2``): 403 (role, CSRF), 404 (no
such page, or another organisation's), 405; a missing session redirects to the login page
(401 for htmx and JSON requests, with ``HX-Redirect`` so htmx goes there), and so does a
session that has not chosen among its person's organisations, to ``/organisation``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openpcf.db.base import utcnow
from openpcf.db.errors import NotFoundError
from openpcf.web import (
    pages_account,
    pages_analysis,
    pages_databases,
    pages_deliverables,
    pages_factors,
    pages_models,
    pages_pact,
    pages_people,
    pages_products,
    pages_rules,
    pages_supplier,
    pages_verifier,
    pages_verify,
)
from openpcf.web.auth import (
    LoginLimiter,
    LoginLimits,
    LoginRequired,
    OrganisationChoiceRequired,
    PageRefused,
    WebState,
    wants_fragment,
)
from openpcf.web.render import STATIC, catalogues, render

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: The Content-Security-Policy of every answer ('self' only; images may be data: URLs, which
#: ECharts' "save as image" makes).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class WebSecurityHeaders:
    """ASGI middleware adding :data:`HEADERS`, HSTS under TLS, and the cache policy."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if self.hsts:
                    headers["strict-transport-security"] = "max-age=31536000"
                headers["cache-control"] = "public, max-age=3600" if static else "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_web_app(
    *,
    engine: Engine,
    home: Path,
    secure_cookies: bool = True,
    clock: Callable[[], dt.datetime] = utcnow,
    login_limits: LoginLimits | None = None,
) -> FastAPI:
    """The web pages on ``engine``; ``home`` is the OpenPCF home folder (rules, keys ...).

    ``secure_cookies=False`` only for plain HTTP on loopback (``openpcf web`` without TLS,
    tests); ``clock`` (aware UTC) decides session expiry (tests inject one).
    """
    catalogues()  # a malformed catalogue fails here, at start, not on the first page
    app = FastAPI(title="OpenPCF web", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebState(
        engine=engine,
        home=home,
        secure_cookies=secure_cookies,
        clock=clock,
        limiter=LoginLimiter(login_limits),
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        pages_account,
        pages_products,
        pages_rules,
        pages_factors,
        pages_databases,
        pages_models,
        pages_supplier,
        pages_verify,
        pages_verifier,
        pages_deliverables,
        pages_pact,
        pages_people,
        pages_analysis,
    ):
        app.include_router(module.router)
    _install_handlers(app)
    app.add_middleware(WebSecurityHeaders, hsts=secure_cookies)
    return app


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = f"/login?next={quote(target, safe='')}"
        if wants_fragment(request):
            return PlainTextResponse(
                "sign in first", status_code=401, headers={"HX-Redirect": login}
            )
        return RedirectResponse(login, status_code=303)

    @app.exception_handler(OrganisationChoiceRequired)
    async def choose_first(request: Request, exc: OrganisationChoiceRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        choice = f"/organisation?next={quote(target, safe='')}"
        if wants_fragment(request):
            return PlainTextResponse(
                "choose an organisation first", status_code=401, headers={"HX-Redirect": choice}
            )
        return RedirectResponse(choice, status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return await error_page(request, exc.status_code, _reason(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return await error_page(request, 404, "error.not_found")

    @app.exception_handler(RequestValidationError)
    async def unreadable(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return await error_page(request, 400, "error.bad_request", detail=fields)


def _reason(exc: HTTPException) -> str:
    if isinstance(exc, PageRefused):
        return exc.reason
    return {403: "error.forbidden", 404: "error.not_found", 405: "error.method"}.get(
        exc.status_code, "error.bad_request"
    )


async def error_page(request: Request, status: int, reason: str, *, detail: str = "") -> Response:
    """The error page for ``status`` with the message ``reason`` (a catalogue key)."""
    context = {"status": status, "reason": reason, "detail": detail}
    return await run_in_threadpool(render, request, "error.html.j2", context, status)
