"""Publish, certify, download: the engineers' deliverables in the web application.

From the model editor (the form ``#model-form`` of ``models_edit.html.j2``, which holds the
model text and its parameter fields; the buttons post it here with ``formaction``):

* ``POST /models/publish`` publishes the model's PACT footprint for the signed-in person's
  organisation (:func:`~openpcf.services.web_deliverables.publish_model_text`) and shows the
  editor again with what was stored and a link to the product page; with changed parameters
  the form must choose a named scenario or replacing the live footprint;
* ``POST /models/report`` answers the CFP study report (HTML or PDF, English or Chinese) as a
  download; ``POST /models/package`` the verification package (zip).

From the product page (``deliverables_actions.html.j2``, included by
``products_detail.html.j2``):

* ``GET``/``POST /products/{id}/report``: the report of the stored footprint, made from the
  model text kept with its calculation record (no upload), else from the model file it was
  calculated from (uploaded; accepted only when it is that model); either must give the
  stored footprint again (:func:`~openpcf.services.web_deliverables.report_for_footprint`);
* ``GET /products/{id}/certificate`` shows the certificate form; ``POST`` issues a
  certificate for the stored footprint with the home folder's key store and answers it as a
  download (``certificate-<id>.jwt``); assurance is none, a self-declared verifier, or the
  verifier's signed attestation (.jwt) with the verifier's JWKS (.json), uploaded.

And ``GET``/``POST /deliverables/cbam``: the CBAM communication (xlsx or JSON) of an uploaded
installation file.

Every route needs the owner or engineer role (403 otherwise) and every POST the CSRF token;
another organisation's footprint id answers 404 like one that does not exist. A body over its
bound is refused (413) before it is read, and each upload again when read. A form with errors
comes back with status 400, the errors at their fields and everything typed kept (uploaded
files must be chosen again: browsers never refill file fields).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from openpcf.certify import KeyStore
from openpcf.db.errors import NotFoundError
from openpcf.services.web_deliverables import (
    MAX_ATTESTATION_BYTES,
    MAX_INSTALLATION_BYTES,
    MAX_JWKS_BYTES,
    CertificateRequest,
    Download,
    FieldError,
    PublishRequest,
    cbam_communication,
    certify_footprint,
    model_kept,
    package_for_model_text,
    publish_model_text,
    report_for_footprint,
    report_for_model_text,
)
from openpcf.services.web_models import MAX_MODEL_BYTES, EditorOutcome, evaluate_model_text
from openpcf.services.web_products import pact_json
from openpcf.web.auth import (
    CsrfChecked,
    PageRefused,
    WebUser,
    require_roles,
    web_caller,
    web_state,
)
from openpcf.web.render import render
from openpcf.web.uploads import bounded

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]

#: The largest editor body: the model percent-encoded (3 bytes per byte) and a few fields.
MAX_EDITOR_BODY = 3 * MAX_MODEL_BYTES + 64 * 1024
#: The largest certificate body: the attestation, the JWKS and the form's fields.
MAX_CERTIFICATE_BODY = MAX_ATTESTATION_BYTES + MAX_JWKS_BYTES + 64 * 1024
#: The largest report body: the model file and the form's fields.
MAX_REPORT_BODY = MAX_MODEL_BYTES + 64 * 1024
#: The largest CBAM body: the installation file and the form's fields.
MAX_CBAM_BODY = MAX_INSTALLATION_BYTES + 64 * 1024


async def _close_form(request: Request) -> AsyncIterator[None]:
    """Close the parsed form's spooled uploads when the request ends (Starlette keeps the
    form parsed by the CSRF check on the request as ``_form``)."""
    try:
        yield
    finally:
        form = getattr(request, "_form", None)
        if form is not None:
            await form.close()


ClosedForm = Depends(_close_form)


def _text(form: FormData, key: str, limit: int = 200) -> str:
    value = form.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _upload(form: FormData, key: str, limit: int) -> bytes | None:
    """The uploaded file's bytes, at most ``limit + 1`` (the caller refuses more)."""
    value = form.get(key)
    if isinstance(value, UploadFile) and value.filename:
        return await value.read(limit + 1)
    return None


def _attachment(download: Download) -> Response:
    return Response(
        download.content,
        media_type=download.media_type,
        headers={"content-disposition": f'attachment; filename="{download.filename}"'},
    )


def _by_field(errors: tuple[FieldError, ...]) -> dict[str, list[FieldError]]:
    found: dict[str, list[FieldError]] = {}
    for e in errors:
        found.setdefault(e.field, []).append(e)
    return found


# -- the editor ------------------------------------------------------------------------------


async def _editor_form(request: Request) -> tuple[FormData, str, dict[str, str]]:
    form = await request.form()
    model = form.get("model")
    text = model.replace("\r\n", "\n") if isinstance(model, str) else ""
    typed = {
        key[6:][:100]: value[:100]
        for key, value in form.multi_items()
        if key.startswith("param.") and isinstance(value, str)
    }
    return form, text, typed


def _editor_page(
    request: Request,
    user: WebUser,
    text: str,
    typed: dict[str, str],
    *,
    errors: tuple[FieldError, ...],
    publish: PublishRequest,
    published: Any = None,
    changed: tuple[str, ...] = (),
    status: int,
) -> HTMLResponse:
    """The editor again: the text, the total with the parameters as typed, and the
    deliverables' outcome (blocking: call from a thread)."""
    outcome: EditorOutcome = evaluate_model_text(text, typed, caller=web_caller(request, user))
    model_errors = [e for e in outcome.errors if e.field == "model"]
    shown = {e.message for e in model_errors}
    model_errors += [e for e in errors if e.field == "model" and e.message not in shown]
    context = {
        "model_text": text,
        "max_chars": MAX_MODEL_BYTES,
        "outcome": outcome,
        "model_errors": model_errors,
        "publish": publish,
        "published": published,
        "changed": changed,
        "deliverable_errors": _by_field(tuple(e for e in errors if e.field != "model")),
    }
    return render(request, "models_edit.html.j2", context, status)


def _publish_request(form: FormData) -> PublishRequest:
    return PublishRequest(
        choice=_text(form, "publish_choice", 20) or "live",
        scenario=_text(form, "scenario", 120),
        allow_illustrative=_text(form, "allow_illustrative", 10) == "yes",
    )


@router.post(
    "/models/publish",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_EDITOR_BODY), CsrfChecked],
)
async def publish_from_editor(request: Request, user: Engineer) -> HTMLResponse:
    form, text, typed = await _editor_form(request)
    wanted = _publish_request(form)
    outcome = await run_in_threadpool(
        publish_model_text,
        text,
        typed,
        wanted,
        caller=web_caller(request, user),
    )
    return await run_in_threadpool(
        _editor_page,
        request,
        user,
        text,
        typed,
        errors=outcome.errors,
        publish=wanted,
        published=outcome.published,
        changed=outcome.changed,
        status=400 if outcome.errors else 200,
    )


async def _download_or_editor(
    request: Request,
    user: WebUser,
    form: FormData,
    text: str,
    typed: dict[str, str],
    download: Download,
) -> Response:
    """The file made from the editor's model, or the editor again with the errors at their
    fields (400)."""
    if not download.errors:
        return _attachment(download)
    return await run_in_threadpool(
        _editor_page,
        request,
        user,
        text,
        typed,
        errors=download.errors,
        publish=_publish_request(form),
        status=400,
    )


@router.post("/models/report", dependencies=[bounded(MAX_EDITOR_BODY), CsrfChecked])
async def report_from_editor(request: Request, user: Engineer) -> Response:
    form, text, typed = await _editor_form(request)
    fmt = _text(form, "report_format", 10) or "html"
    lang = _text(form, "report_lang", 10) or user.lang
    download = await run_in_threadpool(
        partial(
            report_for_model_text, text, typed, fmt=fmt, lang=lang, caller=web_caller(request, user)
        )
    )
    return await _download_or_editor(request, user, form, text, typed, download)


@router.post("/models/package", dependencies=[bounded(MAX_EDITOR_BODY), CsrfChecked])
async def package_from_editor(request: Request, user: Engineer) -> Response:
    form, text, typed = await _editor_form(request)
    keys = KeyStore(web_state(request).home / "keys")
    lang = _text(form, "report_lang", 10) or user.lang
    download = await run_in_threadpool(
        package_for_model_text,
        text,
        typed,
        keys=keys,
        lang=lang,
        caller=web_caller(request, user),
        allow_illustrative=_publish_request(form).allow_illustrative,
    )
    return await _download_or_editor(request, user, form, text, typed, download)


# -- certificate of a published footprint ---------------------------------------------------


def _certificate_page(
    request: Request,
    user: WebUser,
    footprint_id: str,
    *,
    typed: CertificateRequest,
    errors: tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    """The certificate form of one of the organisation's footprints (404 for another's)."""
    try:
        document = pact_json(
            web_state(request).engine,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise PageRefused(404, "product.not_found") from None
    context = {
        "footprint_id": str(document.get("id") or footprint_id),
        "document": document,
        "typed": typed,
        "errors": _by_field(errors),
        "has_key": KeyStore(web_state(request).home / "keys").exists(),
    }
    return render(request, "deliverables_certificate.html.j2", context, status)


@router.get("/products/{footprint_id}/certificate", response_class=HTMLResponse)
def certificate_form(request: Request, footprint_id: str, user: Engineer) -> HTMLResponse:
    return _certificate_page(request, user, footprint_id, typed=CertificateRequest())


@router.post(
    "/products/{footprint_id}/certificate",
    dependencies=[bounded(MAX_CERTIFICATE_BODY), ClosedForm, CsrfChecked],
)
async def issue_certificate_page(request: Request, footprint_id: str, user: Engineer) -> Response:
    form = await request.form()
    typed = CertificateRequest(
        kind=_text(form, "assurance_kind", 20) or "none",
        verifier_name=_text(form, "verifier_name"),
        verifier_id=_text(form, "verifier_id"),
        assurance=_text(form, "assurance", 20) or "limited",
        standard=_text(form, "standard", 100),
        valid_days=_text(form, "valid_days", 10),
    )
    attestation = await _upload(form, "attestation", MAX_ATTESTATION_BYTES)
    jwks = await _upload(form, "verifier_jwks", MAX_JWKS_BYTES)
    try:
        outcome = await run_in_threadpool(
            certify_footprint,
            web_state(request).engine,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
            request=typed,
            keys=KeyStore(web_state(request).home / "keys"),
            attestation=attestation,
            verifier_jwks=jwks,
        )
    except NotFoundError:
        raise PageRefused(404, "product.not_found") from None
    if outcome.certificate is None:
        return await run_in_threadpool(
            _certificate_page,
            request,
            user,
            footprint_id,
            typed=typed,
            errors=outcome.errors,
            status=400,
        )
    name = f"certificate-{uuid.UUID(footprint_id)}.jwt"  # a UUID: the lookup parsed it
    return Response(
        (outcome.certificate.token + "\n").encode("ascii"),
        media_type="application/vc+jwt",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


# -- report of a published footprint ---------------------------------------------------------


def _report_page(
    request: Request,
    user: WebUser,
    footprint_id: str,
    *,
    fmt: str = "html",
    lang: str = "",
    errors: tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    """The report form of one of the organisation's footprints (404 for another's); without
    the file field when the model text is kept with its record."""
    try:
        kept = model_kept(
            web_state(request).engine,
            organisation_id=user.organisation_id,
            footprint_id=footprint_id,
        )
    except NotFoundError:
        raise PageRefused(404, "product.not_found") from None
    context = {
        "footprint_id": str(uuid.UUID(footprint_id)),
        "model_kept": kept,
        "report_errors": _by_field(errors),
        "report_typed": {"fmt": fmt, "lang": lang or user.lang},
    }
    return render(request, "deliverables_report.html.j2", context, status)


@router.get("/products/{footprint_id}/report", response_class=HTMLResponse)
def report_form(request: Request, footprint_id: str, user: Engineer) -> HTMLResponse:
    return _report_page(request, user, footprint_id)


@router.post(
    "/products/{footprint_id}/report",
    dependencies=[bounded(MAX_REPORT_BODY), ClosedForm, CsrfChecked],
)
async def report_of_footprint(request: Request, footprint_id: str, user: Engineer) -> Response:
    form = await request.form()
    fmt = _text(form, "report_format", 10) or "html"
    lang = _text(form, "report_lang", 10) or user.lang
    upload = form.get("model_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        data, name = None, ""
    else:
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120]
        data = await upload.read(MAX_MODEL_BYTES + 1)
    try:
        if data is not None and not name.lower().endswith((".yaml", ".yml")):
            # still look the footprint up first: another organisation's id answers 404
            await run_in_threadpool(_report_page, request, user, footprint_id)
            message = f"{name}: not .yaml"
            download = Download(errors=(FieldError(field="model_file", message=message),))
        else:  # no file: the model text kept with the record, if it is
            download = await run_in_threadpool(
                report_for_footprint,
                web_caller(request, user),
                organisation_id=user.organisation_id,
                footprint_id=footprint_id,
                model=data,
                name=name,
                fmt=fmt,
                lang=lang,
            )
    except NotFoundError:
        raise PageRefused(404, "product.not_found") from None
    if download.errors:
        return await run_in_threadpool(
            _report_page,
            request,
            user,
            footprint_id,
            fmt=fmt,
            lang=lang,
            errors=download.errors,
            status=400,
        )
    return _attachment(download)


# -- CBAM communication ----------------------------------------------------------------------


@router.get("/deliverables/cbam", response_class=HTMLResponse)
def cbam_form(request: Request, user: Engineer) -> HTMLResponse:
    del user
    return render(request, "deliverables_cbam.html.j2", {"fmt": "xlsx", "errors": {}})


@router.post(
    "/deliverables/cbam",
    dependencies=[bounded(MAX_CBAM_BODY), ClosedForm, CsrfChecked],
)
async def cbam_download(request: Request, user: Engineer) -> Response:
    del user
    form = await request.form()
    fmt = _text(form, "cbam_format", 10) or "xlsx"
    upload = form.get("installation")
    if not isinstance(upload, UploadFile) or not upload.filename:
        download = Download(
            errors=(FieldError(field="installation", message="choose an installation file"),)
        )
    else:
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120]
        data = await upload.read(MAX_INSTALLATION_BYTES + 1)
        if not name.lower().endswith((".yaml", ".yml")):
            download = Download(
                errors=(FieldError(field="installation", message=f"{name}: not a .yaml file"),)
            )
        else:
            download = await run_in_threadpool(cbam_communication, data, name=name, fmt=fmt)
    if download.errors:
        context = {"fmt": fmt, "errors": _by_field(download.errors)}
        return await run_in_threadpool(render, request, "deliverables_cbam.html.j2", context, 400)
    return _attachment(download)
