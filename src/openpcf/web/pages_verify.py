"""The verifiers' pages: public certificate verification and reproducing a package.

``GET /verify`` (public: no sign-in; in the navigation of owners, engineers and verifiers)
shows a form for a certificate (``certificate.jwt``, a compact VC-JWT, uploaded or pasted),
optionally the footprint JSON it binds, a trust list and the public keys that came with the
certificate (a JWKS: integrity only). ``POST /verify`` runs the checks of ``openpcf
certificate verify`` (:func:`openpcf.services.web_verify.verify_certificate_inputs`: the
host's own issuer keys and trust list are the anchors) and shows every check with its
verdict. The page needs no JavaScript.

``GET /packages`` (role verifier) shows an upload form for a verification package;
``POST /packages`` reproduces it in a temporary folder
(:func:`openpcf.services.web_verify.reproduce_upload`) and shows the verdict, the
differences, the signature and certificate notes and the manifest's files. Nothing is stored.

Bounds: the request body is refused (413) from its declared length before it is read
(:data:`MAX_VERIFY_BODY`, :data:`MAX_PACKAGE_BODY`; 411 without a length), each field again
when read (certificate 64 KiB, footprint 1 MiB, trust list and JWKS 256 KiB, package 50 MiB).
``POST /verify`` is limited per client address (:data:`VERIFY_RATE`, the ``limits`` library's
moving window in the server process's memory, like the login limits): over it, 429 with
``Retry-After``. Both POSTs need the CSRF token (the double-submit cookie before signing in).
"""

from __future__ import annotations

import math
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from openpcf.errors import OpenPCFError
from openpcf.services.web_verify import (
    MAX_CERTIFICATE_BYTES,
    MAX_FOOTPRINT_BYTES,
    MAX_KEYS_BYTES,
    MAX_PACKAGE_BYTES,
    FieldError,
    looks_like_zip,
    parse_certificate_inputs,
    reproduce_upload,
    verify_certificate_inputs,
)
from openpcf.web.auth import CsrfChecked, WebUser, require_roles, web_state
from openpcf.web.render import render
from openpcf.web.uploads import bounded, copy_upload, form_reader

router = APIRouter()

Verifier = Annotated[WebUser, Depends(require_roles("verifier"))]

#: Certificate checks allowed per client address (``limits`` notation).
VERIFY_RATE = "30/minute"
#: Largest ``POST /verify`` body: each field at its cap, pasted and uploaded, and the form.
MAX_VERIFY_BODY = 2 * (MAX_CERTIFICATE_BYTES + MAX_FOOTPRINT_BYTES + MAX_KEYS_BYTES) + 64 * 1024
#: Largest ``POST /packages`` body.
MAX_PACKAGE_BODY = MAX_PACKAGE_BYTES + 64 * 1024


def _retry_after(request: Request) -> int:
    """0 when the client's address may check one more certificate, else seconds to wait."""
    state = request.app.state
    limiter = getattr(state, "verify_limiter", None)
    if limiter is None:
        limiter = (MovingWindowRateLimiter(MemoryStorage()), parse(VERIFY_RATE))
        state.verify_limiter = limiter
    strategy, item = limiter
    address = request.client.host if request.client else "unknown"
    if strategy.hit(item, "web-verify", address):
        return 0
    stats = strategy.get_window_stats(item, "web-verify", address)
    return max(1, math.ceil(stats.reset_time - time.time()))


async def _field(form: FormData, name: str, limit: int) -> bytes:
    """An uploaded file's bytes, or the pasted text's, reading at most ``limit + 1`` bytes."""
    value = form.get(f"{name}_file")
    if isinstance(value, UploadFile) and value.filename:
        return await value.read(limit + 1)
    text = form.get(f"{name}_text")
    return text.encode("utf-8")[: limit + 1] if isinstance(text, str) else b""


def _pasted(form: FormData | None) -> dict[str, str]:
    """What the visitor pasted, kept in the form (uploaded files cannot be kept)."""
    kept: dict[str, str] = {}
    for name in ("certificate", "footprint"):
        value = form.get(f"{name}_text") if form is not None else None
        kept[name] = value[: 2 * MAX_FOOTPRINT_BYTES] if isinstance(value, str) else ""
    return kept


def _verify_context(
    *,
    form: FormData | None = None,
    errors: list[FieldError] | None = None,
    report: Any = None,
    rate_limited: int = 0,
) -> dict[str, Any]:
    by_field: dict[str, list[FieldError]] = {}
    for error in errors or []:
        by_field.setdefault(error.field, []).append(error)
    return {
        "pasted": _pasted(form),
        "errors": by_field,
        "report": report,
        "rate_limited": rate_limited,
        "limits": {
            "certificate": MAX_CERTIFICATE_BYTES // 1024,
            "footprint": MAX_FOOTPRINT_BYTES // 1024,
            "trust_list": MAX_KEYS_BYTES // 1024,
            "jwks": MAX_KEYS_BYTES // 1024,
        },
    }


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request) -> HTMLResponse:
    return render(request, "verify_certificate.html.j2", _verify_context())


@router.post(
    "/verify",
    response_class=HTMLResponse,
    dependencies=[
        bounded(MAX_VERIFY_BODY),
        form_reader(MAX_FOOTPRINT_BYTES + 64 * 1024),
        CsrfChecked,
    ],
)
async def verify_post(request: Request) -> HTMLResponse:
    form = await request.form()
    wait = _retry_after(request)
    if wait:
        context = _verify_context(form=form, rate_limited=wait)
        page = await run_in_threadpool(render, request, "verify_certificate.html.j2", context, 429)
        page.headers["retry-after"] = str(wait)
        return page
    inputs, errors = parse_certificate_inputs(
        certificate=await _field(form, "certificate", MAX_CERTIFICATE_BYTES),
        footprint=await _field(form, "footprint", MAX_FOOTPRINT_BYTES),
        trust_list=await _field(form, "trust_list", MAX_KEYS_BYTES),
        jwks=await _field(form, "jwks", MAX_KEYS_BYTES),
    )
    if inputs is None:
        context = _verify_context(form=form, errors=errors)
        return await run_in_threadpool(render, request, "verify_certificate.html.j2", context, 400)
    state = web_state(request)
    report = await run_in_threadpool(
        verify_certificate_inputs, inputs, home=state.home, now=state.clock()
    )
    context = _verify_context(form=form, report=report)
    return await run_in_threadpool(render, request, "verify_certificate.html.j2", context)


@router.get("/packages", response_class=HTMLResponse)
def packages_form(request: Request, user: Verifier) -> HTMLResponse:
    del user
    context: dict[str, Any] = {
        "errors": {},
        "report": None,
        "max_mib": MAX_PACKAGE_BYTES // (1024 * 1024),
    }
    return render(request, "verify_packages.html.j2", context)


async def receive_package(upload: object, target: Path) -> tuple[str, list[FieldError]]:
    """Copy an uploaded verification package to ``target`` (at most
    :data:`MAX_PACKAGE_BYTES`) and check that it is a zip: its short name and the field
    errors (none when it is ready to read)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "", [FieldError("package", "verify.error.required")]
    name = Path(upload.filename).name[:200]
    size = await copy_upload(upload, target, MAX_PACKAGE_BYTES)
    if size > MAX_PACKAGE_BYTES:
        return name, [FieldError("package", "packages.too_large")]
    if not name.lower().endswith(".zip") or not looks_like_zip(target):
        return name, [FieldError("package", "verify.error.not_zip")]
    return name, []


@router.post(
    "/packages",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_PACKAGE_BODY), form_reader(64 * 1024), CsrfChecked],
)
async def packages_post(request: Request, user: Verifier) -> HTMLResponse:
    del user
    form = await request.form()
    report = None
    with tempfile.TemporaryDirectory(prefix="openpcf-web-package-") as tmp:
        target = Path(tmp) / "package.zip"
        name, errors = await receive_package(form.get("package"), target)
        if not errors:
            databases = web_state(request).home / "databases"
            try:
                report = await run_in_threadpool(
                    partial(
                        reproduce_upload,
                        target,
                        name=name,
                        databases=databases if databases.is_dir() else None,
                    )
                )
            except OpenPCFError as e:
                detail = str(e).replace(
                    str(target), name
                )  # the temporary path means nothing to them
                errors.append(FieldError("package", "verify.error.package", detail))
    context = {
        "errors": {e.field: [e] for e in errors},
        "report": report,
        "name": name,
        "max_mib": MAX_PACKAGE_BYTES // (1024 * 1024),
    }
    status = 400 if errors else 200
    return await run_in_threadpool(render, request, "verify_packages.html.j2", context, status)


__all__ = ["MAX_PACKAGE_BODY", "MAX_VERIFY_BODY", "VERIFY_RATE", "router"]
