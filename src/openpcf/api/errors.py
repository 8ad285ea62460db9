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
UnsupportedRequestError                501     NotImplemented (``/2``: status 400)
ReplayedEventError, InputError,        400     BadRequest
request validation
other HTTP errors (unknown route, 405)  as is  NotFound for 404 on ``/3``, else BadRequest
anything else                          500     InternalError (logged, no details sent)
=====================================  ======  ===================================================
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from openpcf.db.errors import NotFoundError, ReplayedEventError
from openpcf.errors import InputError, OpenPCFError
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
    status, code, message = classify(exc, api_version(request.url.path))
    if status >= 500 and not isinstance(exc, HTTPException):
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    headers = {}
    if isinstance(exc, PactAuthError):
        headers["www-authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register :func:`handle_error` for every error class the table maps."""
    # OpenPCFError is registered apart from Exception: Starlette sends handlers of ``Exception``
    # to its outermost middleware, which re-raises after answering (a traceback per 404).
    for cls in (OpenPCFError, HTTPException, RequestValidationError, Exception):
        app.add_exception_handler(cls, handle_error)
