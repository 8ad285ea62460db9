"""The verifiers' read-only product and audit pages, and the owners' grants page.

Verifiers (role ``verifier``, signed in to their verification body) see what owners of other
organisations granted them (:mod:`openpcf.services.web_verifier`):

* ``GET /verifier``: the granted products and their footprints;
* ``GET /verifier/products/{footprint_id}``: the product page, read-only (the engineers'
  template with ``read_only``), and ``…/pact.json``, the stored PACT document;
* ``GET /verifier/products/{footprint_id}/audit``: the audit trail of the calculations behind
  the product's footprints, with the hash chain's verdict;
* ``GET /verifier/package`` and ``POST /verifier/package``: an uploaded verification package's
  files, sizes and SHA-256 digests and the manifest check, before reproducing it at
  ``/packages``. Nothing is stored; the upload is bounded as ``/packages`` bounds it.

Owners grant and revoke on ``GET/POST /verifier-grants`` and
``POST /verifier-grants/{grant_id}/revoke``.

Roles: the ``/verifier`` pages answer 403 to any other role, ``/verifier-grants`` to any role
but owner. A footprint whose product is not granted (another organisation's, a revoked grant,
an unknown or malformed id) answers the same 404 page. Every POST needs the CSRF token.
"""

from __future__ import annotations

import tempfile
import uuid
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from openpcf.db.errors import NotFoundError
from openpcf.errors import OpenPCFError
from openpcf.services.web_verifier import (
    MAX_FIELD,
    grant,
    granted_list,
    granted_pact_json,
    granted_product_view,
    grants_page,
    package_contents,
    product_audit,
    revoke,
)
from openpcf.services.web_verify import MAX_PACKAGE_BYTES, FieldError
from openpcf.web.auth import CsrfChecked, PageRefused, WebUser, require_roles, web_state
from openpcf.web.pages_verify import MAX_PACKAGE_BODY, receive_package
from openpcf.web.render import catalogues, render
from openpcf.web.uploads import bounded, form_reader

router = APIRouter()

Verifier = Annotated[WebUser, Depends(require_roles("verifier"))]
Owner = Annotated[WebUser, Depends(require_roles("owner"))]


def _not_found() -> PageRefused:
    return PageRefused(404, "product.not_found")


@router.get("/verifier", response_class=HTMLResponse)
def verifier_list(request: Request, user: Verifier) -> HTMLResponse:
    rows = granted_list(
        web_state(request).engine, user_id=user.user_id, organisation_id=user.organisation_id
    )
    return render(request, "verifier_list.html.j2", {"rows": rows})


@router.get("/verifier/products/{footprint_id}", response_class=HTMLResponse)
def verifier_product(request: Request, footprint_id: str, user: Verifier) -> HTMLResponse:
    try:
        owner, view = granted_product_view(
            web_state(request).engine,
            user_id=user.user_id,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise _not_found() from None
    messages = catalogues()[user.lang]

    def stage_name(stage: str) -> str:
        return messages.get(f"product.stage.{stage}", stage)

    chart = {
        **view.chart,
        "labels": [stage_name(s) for s in view.chart.get("labels", [])],
        "total_label": messages["product.chart_total"],
    }
    context = {
        "view": view,
        "chart": chart,
        "stage_name": stage_name,
        "read_only": True,
        "owner": owner,
    }
    return render(request, "products_detail.html.j2", context)


@router.get("/verifier/products/{footprint_id}/pact.json")
def verifier_pact_json(request: Request, footprint_id: str, user: Verifier) -> JSONResponse:
    """The stored PACT document of a granted product's footprint, as a download."""
    try:
        document = granted_pact_json(
            web_state(request).engine,
            user_id=user.user_id,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise _not_found() from None
    name = f"pact-{uuid.UUID(footprint_id)}.json"  # a UUID: the lookup above parsed it
    return JSONResponse(document, headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/verifier/products/{footprint_id}/audit", response_class=HTMLResponse)
def verifier_audit(request: Request, footprint_id: str, user: Verifier) -> HTMLResponse:
    state = web_state(request)
    try:
        view = product_audit(
            state.engine,
            trail=state.home / "audit" / "trail.jsonl",  # settings.audit_trail of this home
            home=state.home,
            user_id=user.user_id,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise _not_found() from None
    return render(request, "verifier_audit.html.j2", {"view": view})


# --------------------------------------------------------------------------------------------
# a package's contents


def _package_context(**values: Any) -> dict[str, Any]:
    return {
        "errors": {},
        "contents": None,
        "name": "",
        "max_mib": MAX_PACKAGE_BYTES // (1024 * 1024),
        **values,
    }


@router.get("/verifier/package", response_class=HTMLResponse)
def package_form(request: Request, user: Verifier) -> HTMLResponse:
    del user
    return render(request, "verifier_package.html.j2", _package_context())


@router.post(
    "/verifier/package",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_PACKAGE_BODY), form_reader(64 * 1024), CsrfChecked],
)
async def package_post(request: Request, user: Verifier) -> HTMLResponse:
    del user
    form = await request.form()
    contents = None
    with tempfile.TemporaryDirectory(prefix="openpcf-web-contents-") as tmp:
        target = Path(tmp) / "package.zip"
        name, errors = await receive_package(form.get("package"), target)
        if not errors:
            try:
                contents = await run_in_threadpool(partial(package_contents, target, name=name))
            except OpenPCFError as e:
                detail = str(e).replace(str(target), name)
                errors.append(FieldError("package", "verify.error.package", detail))
    context = _package_context(errors={e.field: [e] for e in errors}, contents=contents, name=name)
    status = 400 if errors else 200
    return await run_in_threadpool(render, request, "verifier_package.html.j2", context, status)


# --------------------------------------------------------------------------------------------
# the owners' grants


def _grants(request: Request, user: WebUser, status: int = 200, **values: Any) -> HTMLResponse:
    page = grants_page(web_state(request).engine, organisation_id=user.organisation_id)
    context = {
        "page": page,
        "typed": {"email": "", "product": "", "verifier_organisation": ""},
        "error": "",
        "done": "",
        **values,
    }
    return render(request, "verifier_grants.html.j2", context, status)


@router.get("/verifier-grants", response_class=HTMLResponse)
def grants_list(request: Request, user: Owner) -> HTMLResponse:
    return _grants(request, user)


@router.post("/verifier-grants", response_class=HTMLResponse, dependencies=[CsrfChecked])
def grants_add(
    request: Request,
    user: Owner,
    email: Annotated[str, Form()] = "",
    product: Annotated[str, Form()] = "",
    verifier_organisation: Annotated[str, Form()] = "",
) -> HTMLResponse:
    # the service refuses fields over MAX_FIELD with a message; the form shows what was typed
    kept = 2 * MAX_FIELD
    typed = {
        "email": email[:kept],
        "product": product[:kept],
        "verifier_organisation": verifier_organisation[:kept],
    }
    try:
        said, _ = grant(
            web_state(request).engine,
            organisation_id=user.organisation_id,
            email=email,
            product=product,
            verifier_organisation=verifier_organisation,
            granted_by_id=user.user_id,
        )
    except OpenPCFError as e:  # InputError, NotFoundError: the form again, as typed
        return _grants(request, user, 400, typed=typed, error=str(e))
    return _grants(request, user, done=said)


@router.post("/verifier-grants/{grant_id}/revoke", dependencies=[CsrfChecked])
def grants_revoke(request: Request, grant_id: str, user: Owner) -> RedirectResponse:
    if not grant_id.isdigit() or len(grant_id) > 12:
        raise PageRefused(404, "error.not_found")
    try:
        revoke(
            web_state(request).engine, organisation_id=user.organisation_id, grant_id=int(grant_id)
        )
    except NotFoundError:
        raise PageRefused(404, "error.not_found") from None
    return RedirectResponse("/verifier-grants", status_code=303)


__all__ = ["router"]
