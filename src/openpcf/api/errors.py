"""The one place where errors become HTTP responses (PACT error bodies on PACT routes).

=====================================  ======  ===================================================
error class                            status  PACT ``code`` (``/2`` where it differs)
=====================================  ======  ===================================================
OAuthError (token endpoint only)       400/401 RFC 6749 body ``{"error", "error_description"}``
TokenExpiredError                      401     TokenExpired
InvalidTokenError (missing, forged,    401     BadRequest (v2 TC16 requires it; v3 allows it)
disabled client)
AccessDeniedError (scope)              403     AccessDenied
NotFoundError (storage)                404     NotFound (``/2``: NoSuchFootprint)
PayloadTooLargeError                   413     BadRequest
QuotaExceededError (rate limit, event  429     BadRequest, with ``Retry-After`` (seconds)
quota)
UnsupportedRequestError                501     NotImplemented (``/2``: status 400)
ReplayedEventError, InputError,        400     BadRequest
request validation, NUL in the path
or query (:class:`ServerErrors`)
other HTTP errors (unknown route, 405)  as is  NotFound for 404 on ``/3``, else BadRequest
anything else                          500     InternalError (one log line, no details sent)
=====================================  ======  ===================================================

Anything no handler maps is answered by :class:`ServerErrors`, an ASGI middleware inside
Starlette's own error middleware. Design note: Starlette hands handlers registered for
``Exception`` to its outermost middleware, which answers and then *re-raises*, so uvicorn logged
the whole traceback (200 KB for a ``RecursionError``) and closed the client's keep-alive
connection after every 500 (issue 11, item 9). :class:`ServerErrors` answers without
re-raising and logs one line of at most a few hundred characters: the exception, its message
(cut) and the last frames; the full traceback goes to the ``DEBUG`` level.
"""

from __future__ import annotations

import logging
import math
import traceback
from pathlib import PurePath
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openpcf.db.errors import NotFoundError, ReplayedEventError
from openpcf.errors import InputError, OpenPCFError, QuotaExceededError
from openpcf.exchange.errors import (
    AccessDeniedError,
    OAuthError,
    PactAuthError,
    PayloadTooLargeError,
    TokenExpiredError,
    UnsupportedRequestError,
)

log = logging.getLogger("openpcf.api")

_INTERNAL = "An internal or unexpected error has occurred"


def api_version(path: str) -> str:
    return "2" if path.startswith("/2/") or path == "/2" else "3"


def classify(exc: Exception, version: str) -> tuple[int, str, str]:
    """``(status, PACT code, message)`` for ``exc`` on a route of API ``version``."""
    v2 = version == "2"
    if isinstance(exc, TokenExpiredError):
        return 401, "TokenExpired", str(exc)
    if isinstance(exc, PactAuthError):
        return 401, "BadRequest", str(exc)
    if isinstance(exc, AccessDeniedError):
        return 403, "AccessDenied", str(exc)
    if isinstance(exc, NotFoundError):
        return (
            404,
            "NoSuchFootprint" if v2 else "NotFound",
            "The specified footprint does not exist.",
        )
    if isinstance(exc, PayloadTooLargeError):
        return 413, "BadRequest", str(exc)
    if isinstance(exc, QuotaExceededError):
        return 429, "BadRequest", str(exc)
    if isinstance(exc, UnsupportedRequestError):
        return (400 if v2 else 501), "NotImplemented", str(exc)
    if isinstance(exc, ReplayedEventError | InputError):
        return 400, "BadRequest", str(exc)
    if isinstance(exc, RequestValidationError):
        return 400, "BadRequest", _validation_message(exc)
    if isinstance(exc, HTTPException):
        code = "NotFound" if exc.status_code == 404 and not v2 else "BadRequest"
        if exc.status_code >= 500:
            code = "InternalError"
        return exc.status_code, code, str(exc.detail)
    return 500, "InternalError", _INTERNAL


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    """The single exception handler of the app (registered for every class it maps)."""
    if isinstance(exc, OAuthError):
        headers = {"www-authenticate": 'Basic realm="openpcf"'} if exc.status == 401 else None
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description},
            status_code=exc.status,
            headers={**(headers or {}), "cache-control": "no-store"},
        )
    internal = classify(exc, api_version(request.url.path))[1] == "InternalError"
    if internal and not isinstance(exc, HTTPException):
        log_internal(request.method, request.url.path, exc)
    return error_response(exc, request.url.path)


def error_response(exc: Exception, path: str) -> JSONResponse:
    """The PACT error response for ``exc`` on ``path`` (the table above; not OAuth errors)."""
    status, code, message = classify(exc, api_version(path))
    headers = {}
    if isinstance(exc, PactAuthError):
        headers["www-authenticate"] = 'Bearer error="invalid_token"'
    if isinstance(exc, QuotaExceededError) and exc.retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(exc.retry_after)))
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


#: How much of an unexpected exception the one log line keeps.
_LOGGED_MESSAGE = 300
_LOGGED_FRAMES = 4


def log_internal(method: str, path: str, exc: BaseException) -> None:
    """One short ``ERROR`` line for an unexpected exception; the traceback at ``DEBUG``.

    An exception message can be huge (SQLAlchemy puts the statement and its parameters, a
    2 MiB event, in it) and a ``RecursionError`` has a thousand frames: the line keeps the
    first :data:`_LOGGED_MESSAGE` characters and the last :data:`_LOGGED_FRAMES` frames.
    """
    text = str(exc)
    if len(text) > _LOGGED_MESSAGE:
        text = f"{text[:_LOGGED_MESSAGE]}... ({len(text):,} characters)"
    frames = traceback.extract_tb(exc.__traceback__)[-_LOGGED_FRAMES:]
    where = " < ".join(f"{PurePath(f.filename).name}:{f.lineno}" for f in reversed(frames))
    log.error(
        "internal error on %s %s: %s: %s [at %s]",
        method,
        path[:200],
        type(exc).__name__,
        text,
        where or "?",
    )
    log.debug("traceback of the internal error", exc_info=exc)


class ServerErrors:
    """ASGI middleware: requests no route may see, and exceptions no handler maps.

    Before the app: a NUL character in the path or the (percent-decoded) query string is
    answered 400 BadRequest, since PostgreSQL text cannot hold one (every filter value went
    to the database as it was, and came back as a 500). After: an exception that escaped
    every handler is answered 500 InternalError with a PACT body, logged by
    :func:`log_internal`, and *not* re-raised, so the server keeps the connection open.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        query = bytes(scope.get("query_string", b"")).replace(b"+", b" ")
        if "\x00" in path or b"\x00" in unquote_to_bytes(query):
            body = {"code": "BadRequest", "message": "the URL holds a NUL character (%00)"}
            await JSONResponse(body, status_code=400)(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            log_internal(str(scope.get("method", "")), path, exc)
            if started:  # the answer is under way: the connection cannot be saved
                return
            await error_response(exc, path)(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register :func:`handle_error` for every error class the table maps, and
    :class:`ServerErrors` for everything else."""
    # OpenPCFError is registered apart from Exception: Starlette sends handlers of ``Exception``
    # to its outermost middleware, which re-raises after answering (a traceback per 404).
    for cls in (OpenPCFError, HTTPException, RequestValidationError, Exception):
        app.add_exception_handler(cls, handle_error)
    app.add_middleware(ServerErrors)
