"""The suppliers' pages (inbox, answer form, workbook upload) and the engineers' requests page.

================================  ===========  ==============================================
route                             roles        what
================================  ===========  ==============================================
``GET /inbox``                    supplier     the requests granted to this person: customer,
                                               material, amount, due date, status (overdue)
``GET /inbox/{id}``               supplier     the request, its decision (and reason), the
                                               answer form and the workbook upload
``POST /inbox/{id}/answer``       supplier     the form answer (the workbook's checks)
``POST /inbox/{id}/workbook``     supplier     the answered workbook (multipart, ``.xlsx``)
``POST /inbox/{id}/epd``          supplier     an EPD (multipart, ILCD+EPD ``.xml``), its
                                               declared unit and mass per declared unit
``GET /requests``                 owner,       the organisation's requests, filtered by
                                  engineer     status, supplier and product
``POST /requests/{id}/decide``    owner,       accept, or reject with a reason
                                  engineer
================================  ===========  ==============================================

A request that is not granted to the supplier (or not the engineer's organisation's) answers
404, like an unknown id. Every POST needs the CSRF token. Bodies are bounded by their declared
length before anything reads them (411 without one, 413 over :data:`MAX_FORM_BODY` or
:data:`MAX_UPLOAD_BODY` or :data:`MAX_EPD_BODY`; the server reads no more than the declared
length), and the uploaded file again while it is read. A form with errors answers 400 and
shows every value as typed, each problem next to its field.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from openpcf.services import web_supplier as svc
from openpcf.suppliers.answer_form import (
    ELECTRICITY_FORM_ROWS,
    GENERAL,
    electricity_name,
    form_names,
    form_sections,
)
from openpcf.suppliers.answers import MAX_BYTES as MAX_WORKBOOK_BYTES
from openpcf.suppliers.epd import MAX_BYTES as MAX_EPD_BYTES
from openpcf.suppliers.template import ELECTRICITY_COLUMNS, ELECTRICITY_SOURCES
from openpcf.web.auth import CsrfChecked, PageRefused, WebUser, require_roles, web_state
from openpcf.web.render import render
from openpcf.web.uploads import bounded

router = APIRouter()

Supplier = Annotated[WebUser, Depends(require_roles("supplier"))]
Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]

#: The largest answer-form or decision body (about 40 short fields).
MAX_FORM_BODY = 256 * 1024
#: The largest workbook upload body: the workbook and the multipart framing around it.
MAX_UPLOAD_BODY = MAX_WORKBOOK_BYTES + 64 * 1024
#: The largest EPD upload body: the EPD (at most what ``import-epd`` reads) and the framing.
MAX_EPD_BODY = MAX_EPD_BYTES + 64 * 1024
_XML_TYPES = ("application/xml", "text/xml", "application/octet-stream", "")
_XLSX_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/octet-stream",
    "application/zip",
    "",
)


def _base_name(filename: str) -> str:
    """The uploaded file's name without any folder the browser sent, at most 200 characters."""
    return filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]


def _now(request: Request) -> Any:
    return web_state(request).clock()


# --------------------------------------------------------------------------------------------
# suppliers


@router.get("/inbox")
def inbox(request: Request, user: Supplier) -> Response:
    rows = svc.inbox(
        web_state(request).engine,
        user_id=user.user_id,
        organisation_id=user.organisation_id,
        today=_now(request).date(),
    )
    return render(request, "supplier_inbox.html.j2", {"rows": rows})


def _request_page(
    request: Request,
    user: WebUser,
    request_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    upload_errors: list[str] | None = None,
    upload_key: str = "",
    epd_values: dict[str, str] | None = None,
    epd_errors: dict[str, list[str]] | None = None,
    epd_key: str = "",
    status: int = 200,
) -> Response:
    view = svc.granted_request(
        web_state(request).engine,
        user_id=user.user_id,
        organisation_id=user.organisation_id,
        request_id=request_id,
        today=_now(request).date(),
    )
    context = {
        "req": view,
        "sections": form_sections(),
        "values": values if values is not None else svc.form_defaults(view),
        "errors": errors or {},
        "general_errors": (errors or {}).get(GENERAL, []),
        "upload_errors": upload_errors or [],
        "upload_key": upload_key,
        "electricity_rows": range(ELECTRICITY_FORM_ROWS),
        "electricity_columns": ELECTRICITY_COLUMNS,
        "electricity_sources": ELECTRICITY_SOURCES,
        "el_name": electricity_name,
        "max_upload_mib": MAX_WORKBOOK_BYTES // (1024 * 1024),
        "epd_values": epd_values if epd_values is not None else svc.epd_defaults(view),
        "epd_errors": epd_errors or {},
        "epd_key": epd_key,
        "epd_units": svc.EPD_UNITS,
        "max_epd_mib": MAX_EPD_BYTES // (1024 * 1024),
    }
    return render(request, "supplier_request.html.j2", context, status)


@router.get("/inbox/{request_id}")
def inbox_request(request: Request, user: Supplier, request_id: str) -> Response:
    return _request_page(request, user, request_id)


@router.post("/inbox/{request_id}/answer", dependencies=[bounded(MAX_FORM_BODY), CsrfChecked])
async def answer(request: Request, user: Supplier, request_id: str) -> Response:
    form = await request.form(max_files=0, max_fields=200)
    values = {name: str(form.get(name) or "") for name in form_names()}
    outcome = await run_in_threadpool(
        svc.answer_with_form,
        web_state(request).engine,
        user_id=user.user_id,
        organisation_id=user.organisation_id,
        email=user.email,
        request_id=request_id,
        values=values,
        now=_now(request),
    )
    if outcome.stored is not None:
        return RedirectResponse(f"/inbox/{request_id}", status_code=303)
    return await run_in_threadpool(
        _request_page, request, user, request_id, values=values, errors=outcome.errors, status=400
    )


@router.post("/inbox/{request_id}/workbook", dependencies=[bounded(MAX_UPLOAD_BODY), CsrfChecked])
async def upload(request: Request, user: Supplier, request_id: str) -> Response:
    form = await request.form(max_files=1, max_fields=10)
    try:
        return await _upload(request, user, request_id, form.get("workbook"))
    finally:
        await form.close()  # the spooled upload, also when the answer is an error


async def _read_upload(
    file: Any,
    *,
    limit: int,
    suffix: str,
    types: Collection[str],
    looks_right: Callable[[bytes], bool],
    keys: tuple[str, str, str],
) -> tuple[str, bytes, str]:
    """Read an uploaded file of at most ``limit`` bytes: ``(problem, data, base name)``, the
    problem the message key of ``keys`` = (missing, too large, wrong kind) or "" when the file
    is named ``*suffix``, sent as one of ``types`` and its bytes look right. Too large → 413."""
    missing, too_large, wrong = keys
    if not isinstance(file, UploadFile) or not file.filename:
        return missing, b"", ""
    filename = _base_name(file.filename)
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PageRefused(413, too_large)
    named = filename.lower().endswith(suffix) and content_type in types
    return ("" if named and looks_right(data) else wrong), data, filename


async def _upload(request: Request, user: WebUser, request_id: str, file: Any) -> Response:
    problem, data, filename = await _read_upload(
        file,
        limit=MAX_WORKBOOK_BYTES,
        suffix=".xlsx",
        types=_XLSX_TYPES,
        looks_right=lambda data: data.startswith(b"PK\x03\x04"),  # an xlsx is a zip
        keys=("supplier.upload.missing", "supplier.too_large", "supplier.upload.not_xlsx"),
    )
    if problem:
        return await run_in_threadpool(
            _request_page, request, user, request_id, upload_key=problem, status=400
        )
    outcome = await run_in_threadpool(
        svc.answer_with_workbook,
        web_state(request).engine,
        user_id=user.user_id,
        organisation_id=user.organisation_id,
        request_id=request_id,
        data=data,
        filename=filename,
        now=_now(request),
    )
    if outcome.stored is not None:
        return RedirectResponse(f"/inbox/{request_id}", status_code=303)
    return await run_in_threadpool(
        _request_page,
        request,
        user,
        request_id,
        upload_errors=outcome.errors.get(GENERAL, []),
        status=400,
    )


@router.post("/inbox/{request_id}/epd", dependencies=[bounded(MAX_EPD_BODY), CsrfChecked])
async def upload_epd(request: Request, user: Supplier, request_id: str) -> Response:
    form = await request.form(max_files=1, max_fields=10)
    try:
        values = {name: str(form.get(name) or "")[:40] for name in (svc.EPD_UNIT, svc.EPD_MASS)}
        return await _upload_epd(request, user, request_id, form.get(svc.EPD_FILE), values)
    finally:
        await form.close()  # the spooled upload, also when the answer is an error


async def _upload_epd(
    request: Request, user: WebUser, request_id: str, file: Any, values: dict[str, str]
) -> Response:
    """Check the upload is an XML file of bounded size, then let the service read the EPD; a
    problem answers 400 with the unit and mass as chosen and typed, each at its input."""
    problem, data, filename = await _read_upload(
        file,
        limit=MAX_EPD_BYTES,
        suffix=".xml",
        types=_XML_TYPES,
        looks_right=lambda data: data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"),
        keys=("supplier.epd.missing", "supplier.epd.too_large", "supplier.epd.not_xml"),
    )
    if problem:
        return await run_in_threadpool(
            _request_page, request, user, request_id, epd_values=values, epd_key=problem, status=400
        )
    outcome = await run_in_threadpool(
        svc.answer_with_epd,
        web_state(request).engine,
        user_id=user.user_id,
        organisation_id=user.organisation_id,
        request_id=request_id,
        data=data,
        filename=filename,
        declared_unit=values[svc.EPD_UNIT],
        mass_kg=values[svc.EPD_MASS],
        now=_now(request),
    )
    if outcome.stored is not None:
        return RedirectResponse(f"/inbox/{request_id}", status_code=303)
    return await run_in_threadpool(
        _request_page,
        request,
        user,
        request_id,
        epd_values=values,
        epd_errors=outcome.errors,
        status=400,
    )


# --------------------------------------------------------------------------------------------
# engineers


def _requests_page(
    request: Request,
    user: WebUser,
    *,
    errors: dict[str, list[str]] | None = None,
    failed: str = "",
    reason: str = "",
    status: int = 200,
) -> Response:
    query = request.query_params
    filters = {k: query.get(k, "")[:500] for k in ("status", "supplier", "product")}
    overview = svc.requests_overview(
        web_state(request).engine,
        organisation_id=user.organisation_id,
        today=_now(request).date(),
        **filters,
    )
    context = {
        "overview": overview,
        "filters": filters,
        "errors": errors or {},
        "failed": failed,
        "reason": reason,
    }
    return render(request, "supplier_requests.html.j2", context, status)


@router.get("/requests")
def requests_page(request: Request, user: Engineer) -> Response:
    return _requests_page(request, user)


@router.post("/requests/{request_id}/decide", dependencies=[bounded(MAX_FORM_BODY), CsrfChecked])
async def decide(request: Request, user: Engineer, request_id: str) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "")[:2000]
    view, errors = await run_in_threadpool(
        svc.decide_request,
        web_state(request).engine,
        organisation_id=user.organisation_id,
        request_id=request_id,
        decision=decision,
        reason=reason,
        now=_now(request),
    )
    if view is not None:
        return RedirectResponse("/requests", status_code=303)
    return await run_in_threadpool(
        _requests_page,
        request,
        user,
        errors=errors,
        failed=request_id,
        reason=reason,
        status=400,
    )
