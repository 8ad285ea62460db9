"""Model pages: a new model from a bill of materials, and the model editor.

``GET /models/new`` shows the upload form; ``POST /models/new`` reads the BOM (CSV or xlsx, at
most :data:`openpcf.model.bom.MAX_BYTES`) and shows each line's ranked factors in a select;
``POST /models/new/confirm`` writes the model for the chosen factors, as a download
(``action=download``) or into the editor (``action=edit``). ``GET``/``POST /models/edit`` is
the editor: a textarea whose text is validated and calculated as publishing will calculate it,
with the signed-in person's organisation's data, and never recorded on the audit trail
(:func:`openpcf.services.web_models.evaluate_model_text`); ``static/models.js`` posts it to
``POST /models/validate`` (htmx) a moment after each change, and a changed parameter field
posts to ``POST /models/calculate``. Without JavaScript the same forms post normally and the
whole page comes back. Either way the text stays in the textarea and errors show at their
lines. The result carries the analysis (:mod:`openpcf.services.web_analysis`: contribution
tree, uncertainty, scenario fields); ``POST /models/scenarios`` also compares the scenarios
and ``POST /models/montecarlo`` runs a bounded Monte Carlo.

Status codes as on the rule check: a plain post with errors answers 400, an htmx post 200
(htmx swaps no 4xx answer). A body over its bound is refused (413) before it is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from openpcf.methods.gwp import gwp_set
from openpcf.model.bom import MAX_BYTES, ModelHeader, slug
from openpcf.services.web_analysis import EditorAnalysis, analyse_editor
from openpcf.services.web_models import (
    MAX_MODEL_BYTES,
    BomUpload,
    EditorOutcome,
    evaluate_model_text,
    model_from_form,
    proposals_for_upload,
)
from openpcf.web.auth import CsrfChecked, WebUser, require_roles, web_caller
from openpcf.web.render import render
from openpcf.web.uploads import bounded

router = APIRouter()

Engineer = Annotated[WebUser, Depends(require_roles("owner", "engineer"))]

#: The largest upload body: the BOM file and the form's few fields.
MAX_UPLOAD_BODY = MAX_BYTES + 64 * 1024
#: The largest editor or confirmation body: the model percent-encoded (3 bytes per byte).
MAX_TEXT_BODY = 3 * MAX_MODEL_BYTES + 64 * 1024
_SUFFIXES = (".csv", ".xlsx")
_GEOGRAPHY = re.compile(r"^[A-Z]{2,3}(-[A-Z0-9]{1,3})?$|^GLO$")


async def _close_form(request: Request) -> AsyncIterator[None]:
    """Close the parsed form (its spooled upload files) when the request ends, also when a
    later dependency refuses it: ``csrf_checked`` parses the form and may raise before the
    route runs. Starlette keeps the parsed form on the request as ``_form``."""
    try:
        yield
    finally:
        form = getattr(request, "_form", None)
        if form is not None:
            await form.close()


ClosedForm = Depends(_close_form)


def _fragment(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _text(form: Any, key: str, limit: int = 200) -> str:
    value = form.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.get("/models/new", response_class=HTMLResponse)
def new_model(request: Request, user: Engineer) -> HTMLResponse:
    context = {"product": "", "geography": "CN", "organisation": user.organisation}
    return render(request, "models_new.html.j2", context | {"upload": None, "errors": {}})


@router.post(
    "/models/new",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_UPLOAD_BODY), ClosedForm, CsrfChecked],
)
async def upload_bom(request: Request, user: Engineer) -> HTMLResponse:
    form = await request.form()
    product = _text(form, "product")
    geography = _text(form, "geography", 10).upper() or "CN"
    context: dict[str, Any] = {
        "product": product,
        "geography": geography,
        "organisation": user.organisation,
        "upload": None,
        "errors": {},
    }
    errors: dict[str, list[str]] = {}
    if not _GEOGRAPHY.match(geography):
        errors["geography"] = ["geography"]
    upload = form.get("bom")
    data = b""
    name = ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["bom"] = ["missing"]
    else:
        name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120]
        data = await upload.read(MAX_BYTES + 1)
        if not name.lower().endswith(_SUFFIXES):
            errors["bom"] = ["type"]
        elif len(data) > MAX_BYTES:
            errors["bom"] = ["size"]
    if errors:
        return render(request, "models_new.html.j2", context | {"errors": errors}, 400)
    found: BomUpload = await run_in_threadpool(
        proposals_for_upload, data, name=name, geography=geography
    )
    context |= {
        "upload": found,
        "bom_name": name,
        "product": product or name.rsplit(".", 1)[0],
        "ar6": gwp_set("AR6").values,
    }
    status = 400 if found.errors else 200
    return await run_in_threadpool(render, request, "models_new.html.j2", context, status)


@router.post(
    "/models/new/confirm",
    dependencies=[bounded(MAX_TEXT_BODY), CsrfChecked],
)
async def confirm_model(request: Request, user: Engineer) -> Response:
    form = await request.form()
    name = _text(form, "bom_name", 120) or "BOM"
    geography = _text(form, "geography", 10).upper() or "CN"
    if not _GEOGRAPHY.match(geography):
        geography = "CN"
    header = ModelHeader(
        product=_text(form, "product") or name.rsplit(".", 1)[0],
        organisation=user.organisation,
        geography=geography,
        year=dt.date.today().year - 1,
    )
    choices: dict[int, str | None] = {}
    for key, value in form.multi_items():
        if key.startswith("choice-") and key[7:].isdigit() and isinstance(value, str):
            choices[int(key[7:])] = value.strip()[:200] or None
    records = form.get("bom_records")
    written, errors = await run_in_threadpool(
        model_from_form,
        records if isinstance(records, str) else "",
        choices,
        name=name,
        header=header,
    )
    if written is None:
        context = {
            "product": header.product,
            "geography": geography,
            "organisation": user.organisation,
            "upload": BomUpload(bom=None, errors=errors),
            "errors": {},
        }
        return render(request, "models_new.html.j2", context, 400)
    if _text(form, "action") == "edit":
        caller = web_caller(request, user)
        outcome = await run_in_threadpool(partial(evaluate_model_text, written.text, caller=caller))
        analysis = await run_in_threadpool(
            partial(analyse_editor, outcome, text=written.text, overrides={}, caller=caller)
        )
        return render(request, "models_edit.html.j2", _editor(written.text, outcome, analysis))
    filename = f"{slug(header.product)}.yaml"
    return Response(
        written.text.encode("utf-8"),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _editor(
    text: str, outcome: EditorOutcome | None, analysis: EditorAnalysis | None = None
) -> dict[str, Any]:
    errors = outcome.errors if outcome else ()
    return {
        "model_text": text,
        "max_chars": MAX_MODEL_BYTES,
        "outcome": outcome,
        "model_errors": [e for e in errors if e.field == "model"],
        "analysis": analysis,
    }


@router.get("/models/edit", response_class=HTMLResponse)
def edit_model(request: Request, user: Engineer) -> HTMLResponse:
    del user
    return render(request, "models_edit.html.j2", _editor("", None))


async def _evaluate(
    request: Request,
    user: WebUser,
    *,
    with_parameters: bool,
    compare: bool = False,
    monte_carlo: bool = False,
) -> HTMLResponse:
    form = await request.form()
    model = form.get("model")
    text = model.replace("\r\n", "\n") if isinstance(model, str) else ""
    overrides: dict[str, str] = {}
    if with_parameters:
        for key, value in form.multi_items():
            if key.startswith("param.") and isinstance(value, str):
                overrides[key[6:][:100]] = value[:100]
    caller = web_caller(request, user)
    outcome = await run_in_threadpool(partial(evaluate_model_text, text, overrides, caller=caller))
    analysis = await run_in_threadpool(
        partial(
            analyse_editor,
            outcome,
            text=text,
            overrides=overrides,
            form=form.multi_items(),
            compare=compare,
            monte_carlo=monte_carlo,
            caller=caller,
        )
    )
    failed = (
        bool(outcome.errors)
        or any(p.error for p in outcome.parameters)
        or any(s.errors for s in analysis.scenarios)
        or bool(analysis.monte_carlo_request.errors)
    )
    fragment = _fragment(request)
    status = 400 if failed and not fragment else 200
    template = "models_result.html.j2" if fragment else "models_edit.html.j2"
    context = _editor(text, outcome, analysis)
    return await run_in_threadpool(render, request, template, context, status)


@router.post(
    "/models/edit",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_TEXT_BODY), CsrfChecked],
)
@router.post(
    "/models/validate",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_TEXT_BODY), CsrfChecked],
)
async def validate_model(request: Request, user: Engineer) -> HTMLResponse:
    return await _evaluate(request, user, with_parameters=False)


@router.post(
    "/models/calculate",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_TEXT_BODY), CsrfChecked],
)
async def calculate_model(request: Request, user: Engineer) -> HTMLResponse:
    return await _evaluate(request, user, with_parameters=True)


@router.post(
    "/models/scenarios",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_TEXT_BODY), CsrfChecked],
)
async def compare_model_scenarios(request: Request, user: Engineer) -> HTMLResponse:
    """The editor's result with its scenarios calculated side by side
    (:func:`openpcf.services.web_scenarios.compare_scenarios`)."""
    return await _evaluate(request, user, with_parameters=True, compare=True)


@router.post(
    "/models/montecarlo",
    response_class=HTMLResponse,
    dependencies=[bounded(MAX_TEXT_BODY), CsrfChecked],
)
async def monte_carlo_model(request: Request, user: Engineer) -> HTMLResponse:
    """The editor's result with a bounded Monte Carlo run of its distributions
    (:func:`openpcf.services.web_analysis.monte_carlo_view`)."""
    return await _evaluate(request, user, with_parameters=True, monte_carlo=True)
